#pragma once
// The net layer's poller: one thread per runtime running a Boost.Asio
// io_context (epoll), made when the first socket is, stopped at shutdown
// after the last process (runtime_services). It never touches a process's
// buffers: a process that would wait asks it to watch the socket for
// readiness, and the poller's handler sends the process a message.
//
// Why a thread of its own and not the schedulers' park path: a scheduler
// parks only when it has nothing to run, so a busy runtime would see no
// socket until it went idle, and polling epoll on every switch is a system
// call per message. One thread that sleeps in epoll_wait costs nothing idle
// and sees readiness at once; what it does for each event is one send.

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <thread>

#include "runtime_services.hpp"

namespace troupe::detail {

class poller final : public runtime_service {
 public:
  poller();
  ~poller() override;
  void stop() noexcept override;

  boost::asio::io_context& io() noexcept { return io_; }

  /// The calling process's runtime's poller (made on first use). From inside
  /// a process only: std::logic_error elsewhere, naming `call`.
  static poller& of_current(const char* call);

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace troupe::detail
