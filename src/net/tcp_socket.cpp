#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "endpoints.hpp"
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
tcp_socket::tcp_socket(std::unique_ptr<detail::socket_state> s) noexcept : state_(std::move(s)) {}
tcp_socket::tcp_socket(tcp_socket&&) noexcept = default;
tcp_socket& tcp_socket::operator=(tcp_socket&&) noexcept = default;
tcp_socket::~tcp_socket() = default;

void tcp_socket::close() noexcept { state_.reset(); }

detail::socket_state& tcp_socket::open_state(const char* call) const {
  if (!state_) throw net_error(std::make_error_code(std::errc::bad_file_descriptor), std::string(call) + ": the socket is closed");
  return *state_;
}

tcp_socket tcp_socket::connect(const endpoint& to, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::connect";
  const auto deadline = deadline_after(timeout);
  const auto target = detail::to_asio(to, call);
  auto s = std::make_unique<detail::socket_state>(troupe::detail::poller::of_current(call).io());
  boost::system::error_code ec;
  s->sock.open(target.protocol(), ec);
  if (ec) throw_errno(ec.value(), call);
  s->sock.non_blocking(true, ec);
  if (ec) throw_errno(ec.value(), call);
  const int fd = s->sock.native_handle();
  if (::connect(fd, target.data(), static_cast<socklen_t>(target.size())) != 0) {
    if (errno != EINPROGRESS) throw_errno(errno, call);
    // Connected (or refused) once the socket is writable.
    until_ready(s->sock, wait::wait_write, deadline, s->waits, call, [fd, call]() -> std::optional<bool> {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno(errno, call);
      if (err != 0) throw_errno(err, call);
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 0) == 1) return true;
      return std::nullopt;
    });
  }
  // Small messages go out at once, as Go's sockets do by default.
  s->sock.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  return tcp_socket(std::move(s));
}

std::size_t tcp_socket::read_some(std::span<std::byte> into, std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_socket::read_some";
  detail::socket_state& s = open_state(call);
  troupe::consume_reductions(1);  // a process reading a fast socket in a loop still yields
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
  detail::socket_state& s = open_state(call);
  troupe::consume_reductions(1);
  const int fd = s.sock.native_handle();
  const auto deadline = deadline_after(timeout);
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
  if (payload.size() > 0xffffffffu) {
    throw net_error(std::make_error_code(std::errc::message_size), "tcp_socket::write_packet: over 4 GiB");
  }
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::string frame;
  frame.reserve(4 + payload.size());
  frame.push_back(static_cast<char>(size >> 24));
  frame.push_back(static_cast<char>(size >> 16));
  frame.push_back(static_cast<char>(size >> 8));
  frame.push_back(static_cast<char>(size));
  frame.append(payload);
  write_all(std::string_view(frame), timeout);
}

endpoint tcp_socket::local_endpoint() const {
  boost::system::error_code ec;
  const auto e = open_state("tcp_socket::local_endpoint").sock.local_endpoint(ec);
  if (ec) throw_errno(ec.value(), "tcp_socket::local_endpoint");
  return detail::from_asio(e);
}

endpoint tcp_socket::remote_endpoint() const {
  boost::system::error_code ec;
  const auto e = open_state("tcp_socket::remote_endpoint").sock.remote_endpoint(ec);
  if (ec) throw_errno(ec.value(), "tcp_socket::remote_endpoint");
  return detail::from_asio(e);
}

int tcp_socket::native_handle() const { return open_state("tcp_socket::native_handle").sock.native_handle(); }

}  // namespace troupe::net
