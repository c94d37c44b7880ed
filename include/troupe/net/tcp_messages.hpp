#pragma once
// The messages an active socket sends its owner (Erlang's {tcp, S, Data},
// {tcp_closed, S}, {tcp_error, S, Reason}, {tcp_passive, S}), and the modes
// that say how many it may send. See tcp_socket::set_active and docs/io.md.

#include <cstdint>
#include <string>
#include <system_error>

#include <fmt/format.h>

namespace troupe::net {

/// Names a socket in the messages it sends (tcp_socket::id()); unique for
/// the life of the program.
struct socket_id {
  std::uint64_t value = 0;
  friend bool operator==(socket_id, socket_id) = default;
};

/// Data that arrived: one frame under framing::packet4 or framing::line (the
/// line with its '\n'), what one read gave under framing::raw.
struct tcp_data {
  socket_id socket;
  std::string data;
};
/// The peer closed the connection; nothing more will come.
struct tcp_closed {
  socket_id socket;
};
/// Reading failed (a reset peer: std::errc::connection_reset; a frame over
/// the limit: std::errc::message_size); a tcp_closed follows.
struct tcp_error {
  socket_id socket;
  std::error_code error;
};
/// An active_n count ran out: the socket is passive again.
struct tcp_passive {
  socket_id socket;
};

/// How many messages a socket may send before it goes passive.
struct active_mode {
  enum class kind : std::uint8_t { passive, once, always, count };
  kind k = kind::passive;
  std::int64_t n = 0;  // for kind::count
  friend bool operator==(active_mode, active_mode) = default;
};
/// No messages; reads are calls (read_some, read_packet).
inline constexpr active_mode passive{active_mode::kind::passive};
/// One message, then passive ({active, once}).
inline constexpr active_mode active_once{active_mode::kind::once};
/// Every message as it comes, with no flow control ({active, true}).
inline constexpr active_mode active_always{active_mode::kind::always};
/// `n` more messages (added to what is left, as {active, N}), then a
/// tcp_passive message and passive; a total of 0 or less is passive at once.
constexpr active_mode active_n(std::int64_t n) { return active_mode{active_mode::kind::count, n}; }

/// How an active socket cuts what it reads into messages.
enum class framing : std::uint8_t {
  raw,      // what each read gives ({packet, raw})
  packet4,  // a 4-byte big-endian length, then that many bytes ({packet, 4})
  line,     // up to and including each '\n' ({packet, line})
};

}  // namespace troupe::net

template <>
struct fmt::formatter<troupe::net::socket_id> : fmt::formatter<std::uint64_t> {
  template <class Ctx>
  auto format(troupe::net::socket_id s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "#Socket<{}>", s.value);
  }
};
