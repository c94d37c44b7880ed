#pragma once
// TCP for processes: a process per connection, as in Erlang's gen_tcp in
// passive mode. Every call that would wait (accept, connect, a read with no
// data yet, a write to a full socket) suspends only the calling process: the
// runtime's poller (epoll, polled by the schedulers themselves) watches the
// socket and wakes the process when it is ready, and an exit signal ends the
// wait like any receive. See docs/io.md.
//
//   troupe::net::tcp_listener l = troupe::net::tcp_listener::listen({"127.0.0.1", 0});
//   troupe::net::tcp_socket c = l.accept();
//   std::array<std::byte, 4096> buf;
//   while (std::size_t n = c.read_some(buf)) c.write_all({buf.data(), n});
//
// Errors are exceptions (net_error, a std::system_error): a refused connect
// is std::errc::connection_refused, a reset peer std::errc::connection_reset,
// a deadline that passes std::errc::timed_out, an accept with no descriptors
// left std::errc::too_many_files_open. Each stays in the process that made
// the call. Sockets close when destroyed, so a process that ends, however it
// ends, closes those it holds.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "troupe/net/tcp_messages.hpp"
#include "troupe/pid.hpp"

namespace troupe::net {

/// A socket call that failed: code() says why (a std::errc, or the system's
/// errno in std::system_category()), what() which call.
class net_error : public std::system_error {
 public:
  using std::system_error::system_error;
};

/// An IPv4 or IPv6 address literal and a port ("127.0.0.1", "::1").
struct endpoint {
  std::string address;
  std::uint16_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// No deadline.
inline constexpr std::chrono::nanoseconds forever = std::chrono::nanoseconds::max();

namespace detail {
struct socket_state;
struct listener_state;
}  // namespace detail

/// What a send to a full send buffer does (tcp_socket::set_send_buffer).
enum class when_full : std::uint8_t {
  wait,  // waits for room, up to the send's timeout
  fail,  // throws net_error(std::errc::no_buffer_space) at once
};

/// A connected TCP socket. Move-only; closes when destroyed. Its calls must
/// be made from inside a process (std::logic_error otherwise), one process at
/// a time: the one that holds it. The process that made it (accept,
/// connect) owns it: an active socket sends its messages to the owner, and
/// controlling_process hands it on.
class tcp_socket {
 public:
  tcp_socket() noexcept;
  tcp_socket(tcp_socket&&) noexcept;
  tcp_socket& operator=(tcp_socket&&) noexcept;
  ~tcp_socket();

  /// Connects to `to`, waiting at most `timeout`.
  static tcp_socket connect(const endpoint& to, std::chrono::nanoseconds timeout = forever);

  /// Reads what has arrived, at most into.size() bytes, waiting at most
  /// `timeout` for the first byte; 0 when the peer has closed its side.
  std::size_t read_some(std::span<std::byte> into, std::chrono::nanoseconds timeout = forever);
  /// Reads exactly into.size() bytes within `timeout` in all;
  /// std::errc::connection_aborted if the peer closes before they came.
  void read_exact(std::span<std::byte> into, std::chrono::nanoseconds timeout = forever);
  /// Writes all of `data` within `timeout` in all.
  void write_all(std::span<const std::byte> data, std::chrono::nanoseconds timeout = forever);
  void write_all(std::string_view data, std::chrono::nanoseconds timeout = forever) {
    write_all(std::as_bytes(std::span<const char>(data.data(), data.size())), timeout);
  }

  /// `{packet, 4}` framing: a 4-byte big-endian length, then the payload.
  /// read_packet refuses a length over `max_size` (std::errc::message_size).
  std::string read_packet(std::chrono::nanoseconds timeout = forever, std::size_t max_size = 64 << 20);
  void write_packet(std::string_view payload, std::chrono::nanoseconds timeout = forever);
  /// `{packet, line}` framing: the next line, with its '\n'; what is left
  /// when the peer closes without one; std::errc::message_size past
  /// `max_size` bytes without one.
  std::string read_line(std::chrono::nanoseconds timeout = forever, std::size_t max_size = 64 << 10);

  /// Buffered writes, as Erlang's gen_tcp:send: queues `data` and returns.
  /// What a process sends goes to the kernel in one write when it next stops
  /// running (waits, yields or exits), or at once past 64 KiB; what the kernel
  /// cannot take yet, the poller writes when it can, together with whatever
  /// is sent meanwhile. The buffer holds at most set_send_buffer's limit
  /// (1 MiB by default): a send that would overflow it waits for room, at
  /// most `timeout` (std::errc::timed_out), or fails at once
  /// (std::errc::no_buffer_space) if the socket is set to when_full::fail. A
  /// write that failed (a reset peer) fails every send after it.
  void send(std::span<const std::byte> data, std::chrono::nanoseconds timeout = forever);
  void send(std::string_view data, std::chrono::nanoseconds timeout = forever) {
    send(std::as_bytes(std::span<const char>(data.data(), data.size())), timeout);
  }
  /// send() of a `{packet, 4}` frame.
  void send_packet(std::string_view payload, std::chrono::nanoseconds timeout = forever);
  /// Waits until the kernel has taken everything sent so far.
  void flush(std::chrono::nanoseconds timeout = forever);
  /// The send buffer's bound, and what a send that finds it full does.
  void set_send_buffer(std::size_t limit, when_full policy = when_full::wait);

  /// Active mode (Erlang's {active, ...}): the socket sends its owner
  /// tcp_data messages (cut as set_framing says), then tcp_closed (after a
  /// tcp_error if reading failed), so that the owner waits for the socket and
  /// for other messages in one receive. A passive socket reads only when
  /// asked (read_some and the rest, which fail with
  /// std::errc::operation_not_permitted while the socket is active). While
  /// the owner is behind, an active socket reads ahead at most 64 KiB; past
  /// that the peer is held back by TCP itself.
  void set_active(active_mode mode);
  /// How an active socket cuts its data into messages; a frame over
  /// `max_frame` bytes is a tcp_error (std::errc::message_size).
  void set_framing(framing f, std::size_t max_frame = 64 << 20);
  /// Makes `new_owner` the socket's owner: its messages go there from now on
  /// (those already sent stay where they are). Only the owner may call it
  /// (std::errc::operation_not_permitted otherwise). Hand the tcp_socket
  /// itself over too, in a message: whoever holds it closes it.
  void controlling_process(troupe::pid new_owner);
  /// The process its messages go to.
  [[nodiscard]] troupe::pid owner() const;
  /// The socket's name in the messages it sends.
  [[nodiscard]] socket_id id() const;

  /// Closes the connection now (the destructor does the same). Idempotent.
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return state_ != nullptr; }

  [[nodiscard]] endpoint local_endpoint() const;
  [[nodiscard]] endpoint remote_endpoint() const;

  /// The descriptor, for socket options troupe does not wrap (setsockopt);
  /// reading, writing or closing it behind the socket's back is undefined.
  [[nodiscard]] int native_handle() const;

 private:
  friend class tcp_listener;
  explicit tcp_socket(std::shared_ptr<detail::socket_state> s) noexcept;
  const std::shared_ptr<detail::socket_state>& open_state(const char* call) const;
  std::size_t read_direct(detail::socket_state& s, std::span<std::byte> into, std::chrono::nanoseconds timeout,
                          const char* call);
  std::shared_ptr<detail::socket_state> state_;
};

/// Appends `payload` to `out` as a `{packet, 4}` frame. Frames gathered so
/// and sent with one send() arrive as send_packet's would: the chat example
/// passes on the frames of one read that way. std::errc::message_size over
/// 4 GiB.
void append_packet(std::string& out, std::string_view payload);

/// A listening TCP socket. Move-only; closes when destroyed.
class tcp_listener {
 public:
  tcp_listener() noexcept;
  tcp_listener(tcp_listener&&) noexcept;
  tcp_listener& operator=(tcp_listener&&) noexcept;
  ~tcp_listener();

  /// Listens on `at` (port 0: one the system picks; local_endpoint() tells).
  static tcp_listener listen(const endpoint& at, int backlog = 1024);

  /// The next connection, waiting at most `timeout` for one.
  tcp_socket accept(std::chrono::nanoseconds timeout = forever);

  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return state_ != nullptr; }
  [[nodiscard]] endpoint local_endpoint() const;

 private:
  std::unique_ptr<detail::listener_state> state_;
};

}  // namespace troupe::net
