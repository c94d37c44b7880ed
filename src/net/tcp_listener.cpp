#include <sys/socket.h>

#include <unistd.h>

#include <cerrno>
#include <optional>

#include "endpoints.hpp"
#include "poller.hpp"
#include "readiness.hpp"
#include "socket_state.hpp"
#include "troupe/net/tcp.hpp"
#include "troupe/process.hpp"

namespace troupe::net {

using detail::throw_errno;

tcp_listener::tcp_listener() noexcept = default;
tcp_listener::tcp_listener(tcp_listener&&) noexcept = default;
tcp_listener& tcp_listener::operator=(tcp_listener&&) noexcept = default;
tcp_listener::~tcp_listener() = default;

void tcp_listener::close() noexcept { state_.reset(); }

tcp_listener tcp_listener::listen(const endpoint& at, int backlog) {
  constexpr const char* call = "tcp_listener::listen";
  const auto where = detail::to_asio(at, call);
  auto s = std::make_unique<detail::listener_state>(troupe::detail::poller::of_current(call).io());
  boost::system::error_code ec;
  auto check = [&] {
    if (ec) throw_errno(ec.value(), call);
  };
  s->acceptor.open(where.protocol(), ec);
  check();
  s->acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  check();
  s->acceptor.bind(where, ec);
  check();
  s->acceptor.listen(backlog, ec);
  check();
  s->acceptor.non_blocking(true, ec);
  check();
  tcp_listener l;
  l.state_ = std::move(s);
  return l;
}

tcp_socket tcp_listener::accept(std::chrono::nanoseconds timeout) {
  constexpr const char* call = "tcp_listener::accept";
  if (!state_) throw net_error(std::make_error_code(std::errc::bad_file_descriptor), "tcp_listener::accept: the listener is closed");
  detail::listener_state& s = *state_;
  troupe::consume_reductions(1);
  const int lfd = s.acceptor.native_handle();
  const int fd = detail::until_ready(s.acceptor, boost::asio::socket_base::wait_read, detail::deadline_after(timeout),
                                     s.waits, call, [lfd, call]() -> std::optional<int> {
                                       for (;;) {
                                         const int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                                         if (c >= 0) return c;
                                         // A connection reset before it was taken: the next one.
                                         if (errno == EINTR || errno == ECONNABORTED) continue;
                                         if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
                                         // EMFILE, ENFILE: the caller's to handle (close something,
                                         // accept again); the listener stays as it was.
                                         throw_errno(errno, call);
                                       }
                                     });
  auto c = std::make_shared<detail::socket_state>(s.io);
  boost::system::error_code ec;
  c->sock.assign(s.acceptor.local_endpoint(ec).protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    throw_errno(ec.value(), call);
  }
  c->sock.non_blocking(true, ec);
  c->sock.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  return tcp_socket(std::move(c));
}

endpoint tcp_listener::local_endpoint() const {
  if (!state_) throw net_error(std::make_error_code(std::errc::bad_file_descriptor), "tcp_listener::local_endpoint: the listener is closed");
  boost::system::error_code ec;
  const auto e = state_->acceptor.local_endpoint(ec);
  if (ec) throw_errno(ec.value(), "tcp_listener::local_endpoint");
  return detail::from_asio(e);
}

}  // namespace troupe::net
