// Failure model, stack overflow: a process that recurses without bound dies
// with reason stack_overflow, its links and monitors fire, every other
// process goes on, and its stack is reused safely afterwards.

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <memory_resource>
#include <stdexcept>
#include <string>
#include <vector>

#include "overflow_support.hpp"
#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureOverflowTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureOverflowTest);

// Bounded recursion that touches every page of `bytes` of stack, for checking
// that a reused stack is whole.
__attribute__((noinline)) std::size_t touch_stack(std::size_t bytes, const volatile char* top = nullptr) {
  volatile char frame[2048];
  for (std::size_t i = 0; i < sizeof(frame); i += 256) frame[i] = static_cast<char>(i);
  frame[sizeof(frame) - 1] = 1;
  if (!top) top = frame;
  const std::size_t reached = static_cast<std::size_t>(top - frame);
  const std::size_t deeper = reached + sizeof(frame) < bytes ? touch_stack(bytes, top) : reached;
  return deeper + static_cast<std::size_t>(frame[0] & 0);
}

void overflow() { (void)recurse_forever(0); }

// 16 KiB frames that write only their lowest kilobyte. Without stack-clash
// probes the fourth frame of a 64 KiB stack skips the guard page and writes
// the top of the stack below, where a blocked process keeps its context.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) int recurse_in_big_frames(int depth) {
  volatile char frame[16 * 1024];
  for (std::size_t i = 0; i < 1024; ++i) frame[i] = static_cast<char>(depth);
  if (depth == never_stop_at) return 0;
  return recurse_in_big_frames(depth + 1) + frame[0];
}
#pragma GCC diagnostic pop

TEST_P(FailureOverflowTest, OverflowEndsTheProcessWithStackOverflow) {
  log_capture logs;
  const std::pair<troupe::pid, exit_reason> o = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor(overflow);
    const exit_reason why = recv_down(ref).reason;
    wait_gone(p);
    return std::make_pair(p, why);
  });
  EXPECT_TRUE(o.second.is(kind::stack_overflow)) << fmt::format("{}", o.second);
  EXPECT_EQ(fmt::format("{}", o.second), "stack_overflow");
  EXPECT_EQ(logs.sink().count_containing("stack_overflow"), 1u) << "one crash report";
  EXPECT_EQ(logs.sink().count_containing(fmt::format("{}", o.first)), 1u);
}

// Links fire too: a trapping linked process gets an exit_message, a
// non-trapping one dies with stack_overflow; a registered name is freed; the
// overflowed process's own monitors are removed from their targets.
TEST_P(FailureOverflowTest, LinksMonitorsAndNameFire) {
  log_capture quiet;
  struct outcome {
    exit_reason trapped, linked, down;
    troupe::pid name_after;
    std::size_t target_monitored_by = 99;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::trap_exit(true);
    const troupe::pid target = troupe::spawn([] { recv<std::string>(); });
    const troupe::pid p = troupe::spawn_link([root, target] {
      troupe::register_name("overflower", troupe::self());
      troupe::monitor(target);
      troupe::spawn_link([root] {
        troupe::send(root, troupe::self());
        troupe::receive([](double) {});
      });
      recv<std::string>();
      overflow();
    });
    const auto ref = troupe::monitor(p);
    const troupe::pid linked = recv<troupe::pid>();
    const auto lref = troupe::monitor(linked);
    troupe::send(p, std::string("go"));
    outcome r;
    r.down = recv_down(ref).reason;
    r.trapped = recv_exit_from(p).reason;
    r.linked = recv_down(lref).reason;
    wait_gone(p);
    r.name_after = troupe::whereis("overflower");
    r.target_monitored_by = troupe::process_info(target)->monitored_by.size();
    troupe::send(target, std::string("done"));
    return r;
  });
  EXPECT_TRUE(o.down.is(kind::stack_overflow)) << fmt::format("{}", o.down);
  EXPECT_TRUE(o.trapped.is(kind::stack_overflow)) << fmt::format("{}", o.trapped);
  EXPECT_TRUE(o.linked.is(kind::stack_overflow)) << fmt::format("{}", o.linked);
  EXPECT_EQ(o.name_after, troupe::pid{});
  EXPECT_EQ(o.target_monitored_by, 0u);
}

// While processes overflow, the others keep working: a ping-pong pair counts
// its round trips across the overflows.
TEST_P(FailureOverflowTest, OtherProcessesKeepRunning) {
  log_capture quiet;
  constexpr int overflows = 10;
  struct outcome {
    int overflowed = 0;
    int before = 0, after = 0;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid ponger = troupe::spawn([] {
      for (;;) {
        auto [from, n] = recv<std::pair<troupe::pid, int>>();
        if (n < 0) return;
        troupe::send(from, n + 1);
      }
    });
    auto round_trips = [root, ponger](int k) {
      int ok = 0;
      for (int i = 0; i < k; ++i) {
        troupe::send(ponger, std::make_pair(root, i));
        ok += recv<int>() == i + 1;
      }
      return ok;
    };
    outcome r;
    r.before = round_trips(100);
    std::vector<troupe::monitor_ref> refs;
    for (int i = 0; i < overflows; ++i) refs.push_back(troupe::spawn_monitor(overflow).second);
    r.after += round_trips(100);  // while they overflow (on other schedulers)
    for (auto ref : refs) r.overflowed += recv_down(ref).reason.is(kind::stack_overflow);
    r.after += round_trips(100);
    troupe::send(ponger, std::make_pair(root, -1));
    return r;
  });
  EXPECT_EQ(o.overflowed, overflows);
  EXPECT_EQ(o.before, 100);
  EXPECT_EQ(o.after, 200);
}

// An overflow in frames larger than the guard page is still caught at the
// guard page: the processes whose stacks lie just below (spawned earlier,
// blocked in receive, their saved contexts at the top of their stacks) are
// untouched and answer afterwards.
TEST_P(FailureOverflowTest, FramesLargerThanTheGuardPageStopAtIt) {
  log_capture quiet;
  constexpr int neighbours = 64, overflows = 8;
  struct outcome {
    int overflowed = 0, answered = 0;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> around;
    std::vector<troupe::monitor_ref> refs;
    for (int round = 0; round < overflows; ++round) {
      for (int i = 0; i < neighbours / overflows; ++i)
        around.push_back(troupe::spawn([root] { troupe::send(root, recv<int>() + 1); }));
      refs.push_back(troupe::spawn_monitor([] { (void)recurse_in_big_frames(0); }).second);
    }
    outcome r;
    for (auto ref : refs) r.overflowed += recv_down(ref).reason.is(kind::stack_overflow);
    for (std::size_t i = 0; i < around.size(); ++i) troupe::send(around[i], static_cast<int>(i));
    for (std::size_t i = 0; i < around.size(); ++i) r.answered += recv<int>() > 0;
    return r;
  });
  EXPECT_EQ(o.overflowed, overflows);
  EXPECT_EQ(o.answered, neighbours);
}

// Twenty overflows one after another, then twenty at once; then the runtime
// shuts down cleanly.
TEST_P(FailureOverflowTest, ManyOverflowsThenCleanShutdown) {
  log_capture logs;
  constexpr int n = 20;
  const int sequential = rt().run([] {
    int k = 0;
    for (int i = 0; i < n; ++i) {
      auto [p, ref] = troupe::spawn_monitor(overflow);
      k += recv_down(ref).reason.is(kind::stack_overflow);
    }
    return k;
  });
  const int concurrent = rt().run([] {
    std::vector<troupe::monitor_ref> refs;
    for (int i = 0; i < n; ++i) refs.push_back(troupe::spawn_monitor(overflow).second);
    int k = 0;
    for (auto ref : refs) k += recv_down(ref).reason.is(kind::stack_overflow);
    return k;
  });
  EXPECT_EQ(sequential, n);
  EXPECT_EQ(concurrent, n);
  rt().wait_idle();
  EXPECT_EQ(logs.sink().count_containing("stack_overflow"), static_cast<std::size_t>(2 * n));
  // Leave some processes alive (blocked) and shut down with them.
  for (int i = 0; i < 10; ++i) troupe::spawn([] { troupe::receive([](double) {}); });
  expect_processes_left();
  stop_runtime();
}

// The stacks of overflowed processes go back to the pool: later processes
// get them and must find them whole. 64 KiB stacks overflow; then hundreds of
// processes each touch 40 KiB of their (reused) stacks and exchange messages.
TEST_P(FailureOverflowTest, OverflowedStacksAreReusedSafely) {
  log_capture quiet;
  constexpr int overflows = 20;
  constexpr int workers = 300;
  struct outcome {
    int overflowed = 0, deep_enough = 0, replies = 0;
    int second_overflows = 0;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    outcome r;
    std::vector<troupe::monitor_ref> refs;
    for (int i = 0; i < overflows; ++i) refs.push_back(troupe::spawn_monitor(overflow).second);
    for (auto ref : refs) r.overflowed += recv_down(ref).reason.is(kind::stack_overflow);
    std::vector<troupe::pid> ws;
    for (int i = 0; i < workers; ++i) {
      ws.push_back(troupe::spawn([root] {
        stack_probe probe;
        const std::size_t reached = touch_stack(40 * 1024);
        const int n = recv<int>();
        troupe::send(root, std::make_pair(reached >= 38 * 1024, n * 2));
      }));
    }
    for (int i = 0; i < workers; ++i) troupe::send(ws[i], i);
    for (int i = 0; i < workers; ++i) {
      auto [deep, v] = recv<std::pair<bool, int>>();
      r.deep_enough += deep;
      r.replies += v % 2 == 0;
    }
    // And the reused stacks still catch an overflow.
    refs.clear();
    for (int i = 0; i < overflows; ++i) refs.push_back(troupe::spawn_monitor(overflow).second);
    for (auto ref : refs) r.second_overflows += recv_down(ref).reason.is(kind::stack_overflow);
    return r;
  });
  EXPECT_EQ(o.overflowed, overflows);
  EXPECT_EQ(o.deep_enough, workers);
  EXPECT_EQ(o.replies, workers);
  EXPECT_EQ(o.second_overflows, overflows);
}

TEST_P(FailureOverflowTest, LargeStacksOverflowToo) {
  log_capture quiet;
  const std::pair<exit_reason, exit_reason> o = rt().run([] {
    const troupe::monitor_ref a = troupe::spawn_monitor({.stack_size = 1 << 20}, overflow).second;
    const troupe::monitor_ref b = troupe::spawn_monitor({.stack_size = 4 << 20}, overflow).second;  // a dedicated mapping
    return std::make_pair(recv_down(a).reason, recv_down(b).reason);
  });
  EXPECT_TRUE(o.first.is(kind::stack_overflow)) << fmt::format("{}", o.first);
  EXPECT_TRUE(o.second.is(kind::stack_overflow)) << fmt::format("{}", o.second);
}

// A process overflowing with messages still in its mailbox and blocks on its
// heap: all of it is released.
TEST_P(FailureOverflowTest, OverflowReleasesMailboxAndHeap) {
  log_capture quiet;
  const exit_reason why = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] {
      std::pmr::vector<char> v(100'000, 'x', troupe::heap());
      if (troupe::receive([](const std::string& s) { return s == "recurse"; })) overflow();
    });
    for (int i = 0; i < 10; ++i) troupe::send(p, tracked(i));  // never received
    troupe::send(p, std::string("recurse"));
    return recv_down(ref).reason;
  });
  EXPECT_TRUE(why.is(kind::stack_overflow)) << fmt::format("{}", why);
  rt().wait_idle();
  EXPECT_EQ(tracked::live.load(), tracked_base()) << "messages left in the mailbox were freed";
}

// The overflow starts inside receive handlers (nested: a handler receives
// again): the messages the handlers were running on are freed too, although
// their frames are never unwound.
TEST_P(FailureOverflowTest, OverflowInsideHandlersFreesTheirMessages) {
  log_capture quiet;
  const exit_reason why = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] {
      troupe::receive([](const tracked&) {
        troupe::receive([](const tracked&) { overflow(); });
      });
    });
    troupe::send(p, tracked(1));
    troupe::send(p, tracked(2));
    troupe::send(p, tracked(3));  // never received
    return recv_down(ref).reason;
  });
  EXPECT_TRUE(why.is(kind::stack_overflow)) << fmt::format("{}", why);
  rt().wait_idle();
  EXPECT_EQ(tracked::live.load(), tracked_base()) << "the handled messages (and the unread one) were freed";
}

// An overflow in one process while another on the same stack size class is
// blocked in a receive with a timeout: the timer machinery is unharmed.
TEST_P(FailureOverflowTest, TimersSurviveOverflows) {
  log_capture quiet;
  const int fired = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int i = 0; i < 5; ++i) {
      troupe::spawn([root] {
        const bool timed_out = !troupe::receive_for<double>(std::chrono::milliseconds(20)).has_value();
        troupe::send(root, timed_out);
      });
    }
    std::vector<troupe::monitor_ref> refs;
    for (int i = 0; i < 5; ++i) refs.push_back(troupe::spawn_monitor(overflow).second);
    for (auto ref : refs) recv_down(ref);
    int n = 0;
    for (int i = 0; i < 5; ++i) n += recv<bool>();
    return n;
  });
  EXPECT_EQ(fired, 5);
}

}  // namespace
