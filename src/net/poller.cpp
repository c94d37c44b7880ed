#include "poller.hpp"

#include <boost/asio/post.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include "runtime_impl.hpp"
#include "troupe/log.hpp"

namespace troupe::detail {

namespace {

// A handler only sends a message; if even that threw (no memory), the
// others go on.
template <class Run>
std::size_t run_guarded(Run&& run) noexcept {
  for (;;) {
    try {
      return run();
    } catch (const std::exception& e) {
      logger()->error("troupe poller: a socket's handler threw: {}", e.what());
    } catch (...) {
      logger()->error("troupe poller: a socket's handler threw");
    }
  }
}

}  // namespace

poller::poller(runtime_impl& rt) : rt_(rt), work_(io_.get_executor()) { rt_.events.attach(this); }

poller::~poller() { stop(); }

void poller::stop() noexcept {
  if (stopped_) return;
  stopped_ = true;
  rt_.events.detach();  // no scheduler is in io_ after this
  work_.reset();
  io_.stop();
}

bool poller::poll() noexcept {
  return run_guarded([this] { return io_.poll(); }) != 0;
}

void poller::wait(std::int64_t timeout_ns) noexcept {
  const std::size_t ran = run_guarded([&]() -> std::size_t {
    if (timeout_ns < 0) return io_.run_one();
    return io_.run_one_for(std::chrono::nanoseconds(timeout_ns));
  });
  if (ran != 0) poll();  // the rest of what epoll_wait returned
}

void poller::interrupt() noexcept {
  try {
    boost::asio::post(io_, [] {});  // the wait runs it and returns
  } catch (...) {
    // No memory for the wake-up: the waiter wakes at its next timer or
    // socket event, and a scheduler looks at its queue before it parks.
  }
}

namespace {
const char poller_key = 0;
}

poller& poller::of_current(const char* call) {
  scheduler* s = current_scheduler();
  if (!s || !s->current) throw std::logic_error(std::string(call) + ": must be called from inside a process");
  return s->rt.services.get<poller>(&poller_key, s->rt, [](runtime_impl& rt) { return std::make_unique<poller>(rt); });
}

}  // namespace troupe::detail
