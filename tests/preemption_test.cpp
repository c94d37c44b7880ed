// Preemption of plain C++ code: safe points in code built with
// troupe_preemptible (tests/preemptible/spinners.cpp), the watchdog that
// ends slices and reports long schedules, no_preempt_scope.

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "preemptible/spinners.hpp"
#include "test_support.hpp"
#include "troupe/preempt.hpp"

namespace {

using namespace troupe_test;
using steady = std::chrono::steady_clock;

class PreemptionTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(PreemptionTest);

struct spin_state {
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
};

// Starts a ping-pong pair making 200 round trips; returns how many it made
// within half hang_timeout.
int ping_pong_rounds() {
  auto rounds = std::make_shared<std::atomic<int>>(0);  // the pair may outlive a failed wait
  troupe::spawn([rounds] {
    const troupe::pid me = troupe::self();
    const troupe::pid echo = troupe::spawn([me] {
      while (troupe::receive([me](int v) {
        troupe::send(me, v);
        return v >= 0;
      })) {
      }
    });
    for (int i = 0; i < 200; ++i) {
      troupe::send(echo, i);
      troupe::receive([](int) {});
      rounds->fetch_add(1);
    }
    troupe::send(echo, -1);
    troupe::receive([](int) {});
  });
  wait_until([&] { return rounds->load() == 200; }, hang_timeout / 2);
  return rounds->load();
}

// The tests of safe points run without spare threads (without_spares), which
// would let a ping-pong run beside spinners that never yield.

// Fills every scheduler with spinners of `kind`, then has a ping-pong pair
// make round trips: the pair can only run when the spinners yield.
template <class Spin>
void ping_pong_beside_spinners(unsigned schedulers, Spin spin) {
  auto st = std::make_shared<spin_state>();
  const int spinners = static_cast<int>(schedulers) + 1;
  for (int i = 0; i < spinners; ++i) {
    troupe::spawn([st, spin] {
      spin(st->stop, steady::now() + hang_timeout);
      st->finished.fetch_add(1);
    });
  }
  EXPECT_EQ(ping_pong_rounds(), 200) << "the ping-pong's round trips beside " << spinners << " spinners";
  st->stop.store(true);
  EXPECT_TRUE(wait_until([&] { return st->finished.load() == spinners; }));
}

TEST_P(PreemptionTest, ALoopOfCallsYieldsAtItsSafePoints) {
  start(without_spares(default_options()));
  ping_pong_beside_spinners(schedulers(), &spinners::spin_calls_until);
}

TEST_P(PreemptionTest, ALoopWithoutCallsYieldsAtItsBackEdge) {
  start(without_spares(default_options()));
  ping_pong_beside_spinners(schedulers(), &spinners::spin_arith_until);
}

TEST_P(PreemptionTest, RecursionWithoutLoopsYieldsBeforeItsCalls) {
  start(without_spares(default_options()));
  ping_pong_beside_spinners(schedulers(), &spinners::spin_recursive_until);
}

TEST_P(PreemptionTest, ANoexceptLoopYieldsToo) {
  start(without_spares(default_options()));
  ping_pong_beside_spinners(schedulers(), &spinners::spin_calls_until_nothrow);
}

TEST_P(PreemptionTest, KillEndsASpinningProcessAndItsDestructorsRun) {
  rt().run([this] {
    auto progress = std::make_shared<std::atomic<long>>(0);
    auto destroyed = std::make_shared<std::atomic<bool>>(false);
    struct on_unwind {
      std::shared_ptr<std::atomic<bool>> flag;
      ~on_unwind() { flag->store(true); }
    };
    std::vector<troupe::pid> hogs;
    // One spinner a scheduler, so that this process must preempt them to run.
    for (unsigned i = 0; i < schedulers(); ++i) {
      hogs.push_back(troupe::spawn([progress, destroyed] {
        on_unwind guard{destroyed};
        spinners::spin_forever(*progress);
      }));
    }
    ASSERT_TRUE(process_wait_until([&] { return progress->load() > 1000; }));
    for (troupe::pid h : hogs) {
      const troupe::monitor_ref ref = troupe::monitor(h);
      troupe::exit(h, troupe::exit_reason::killed());
      EXPECT_EQ(recv_down(ref).reason, troupe::exit_reason::killed());
    }
    EXPECT_TRUE(destroyed->load()) << "the spinner's stack was not unwound";
  });
}

TEST_P(PreemptionTest, AnExitSignalEndsASpinnerThatDoesNotTrapExits) {
  rt().run([] {
    auto progress = std::make_shared<std::atomic<long>>(0);
    const troupe::pid hog = troupe::spawn([progress] { spinners::spin_forever(*progress); });
    ASSERT_TRUE(process_wait_until([&] { return progress->load() > 1000; }));
    const troupe::monitor_ref ref = troupe::monitor(hog);
    troupe::exit(hog, troupe::exit_reason::shutdown());
    EXPECT_EQ(recv_down(ref).reason, troupe::exit_reason::shutdown());
  });
}

TEST_P(PreemptionTest, ShutdownEndsSpinnersThatNeverReturn) {
  auto progress = std::make_shared<std::atomic<long>>(0);
  rt();
  for (unsigned i = 0; i < 2 * schedulers(); ++i) {
    troupe::spawn([progress] { spinners::spin_forever(*progress); });
  }
  ASSERT_TRUE(wait_until([&] { return progress->load() > 1000; }));
  expect_processes_left();
  stop_runtime();  // must not hang
}

TEST_P(PreemptionTest, NoPreemptScopeHoldsTheSchedulerUntilItEnds) {
  if (schedulers() != 1) GTEST_SKIP() << "another scheduler would run the waiting process";
  start(without_spares(default_options()));  // a spare would stand in for the held scheduler after long_schedule
  struct state {
    std::atomic<bool> stop{false};
    std::atomic<bool> other_ran{false};
    std::atomic<bool> ran_inside{false};
    std::atomic<bool> scope_over{false};
    std::atomic<bool> finished{false};
  };
  auto st = std::make_shared<state>();
  troupe::spawn([st] {
    {
      troupe::no_preempt_scope keep;
      troupe::spawn([st] {
        st->ran_inside.store(!st->scope_over.load());
        st->other_ran.store(true);
      });
      const std::atomic<bool> never{false};
      spinners::spin_calls_until(never, steady::now() + std::chrono::milliseconds(50));
      st->scope_over.store(true);
    }
    spinners::spin_calls_until(st->other_ran, steady::now() + hang_timeout);
    st->finished.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return st->finished.load(); }));
  EXPECT_TRUE(st->other_ran.load()) << "the spinner did not yield after its scope";
  EXPECT_FALSE(st->ran_inside.load()) << "a safe point yielded inside a no_preempt_scope";
}

// A loop here, in code built without safe points, keeps its scheduler: the
// watchdog reports it once per episode.
TEST_P(PreemptionTest, TheWatchdogReportsAProcessThatHoldsItsSchedulerTooLong) {
  log_capture logs{watchdog_lines::kept};
  troupe::runtime_options o = default_options();
  o.long_schedule = std::chrono::milliseconds(5);
  start(o);
  rt().run([] {
    const auto until = steady::now() + std::chrono::milliseconds(60);
    while (steady::now() < until) {
    }
    const auto info = troupe::process_info(troupe::self());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->long_schedules, 1u);
  });
  EXPECT_EQ(logs.sink().count_containing("long_schedule"), 1u);
  EXPECT_EQ(logs.sink().count_containing("without reaching a safe point"), 1u);
}

TEST_P(PreemptionTest, ProcessesThatReachSafePointsAreNotReported) {
  log_capture logs{watchdog_lines::kept};
  troupe::runtime_options o = default_options();
  o.long_schedule = std::chrono::milliseconds(5);
  start(o);
  rt().run([] {
    const std::atomic<bool> never{false};
    spinners::spin_calls_until(never, steady::now() + std::chrono::milliseconds(60));
    EXPECT_EQ(troupe::process_info(troupe::self())->long_schedules, 0u);
  });
  EXPECT_EQ(logs.sink().count_containing("long_schedule"), 0u);
}

// Plain code, built without safe points: only a spare thread standing in
// for the held scheduler lets the others run.
void hold_scheduler_until(const std::atomic<bool>& stop, steady::time_point limit) {
  while (!stop.load() && steady::now() < limit) {
  }
}

TEST_P(PreemptionTest, ProcessesQueuedBehindAHogInPlainCodeStillRun) {
  if (GetParam().shared_stacks) GTEST_SKIP() << "a process that holds a shared stack keeps the processes waiting for that stack";
  log_capture logs{watchdog_lines::kept};  // the hogs' long_schedule reports
  rt();
  auto st = std::make_shared<spin_state>();
  const int hogs = static_cast<int>(schedulers());
  std::atomic<int> running{0};
  for (int i = 0; i < hogs; ++i) {
    troupe::spawn([st, &running] {
      running.fetch_add(1);
      hold_scheduler_until(st->stop, steady::now() + hang_timeout);
      st->finished.fetch_add(1);
    });
  }
  // Every scheduler is held before the pair starts.
  ASSERT_TRUE(wait_until([&] { return running.load() == hogs; }));
  EXPECT_EQ(ping_pong_rounds(), 200) << "the ping-pong's round trips behind " << hogs << " hogs in plain code";
  EXPECT_GE(logs.sink().count_containing("long_schedule"), 1u);
  st->stop.store(true);
  EXPECT_TRUE(wait_until([&] { return st->finished.load() == hogs; }));
}

// What a hog woke (here: spawned) last waits in its scheduler's run-next
// slot, not in the queue: a spare takes it from there too.
TEST_P(PreemptionTest, TheProcessAHogWokeLastStillRuns) {
  if (GetParam().shared_stacks) GTEST_SKIP() << "a process that holds a shared stack keeps the processes waiting for that stack";
  log_capture logs{watchdog_lines::kept};
  rt();
  auto st = std::make_shared<spin_state>();
  auto woken_ran = std::make_shared<std::atomic<int>>(0);
  const int hogs = static_cast<int>(schedulers());
  for (int i = 0; i < hogs; ++i) {
    troupe::spawn([st, woken_ran] {
      troupe::spawn([woken_ran] { woken_ran->fetch_add(1); });
      hold_scheduler_until(st->stop, steady::now() + hang_timeout);
      st->finished.fetch_add(1);
    });
  }
  EXPECT_TRUE(wait_until([&] { return woken_ran->load() == hogs; }, hang_timeout / 2))
      << woken_ran->load() << " of the " << hogs << " processes the hogs spawned ran";
  st->stop.store(true);
  EXPECT_TRUE(wait_until([&] { return st->finished.load() == hogs; }));
}

TEST_P(PreemptionTest, TimersOfAHeldSchedulerStillFire) {
  if (GetParam().shared_stacks) GTEST_SKIP() << "a process that holds a shared stack keeps the processes waiting for that stack";
  log_capture logs{watchdog_lines::kept};
  rt();
  auto st = std::make_shared<spin_state>();
  auto woke = std::make_shared<std::atomic<bool>>(false);
  auto asleep = std::make_shared<std::atomic<bool>>(false);
  troupe::spawn([woke, asleep, st] {
    asleep->store(true);
    troupe::sleep_for(std::chrono::milliseconds(50));  // its timer is on a scheduler about to be held
    woke->store(true);
    st->stop.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return asleep->load(); }));
  std::atomic<int> running{0};
  const int hogs = static_cast<int>(schedulers());
  for (int i = 0; i < hogs; ++i) {
    troupe::spawn([st, &running] {
      running.fetch_add(1);
      hold_scheduler_until(st->stop, steady::now() + hang_timeout);
      st->finished.fetch_add(1);
    });
  }
  ASSERT_TRUE(wait_until([&] { return running.load() == hogs || woke->load(); }));
  EXPECT_TRUE(wait_until([&] { return woke->load(); }, hang_timeout / 2))
      << "a sleeper whose scheduler was held never woke";
  st->stop.store(true);
  EXPECT_TRUE(wait_until([&] { return st->finished.load() == hogs; }));
}

TEST_P(PreemptionTest, BlockingLetsTheOtherProcessesRunMeanwhile) {
  if (GetParam().shared_stacks) GTEST_SKIP() << "a process that holds a shared stack keeps the processes waiting for that stack";
  rt().run([] {
    std::atomic<bool> pair_done{false};
    std::atomic<bool> done_while_blocked{false};
    const troupe::pid me = troupe::self();
    // Beside the blocked process on its scheduler: with one scheduler only
    // a spare can run it.
    troupe::spawn([&pair_done, me] {
      for (int i = 0; i < 100; ++i) troupe::yield();
      pair_done.store(true);
      troupe::send(me, 1);
    });
    const int got = troupe::blocking([&] {
      const auto until = steady::now() + hang_timeout / 2;
      while (!pair_done.load() && steady::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      done_while_blocked.store(pair_done.load());
      return 42;
    });
    EXPECT_EQ(got, 42);
    EXPECT_TRUE(done_while_blocked.load()) << "nothing else ran while the process was in troupe::blocking";
    troupe::receive([](int) {});
  });
}

TEST_P(PreemptionTest, BlockingRethrowsWhatItsCallThrows) {
  rt().run([] {
    EXPECT_THROW(troupe::blocking([] { throw std::runtime_error("disk on fire"); }), std::runtime_error);
    EXPECT_EQ(troupe::blocking([] { return std::string("ok"); }), "ok");
    troupe::blocking([] {});
  });
}

TEST_P(PreemptionTest, AnExitSignalReachesAProcessInBlockingWhenItReturns) {
  if (GetParam().shared_stacks) GTEST_SKIP() << "a process that holds a shared stack keeps the processes waiting for that stack";
  rt().run([] {
    auto in_call = std::make_shared<std::atomic<bool>>(false);
    auto returned = std::make_shared<std::atomic<bool>>(false);
    auto unwound = std::make_shared<std::atomic<bool>>(false);
    struct on_unwind {
      std::shared_ptr<std::atomic<bool>> flag;
      ~on_unwind() { flag->store(true); }
    };
    auto [p, ref] = troupe::spawn_monitor([in_call, returned, unwound] {
      on_unwind guard{unwound};
      troupe::blocking([&] {
        in_call->store(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      });
      returned->store(true);  // not reached: the exit takes effect as blocking returns
    });
    ASSERT_TRUE(process_wait_until([&] { return in_call->load(); }));
    troupe::exit(p, troupe::exit_reason::killed());
    EXPECT_EQ(recv_down(ref).reason, troupe::exit_reason::killed());
    EXPECT_FALSE(returned->load());
    EXPECT_TRUE(unwound->load());
  });
}

// The safe point on a thread that is not a process only clears the flag.
TEST(PreemptionPlainThread, ASafePointOutsideAProcessDoesNothing) {
  troupe_preempt_flag = 1;
  troupe_safe_point();
  EXPECT_EQ(troupe_preempt_flag, 0);
  const std::atomic<bool> stop{true};
  EXPECT_NE(spinners::spin_calls_until(stop, steady::now()), 0);
}

}  // namespace
