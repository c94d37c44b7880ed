#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "endpoints.hpp"
#include "inbound.hpp"
#include "outbound.hpp"
#include "poller.hpp"
#include "readiness.hpp"
#include "socket_state.hpp"
#include "troupe/net/tcp.hpp"
#include "troupe/process.hpp"

namespace troupe::net {

using detail::deadline_after;
using detail::until_ready;
using detail::throw_errno;
using wait = boost::asio::socket_base::wait_type;

tcp_socket::tcp_socket() noexcept = default;
tcp_socket::tcp_socket(std::shared_ptr<detail::socket_state> s) noexcept : state_(std::move(s)) {
  state_->owner = troupe::self();
}
tcp_socket::tcp_socket(tcp_socket&& o) noexcept : state_(std::move(o.state_)) {}
tcp_socket& tcp_socket::operator=(tcp_socket&& o) noexcept {
  if (this != &o) {
    close();
    state_ = std::move(o.state_);
  }
  return *this;
}
tcp_socket::~tcp_socket() { close(); }

void tcp_socket::close() noexcept {
  if (auto s = std::move(state_)) detail::close_after_output(s);
}

const std::shared_ptr<detail::socket_state>& tcp_socket::open_state(const char* call) const {
  if (!state_) throw net_error(std::make_error_code(std::errc::bad_file_descriptor), std::string(call) + ": the socket is closed");
  return state_;
}

tcp_socket tcp_socket::connect(const endpoint& to, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::connect";
  const auto deadline = deadline_after(timeout);
  const auto target = detail::to_asio(to, call);
  auto s = std::make_shared<detail::socket_state>(troupe::detail::poller::of_current(call).io());
  boost::system::error_code ec;
  s->sock.open(target.protocol(), ec);
  if (ec) throw_errno(ec.value(), call);
  s->sock.non_blocking(true, ec);
  if (ec) throw_errno(ec.value(), call);
  const int fd = s->sock.native_handle();
  if (::connect(fd, target.data(), static_cast<socklen_t>(target.size())) != 0) {
    if (errno != EINPROGRESS) throw_errno(errno, call);
    // Done once poll reports the socket (writable, or an error or hang-up),
    // and refused if it then has an error. In that order: the error is set
    // before the socket is reported, and a refusal that came between an
    // error check and a poll looked like a connection.
    until_ready(s->sock, wait::wait_write, deadline, s->waits, call, [fd, call]() -> std::optional<bool> {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 0) != 1) return std::nullopt;
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno(errno, call);
      if (err != 0) throw_errno(err, call);
      return true;
    });
  }
  // Small messages go out at once, as Go's sockets do by default.
  s->sock.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  return tcp_socket(std::move(s));
}

std::size_t tcp_socket::read_some(std::span<std::byte> into, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::read_some";
  return read_direct(*open_state(call), into, timeout, call);
}

std::size_t tcp_socket::read_direct(detail::socket_state& s, std::span<std::byte> into,
                                    std::chrono::nanoseconds timeout, const char* call) {
  troupe::consume_reductions(1);  // a process reading a fast socket in a loop still yields
  detail::passive_read token(s, call);
  if (auto ahead = token.take_read_ahead(into)) return *ahead;
  const int fd = s.sock.native_handle();
  return until_ready(s.sock, wait::wait_read, deadline_after(timeout), s.waits, call,
                     [&]() -> std::optional<std::size_t> {
                       for (;;) {
                         const ssize_t n = ::recv(fd, into.data(), into.size(), MSG_DONTWAIT);
                         if (n >= 0) return static_cast<std::size_t>(n);
                         if (errno == EINTR) continue;
                         if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
                         throw_errno(errno, call);
                       }
                     });
}

void tcp_socket::read_exact(std::span<std::byte> into, std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  while (!into.empty()) {
    const std::size_t n = read_some(into, detail::time_left(deadline));
    if (n == 0) {
      throw net_error(std::make_error_code(std::errc::connection_aborted),
                      "tcp_socket::read_exact: the peer closed the connection");
    }
    into = into.subspan(n);
  }
}

void tcp_socket::write_all(std::span<const std::byte> data, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::write_all";
  const auto& sp = open_state(call);
  detail::socket_state& s = *sp;
  troupe::consume_reductions(1);
  const int fd = s.sock.native_handle();
  const auto deadline = deadline_after(timeout);
  detail::drain(sp, deadline, call);  // what was sent before goes first
  while (!data.empty()) {
    const std::size_t sent = until_ready(s.sock, wait::wait_write, deadline, s.waits, call,
                                         [&]() -> std::optional<std::size_t> {
                                           for (;;) {
                                             const ssize_t n = ::send(fd, data.data(), data.size(),
                                                                      MSG_DONTWAIT | MSG_NOSIGNAL);
                                             if (n >= 0) return static_cast<std::size_t>(n);
                                             if (errno == EINTR) continue;
                                             if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
                                             throw_errno(errno, call);
                                           }
                                         });
    data = data.subspan(sent);
  }
}

std::string tcp_socket::read_packet(std::chrono::nanoseconds timeout, std::size_t max_size) {
  const auto deadline = deadline_after(timeout);
  unsigned char header[4];
  read_exact(std::as_writable_bytes(std::span(header)), detail::time_left(deadline));
  const std::size_t size = (std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) |
                           (std::size_t{header[2]} << 8) | std::size_t{header[3]};
  if (size > max_size) {
    throw net_error(std::make_error_code(std::errc::message_size),
                    "tcp_socket::read_packet: a packet of " + std::to_string(size) + " bytes (the limit is " +
                        std::to_string(max_size) + ")");
  }
  std::string payload(size, '\0');
  read_exact(std::as_writable_bytes(std::span(payload.data(), payload.size())), detail::time_left(deadline));
  return payload;
}

void tcp_socket::write_packet(std::string_view payload, std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  send_packet(payload, detail::time_left(deadline));
  flush(detail::time_left(deadline));
}

endpoint tcp_socket::local_endpoint() const {
  boost::system::error_code ec;
  const auto e = open_state("tcp_socket::local_endpoint")->sock.local_endpoint(ec);
  if (ec) throw_errno(ec.value(), "tcp_socket::local_endpoint");
  return detail::from_asio(e);
}

endpoint tcp_socket::remote_endpoint() const {
  boost::system::error_code ec;
  const auto e = open_state("tcp_socket::remote_endpoint")->sock.remote_endpoint(ec);
  if (ec) throw_errno(ec.value(), "tcp_socket::remote_endpoint");
  return detail::from_asio(e);
}

int tcp_socket::native_handle() const { return open_state("tcp_socket::native_handle")->sock.native_handle(); }

std::string tcp_socket::read_line(std::chrono::nanoseconds timeout, std::size_t max_size) {
  constexpr const char* call = "tcp_socket::read_line";
  const auto& sp = open_state(call);
  detail::socket_state& s = *sp;
  const auto deadline = deadline_after(timeout);
  // What follows the line waits in the read-ahead buffer for the next read.
  for (;;) {
    {
      std::lock_guard lock(s.mu);
      std::error_code too_long;
      if (auto line = detail::next_frame(s.in.buffer, framing::line, max_size, too_long)) {
        detail::recharge(s);
        return std::move(*line);
      }
      if (too_long) throw net_error(too_long, std::string(call) + ": no newline within " + std::to_string(max_size) + " bytes");
    }
    char chunk[4096];
    const std::size_t n = read_direct(s, std::as_writable_bytes(std::span(chunk)), detail::time_left(deadline), call);
    std::lock_guard lock(s.mu);
    if (n == 0) {
      std::string rest(s.in.buffer.bytes, s.in.buffer.start);
      if (rest.empty()) throw net_error(std::make_error_code(std::errc::connection_aborted), std::string(call) + ": the peer closed the connection");
      s.in.buffer.clear();
      detail::recharge(s);
      return rest;
    }
    s.in.buffer.append(chunk, n);
    detail::recharge(s);
  }
}

void tcp_socket::send(std::span<const std::byte> data, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::send";
  troupe::consume_reductions(1);
  detail::queue_send(open_state(call), std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), {},
                     deadline_after(timeout), call);
}

void tcp_socket::send_packet(std::string_view payload, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::send_packet";
  const auto header = detail::packet_header(payload.size(), call);
  troupe::consume_reductions(1);
  detail::queue_send(open_state(call), std::string_view(header.data(), header.size()), payload, deadline_after(timeout),
                     call);
}

void append_packet(std::string& out, std::string_view payload) {
  const auto header = detail::packet_header(payload.size(), "troupe::net::append_packet");
  out.append(header.data(), header.size());
  out.append(payload);
}

void tcp_socket::flush(std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::flush";
  detail::drain(open_state(call), deadline_after(timeout), call);
}

void tcp_socket::set_send_buffer(std::size_t limit, when_full policy) {
  const auto& sp = open_state("tcp_socket::set_send_buffer");
  std::lock_guard lock(sp->mu);
  sp->out.limit = limit;
  sp->out.fail_when_full = policy == when_full::fail;
}

void tcp_socket::set_active(active_mode mode) {
  constexpr const char* call = "tcp_socket::set_active";
  if (mode.k == active_mode::kind::count && mode.n < -(std::int64_t{1} << 40)) {
    throw net_error(std::make_error_code(std::errc::invalid_argument), std::string(call) + ": a count out of range");
  }
  detail::set_active(open_state(call), mode);
}

void tcp_socket::set_framing(framing f, std::size_t max_frame) {
  const auto& sp = open_state("tcp_socket::set_framing");
  std::lock_guard lock(sp->mu);
  sp->in.frames = f;
  sp->in.max_frame = max_frame;
}

void tcp_socket::controlling_process(troupe::pid new_owner) {
  constexpr const char* call = "tcp_socket::controlling_process";
  const auto& sp = open_state(call);
  std::lock_guard lock(sp->mu);
  if (sp->owner != troupe::self()) {
    throw net_error(std::make_error_code(std::errc::operation_not_permitted),
                    std::string(call) + ": only the socket's owner may hand it on");
  }
  detail::transfer_charge(*sp, new_owner);
}

troupe::pid tcp_socket::owner() const {
  const auto& sp = open_state("tcp_socket::owner");
  std::lock_guard lock(sp->mu);
  return sp->owner;
}

socket_id tcp_socket::id() const { return open_state("tcp_socket::id")->id; }

}  // namespace troupe::net
