// Failure model, stack overflow inside a runtime call: a process that runs
// out of stack in a call that takes a lock (the names table, a process's
// links and monitors, the logger) dies with stack_overflow and leaves the
// lock free. Its frames are never unwound, so a lock held at the overflow
// would block the next caller's scheduler thread, and shutdown, for good.

#include <fmt/format.h>

#include <alloca.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "overflow_support.hpp"
#include "test_support.hpp"

#if defined(__SANITIZE_ADDRESS__)
// An overflowed process is abandoned, not unwound (docs/failure.md): what its
// frames had allocated from the global heap, the calls' own strings and
// closures included, is lost by design.
extern "C" const char* __lsan_default_suppressions() { return "leak:troupe_test::recurse_calling\n"; }
#endif

namespace {

using namespace troupe_test;
using kind = troupe::exit_kind;

class FailureOverflowLocksTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureOverflowLocksTest);

// Runs `body` on a plain thread; a hang (a lock left taken) fails the test
// and ends the program, since the stuck threads cannot be joined.
template <class F>
void within_hang_timeout(const char* what, F body) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([done, body]() mutable {
    try {
      body();
      done->set_value();
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  }).detach();
  if (finished.wait_for(hang_timeout) != std::future_status::ready) {
    ADD_FAILURE() << what << ": hung (a lock left taken by an overflowed process)";
    std::fflush(nullptr);
    std::_Exit(1);
  }
  finished.get();
}

struct locked_call {
  const char* name;
  std::function<void(troupe::pid other, int depth)> call;
};

std::vector<locked_call> locked_calls() {
  return {
      {"whereis", [](troupe::pid, int) { (void)troupe::whereis("overflow-locks-target"); }},
      {"register_name",
       [](troupe::pid, int depth) {
         // Not fmt: its frames carry no frame pointers, and the leak
         // suppression above needs the whole stack.
         const std::string name = "overflow-locks-" + std::to_string(troupe::self().index()) + "." +
                                  std::to_string(troupe::self().generation()) + "-" + std::to_string(depth);
         troupe::register_name(name, troupe::self());
         troupe::unregister(name);
       }},
      {"registered_name", [](troupe::pid other, int) { (void)troupe::registered_name(other); }},
      {"monitor", [](troupe::pid other, int) { troupe::demonitor(troupe::monitor(other)); }},
      {"monitor by name", [](troupe::pid, int) { troupe::demonitor(troupe::monitor("overflow-locks-target")); }},
      {"link", [](troupe::pid other, int) {
         troupe::link(other);
         troupe::unlink(other);
       }},
      {"process_info", [](troupe::pid other, int) { (void)troupe::process_info(other); }},
      {"is_process_alive", [](troupe::pid other, int) { (void)troupe::is_process_alive(other); }},
      {"logger", [](troupe::pid, int) { (void)troupe::logger(); }},
      {"spawn", [](troupe::pid, int) { troupe::spawn([] {}); }},
  };
}

// Each call, from processes whose frames start at different offsets (so the
// overflow falls at different points of the call), then every call again
// from a healthy process: none may block.
TEST_P(FailureOverflowLocksTest, OverflowInsideALockedCallLeavesTheLockFree) {
  log_capture quiet;
  for (const locked_call& c : locked_calls()) {
    SCOPED_TRACE(c.name);
    within_hang_timeout(c.name, [this, &c] {
      const int overflowed = rt().run([&c] {
        // Traps exits: the overflowing processes link to it.
        const troupe::pid other = troupe::spawn([] {
          troupe::trap_exit(true);
          troupe::register_name("overflow-locks-target", troupe::self());
          while (!troupe::receive([](const std::string& s) { return s == "stop"; })) {
          }
        });
        while (!troupe::whereis("overflow-locks-target")) troupe::yield();
        constexpr int processes = 16;
        std::vector<troupe::monitor_ref> refs;
        for (int i = 0; i < processes; ++i) {
          refs.push_back(troupe::spawn_monitor([&c, other, i] {
                           volatile char* shift = static_cast<char*>(alloca(static_cast<std::size_t>(i) * 48 + 1));
                           shift[0] = 0;
                           (void)recurse_calling(0, [&c, other](int depth) { c.call(other, depth); });
                         }).second);
        }
        int n = 0;
        for (auto ref : refs) {
          const troupe::exit_reason why = recv_down(ref).reason;
          EXPECT_TRUE(why.is(kind::stack_overflow)) << fmt::format("{}", why);
          n += why.is(kind::stack_overflow);
        }
        // The same calls from a process with room to spare.
        for (const locked_call& again : locked_calls()) again.call(other, 1'000'000);
        troupe::send(other, std::string("stop"));
        wait_gone(other);  // and its name with it, for the next round
        return n;
      });
      EXPECT_EQ(overflowed, 16) << "every overflow ends its process with stack_overflow";
    });
  }
}

}  // namespace
