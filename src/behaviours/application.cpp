// troupe::application: the top supervisor and the signals that stop it.

#include "troupe/application.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "troupe/links.hpp"
#include "troupe/log.hpp"
#include "troupe/receive.hpp"

namespace troupe {

namespace {

struct stop_request {};

// The application's process while it runs (null otherwise), and whether a
// stop was asked before it could take it.
std::atomic<std::uint64_t> running_app{0};
std::atomic<bool> stop_asked{false};

pid app_pid() noexcept {
  const std::uint64_t v = running_app.load(std::memory_order_acquire);
  return pid(static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(v >> 32));
}

int supervise(const std::function<start_result<pid>()>& start_top) {
  trap_exit(true);
  const start_result<pid> top = start_top();
  if (!top) {
    logger()->error("application: the top supervisor did not start: {}", top);
    return 1;
  }
  const pid me = self();
  running_app.store((std::uint64_t{me.generation()} << 32) | me.index(), std::memory_order_release);
  const pid sup = top.handle();
  if (stop_asked.exchange(false)) send(me, stop_request{});
  const bool asked = receive([](stop_request) { return true; },
                             when([sup](const exit_message& e) { return e.from == sup; },
                                  [](exit_message e) {
                                    logger()->error("application: the top supervisor exited: {}", e.reason);
                                    return false;
                                  }));
  running_app.store(0, std::memory_order_release);
  if (!asked) return 1;
  exit(sup, exit_reason::shutdown());
  receive(when([sup](const exit_message& e) { return e.from == sup; }, [](exit_message) {}));
  return 0;
}

}  // namespace

int application::run(std::function<start_result<pid>()> start_top, runtime_options options) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  // Blocked before the schedulers start, so that every runtime thread
  // inherits the mask and the waiter below is the one that takes them.
  pthread_sigmask(SIG_BLOCK, &set, &old);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    while (!done.load(std::memory_order_acquire)) {
      timespec tick{0, 50'000'000};
      if (sigtimedwait(&set, nullptr, &tick) > 0) application::stop();
    }
  });
  int status = 1;
  stop_asked.store(false, std::memory_order_release);
  try {
    runtime rt(options);
    status = rt.run([&] { return supervise(start_top); });
  } catch (const std::exception& e) {
    logger()->error("application: {}", e.what());
    status = 1;
  }
  done.store(true, std::memory_order_release);
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return status;
}

void application::stop() noexcept {
  stop_asked.store(true, std::memory_order_release);
  const pid p = app_pid();
  if (!p) return;
  try {
    send(p, stop_request{});
  } catch (...) {
  }
}

}  // namespace troupe
