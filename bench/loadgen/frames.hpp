#pragma once
// {packet,4} framing: a 4-byte big-endian length, then that many bytes.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "fail.hpp"

namespace loadgen {

inline constexpr std::size_t header_size = 4;

inline void put_u32be(char* p, std::uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

inline std::uint32_t get_u32be(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} << 24 | std::uint32_t{u[1]} << 16 | std::uint32_t{u[2]} << 8 | std::uint32_t{u[3]};
}

// One per connection. A read takes whatever the kernel holds, often many
// frames (a chat client gets batches of deliveries), and next() hands them
// out in place: no copy and no allocation per frame.
class frame_reader {
 public:
  explicit frame_reader(std::size_t capacity) : buf_(new char[capacity]), cap_(capacity) {}

  // Where the next read goes. A partial frame left behind by next() is
  // moved to the front first, so that there is room to complete it (it is
  // at most one frame: a few bytes to move, once per read).
  std::span<char> space() {
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {buf_.get() + end_, cap_ - end_};
  }

  void commit(std::size_t n) { end_ += n; }

  // The next complete frame's payload, or false if none is complete yet.
  bool next(std::span<const char>& payload) {
    if (end_ - begin_ < header_size) return false;
    const std::size_t len = get_u32be(buf_.get() + begin_);
    if (len + header_size > cap_)
      fail("received a frame of %zu bytes, more than this workload ever sends (stream out of sync?)", len);
    if (end_ - begin_ < header_size + len) return false;
    payload = {buf_.get() + begin_ + header_size, len};
    begin_ += header_size + len;
    return true;
  }

  // Bytes received but not yet handed out (a partial frame).
  std::size_t pending() const { return end_ - begin_; }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t cap_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace loadgen
