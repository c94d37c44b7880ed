#pragma once
// The net layer's poller: a Boost.Asio io_context (epoll) per runtime, made
// when the first socket is and attached to the runtime as its event source
// (src/core/event_source.hpp), so the schedulers themselves poll it. It
// never touches a process's buffers: a process that would wait asks it to
// watch the socket for readiness, and the watch's handler sends the process
// a message.
//
// Why the schedulers and not a thread of its own: a poller thread was a
// third thread on two cores, and every readiness it saw was handed to a
// scheduler (a send, often a futex wake) before the process could read; on
// tcp_echo a runtime with one scheduler beat one with two by 15 %. Now the
// handler runs on the scheduler that runs the process next. A scheduler
// looks at the sockets (epoll_wait without waiting) whenever its queue runs
// dry, the first to park sleeps in epoll_wait, and the watchdog looks if no
// scheduler has for a millisecond: the idle runtime sleeps, and a busy one
// sees many sockets per system call.

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "event_source.hpp"
#include "runtime_services.hpp"

namespace troupe::detail {

class runtime_impl;

class poller final : public runtime_service, public event_source {
 public:
  explicit poller(runtime_impl& rt);
  ~poller() override;
  void stop() noexcept override;

  bool poll() noexcept override;
  void wait(std::int64_t timeout_ns) noexcept override;
  void interrupt() noexcept override;

  boost::asio::io_context& io() noexcept { return io_; }

  /// The calling process's runtime's poller (made on first use). From inside
  /// a process only: std::logic_error elsewhere, naming `call`.
  static poller& of_current(const char* call);

 private:
  runtime_impl& rt_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  bool stopped_ = false;
};

}  // namespace troupe::detail
