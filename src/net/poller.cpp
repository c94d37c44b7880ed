#include "poller.hpp"

#include <pthread.h>

#include <stdexcept>
#include <string>

#include "runtime_impl.hpp"
#include "troupe/log.hpp"

namespace troupe::detail {

poller::poller() : work_(io_.get_executor()) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "troupe-poller");
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        // A handler only sends a message; if even that threw (no memory),
        // the poller goes on for the other sockets.
        logger()->error("troupe-poller: a handler threw: {}", e.what());
      }
    }
  });
}

poller::~poller() { stop(); }

void poller::stop() noexcept {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
}

namespace {
const char poller_key = 0;
}

poller& poller::of_current(const char* call) {
  scheduler* s = current_scheduler();
  if (!s || !s->current) throw std::logic_error(std::string(call) + ": must be called from inside a process");
  return s->rt.services.get<poller>(&poller_key, s->rt, [](runtime_impl&) { return std::make_unique<poller>(); });
}

}  // namespace troupe::detail
