#pragma once
// Cutting the bytes an active socket read into the messages it sends.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

#include "troupe/net/tcp_messages.hpp"

namespace troupe::net::detail {

/// Bytes read and not yet cut; `start` moves instead of erasing, so taking
/// many small frames out of one read costs one compaction.
struct read_buffer {
  std::string bytes;
  std::size_t start = 0;
  [[nodiscard]] std::size_t size() const noexcept { return bytes.size() - start; }
  void append(const char* p, std::size_t n) {
    if (start != 0 && start >= bytes.size() / 2) {
      bytes.erase(0, start);
      start = 0;
    }
    bytes.append(p, n);
  }
  void clear() noexcept {
    bytes.clear();
    start = 0;
    if (bytes.capacity() > 4096) std::string().swap(bytes);  // an idle socket keeps no big buffer
  }
};

/// The 4-byte big-endian length that starts a `{packet, 4}` frame of `size`
/// bytes; net_error(message_size) naming `call` over 4 GiB.
std::array<char, 4> packet_header(std::size_t size, const char* call);

/// The next whole frame, taken from `b`; nullopt if none has come yet.
/// Sets `error` (message_size) for a frame over `max_frame`.
std::optional<std::string> next_frame(read_buffer& b, framing f, std::size_t max_frame, std::error_code& error);

}  // namespace troupe::net::detail
