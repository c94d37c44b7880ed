#include "framing.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#include "troupe/net/tcp.hpp"

namespace troupe::net::detail {

std::array<char, 4> packet_header(std::size_t size, const char* call) {
  if (size > 0xffffffffu) throw net_error(std::make_error_code(std::errc::message_size), std::string(call) + ": over 4 GiB");
  const auto n = static_cast<std::uint32_t>(size);
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

std::optional<std::string> next_frame(read_buffer& b, framing f, std::size_t max_frame, std::error_code& error) {
  const char* p = b.bytes.data() + b.start;
  const std::size_t have = b.size();
  if (have == 0) return std::nullopt;
  std::size_t skip = 0, len = 0;
  switch (f) {
    case framing::raw:
      len = have;
      break;
    case framing::packet4: {
      if (have < 4) return std::nullopt;
      const auto* h = reinterpret_cast<const unsigned char*>(p);
      len = (std::size_t{h[0]} << 24) | (std::size_t{h[1]} << 16) | (std::size_t{h[2]} << 8) | std::size_t{h[3]};
      if (len > max_frame) {
        error = std::make_error_code(std::errc::message_size);
        return std::nullopt;
      }
      if (have - 4 < len) return std::nullopt;
      skip = 4;
      break;
    }
    case framing::line: {
      const void* nl = std::memchr(p, '\n', have);
      if (!nl) {
        if (have > max_frame) error = std::make_error_code(std::errc::message_size);
        return std::nullopt;
      }
      len = static_cast<std::size_t>(static_cast<const char*>(nl) - p) + 1;
      break;
    }
  }
  std::string frame(p + skip, len);
  b.start += skip + len;
  if (b.start == b.bytes.size()) b.clear();
  return frame;
}

}  // namespace troupe::net::detail
