#pragma once
// How a process waits for a socket: it asks the poller to watch the socket
// for readiness (a Boost.Asio async_wait, which does no I/O itself) and
// waits in a receive for the message the poller's handler sends when the
// socket is ready. So the wait suspends only the process, an exit signal
// ends it as it ends any receive, and the poller never holds a pointer into
// the process: the handler carries the process's pid and the wait's number.
//
// The poller watches edges (epoll's EPOLLET): data that arrived after the
// process's last attempt but before the watch began makes no edge for it.
// So a process tries once more after arming the watch; if that attempt goes
// through, it takes the watch back (and its message) before it returns, so
// no message of the poller's is ever left in a mailbox.

#include <boost/asio/socket_base.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

#include "troupe/net/tcp.hpp"

namespace troupe::net::detail {

using steady = std::chrono::steady_clock;

/// The deadline `timeout` from now (time_point::max() for forever).
steady::time_point deadline_after(std::chrono::nanoseconds timeout) noexcept;
/// What is left of `deadline` as a timeout (forever for none).
std::chrono::nanoseconds time_left(steady::time_point deadline) noexcept;

/// Throws net_error for `err` (an errno value) in `call`.
[[noreturn]] void throw_errno(int err, const char* call);

/// One readiness watch on an Asio socket or acceptor.
template <class Socket>
class watch {
 public:
  using wait_type = boost::asio::socket_base::wait_type;
  /// Asks the poller to tell this process when `sock` is ready for `what`.
  watch(Socket& sock, wait_type what, std::uint64_t& waits);
  /// Waits for the poller's word; false if `deadline` passed first.
  bool wait(steady::time_point deadline);
  /// Cancels a watch not waited for, and takes its message.
  void take_back();

 private:
  Socket& sock_;
  std::uintptr_t key_;
  std::uint64_t number_;
};

/// Runs `attempt` (a non-blocking try: an optional, empty when the socket
/// would block) until it gives a result, waiting for readiness for `what`
/// between tries; net_error(timed_out, call) once `deadline` passes.
template <class Socket, class Attempt>
auto until_ready(Socket& sock, boost::asio::socket_base::wait_type what, steady::time_point deadline,
                 std::uint64_t& waits, const char* call, Attempt&& attempt) {
  for (;;) {
    if (auto done = attempt()) return *done;
    watch<Socket> w(sock, what, waits);
    if (auto done = attempt()) {  // it became ready before the watch began
      w.take_back();
      return *done;
    }
    if (!w.wait(deadline)) {
      w.take_back();
      throw net_error(std::make_error_code(std::errc::timed_out), call);
    }
  }
}

}  // namespace troupe::net::detail
