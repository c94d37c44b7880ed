// Scheduling: yield, reductions and preemption, spawning from processes and
// threads.

#include <atomic>
#include <future>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class SchedulingTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(SchedulingTest);

TEST_P(SchedulingTest, SchedulerCountIsAsConfigured) { EXPECT_EQ(rt().schedulers(), schedulers()); }

// A process spinning until another process sets a flag. With one scheduler,
// the setter can only run if the spinner gives up the scheduler.
void spin_until_flag(bool use_yield) {
  struct state {
    std::atomic<bool> flag{false};
    std::atomic<bool> done{false};
    std::atomic<bool> finished{false};
    std::atomic<long> rounds{0};
  };
  auto st = std::make_shared<state>();  // shared: the processes may outlive this function if it fails
  troupe::spawn([st, use_yield] {
    troupe::spawn([st] { st->flag.store(true); });  // queued behind the spinner on its scheduler
    // Gives up after hang_timeout, so that a broken runtime fails the test
    // instead of hanging it.
    const auto until = steady::now() + hang_timeout;
    while (!st->flag.load() && steady::now() < until) {
      if (use_yield) {
        troupe::yield();
      } else {
        troupe::consume_reductions(7);
      }
      st->rounds.fetch_add(1);
    }
    st->done.store(st->flag.load());
    st->finished.store(true);
  });
  EXPECT_TRUE(wait_until([&] { return st->finished.load(); }, hang_timeout + 10s));
  EXPECT_TRUE(st->done.load()) << "the spinner held its scheduler: the other process never ran";
  EXPECT_GE(st->rounds.load(), 1);
}

TEST_P(SchedulingTest, YieldLetsAnotherProcessOnTheSameSchedulerRun) {
  rt();
  spin_until_flag(true);
}

TEST_P(SchedulingTest, ConsumeReductionsPreemptsALongLoop) {
  rt();
  spin_until_flag(false);
}

TEST_P(SchedulingTest, TwoSpinnersBothMakeProgress) {
  rt();
  struct state {
    std::atomic<long> count[2]{};
    std::atomic<bool> stop{false};
    std::atomic<int> finished{0};
  };
  auto st = std::make_shared<state>();
  for (int k = 0; k < 2; ++k) {
    troupe::spawn([st, k] {
      const auto until = steady::now() + hang_timeout;
      while (!st->stop.load() && steady::now() < until) {
        st->count[k].fetch_add(1);
        troupe::consume_reductions(10);
      }
      st->finished.fetch_add(1);
    });
  }
  EXPECT_TRUE(wait_until([&] { return st->count[0].load() > 10'000 && st->count[1].load() > 10'000; }))
      << "a=" << st->count[0].load() << " b=" << st->count[1].load();
  st->stop.store(true);
  EXPECT_TRUE(wait_until([&] { return st->finished.load() == 2; }, hang_timeout + 10s));
}

TEST_P(SchedulingTest, ReductionsGrow) {
  const auto got = rt().run([] {
    const std::uint64_t r0 = troupe::reductions();
    for (int i = 0; i < 1000; ++i) troupe::send(troupe::pid{}, i);
    const std::uint64_t r1 = troupe::reductions();
    troupe::consume_reductions(500);
    const std::uint64_t r2 = troupe::reductions();
    troupe::yield();
    const std::uint64_t r3 = troupe::reductions();
    troupe::send(troupe::self(), 1);
    recv<int>();
    const std::uint64_t r4 = troupe::reductions();
    return std::vector<std::uint64_t>{r0, r1, r2, r3, r4};
  });
  EXPECT_GE(got[1], got[0] + 1000) << "each send costs a reduction";
  EXPECT_GE(got[2], got[1] + 500);
  EXPECT_GT(got[3], got[2]);
  EXPECT_GE(got[4], got[3] + 2) << "a send and a receive";
  rt();
  EXPECT_EQ(troupe::reductions(), 0u) << "outside a process";
  troupe::consume_reductions(10);  // a no-op outside a process
  troupe::yield();
}

TEST_P(SchedulingTest, ReductionsStartAtZeroForEachProcess) {
  const std::uint64_t first = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::consume_reductions(3000);
    troupe::spawn([root] { troupe::send(root, troupe::reductions()); });
    return recv<std::uint64_t>();
  });
  EXPECT_LT(first, 100u) << "a new process inherits no reductions";
}

// A process that sends many messages without ever waiting is preempted: a
// process queued behind it on the same scheduler runs before it finishes.
TEST_P(SchedulingTest, ABusySenderIsPreempted) {
  constexpr long bound = 1'000'000;
  const auto got = rt().run([] {
    std::atomic<bool> other_ran{false};
    troupe::spawn([&other_ran] { other_ran.store(true); });
    long sent = 0;
    while (sent < bound && !other_ran.load()) {
      troupe::send(troupe::pid{}, sent);  // 1 reduction each
      ++sent;
    }
    // Keep `other_ran` alive until the other process has surely stored it.
    while (!other_ran.load()) troupe::yield();
    return std::make_pair(sent, troupe::reductions());
  });
  EXPECT_LT(got.first, bound) << "the other process never ran while the sender was busy";
  if (schedulers() == 1) {
    // Only preemption lets it run: within 10,000 sends.
    EXPECT_LT(got.first, 10'000);
  }
  EXPECT_GE(got.second, static_cast<std::uint64_t>(got.first));
}

// With one scheduler, the interleaving of two busy senders shows preemption:
// neither sends all its messages before the other starts.
TEST(SingleScheduler, TwoBusySendersInterleave) {
  constexpr int n = 10'000;
  troupe::runtime r({.schedulers = 1});
  const auto got = r.run([] {
    const troupe::pid root = troupe::self();
    for (int who = 0; who < 2; ++who) {
      troupe::spawn([root, who] {
        for (int i = 0; i < n; ++i) troupe::send(root, who);
      });
    }
    std::vector<int> order;
    order.reserve(2 * n);
    for (int i = 0; i < 2 * n; ++i) order.push_back(recv<int>());
    return order;
  });
  ASSERT_EQ(got.size(), 2u * n);
  int switches = 0;
  for (std::size_t i = 1; i < got.size(); ++i) switches += got[i] != got[i - 1];
  EXPECT_GE(switches, 2) << "one sender ran to completion before the other: no preemption";
  EXPECT_TRUE(wait_until([&] { return r.process_count() == 0; }));
}

TEST_P(SchedulingTest, SpawnChainThousandsDeep) {
  static constexpr int depth = live_processes(5'000);
  const int got = rt().run([] {
    const troupe::pid root = troupe::self();
    struct link {
      static void run(troupe::pid root, int left) {
        if (left == 0) {
          troupe::send(root, depth);
          return;
        }
        troupe::spawn(&link::run, root, left - 1);
      }
    };
    troupe::spawn(&link::run, root, depth);
    return recv<int>();
  });
  EXPECT_EQ(got, depth);
}

TEST_P(SchedulingTest, SpawnPassesArgumentsByValue) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    std::string s = "text";
    auto up = std::make_unique<int>(5);
    troupe::spawn(
        [root](std::string a, std::unique_ptr<int> b, int c) { troupe::send(root, a + std::to_string(*b + c)); }, s,
        std::move(up), 10);
    s = "changed";
    return recv<std::string>();
  });
  EXPECT_EQ(got, "text15");
}

TEST_P(SchedulingTest, SpawnFromSeveralThreadsAtOnce) {
  constexpr int threads = 4;
  constexpr int per_thread = stress_work(2'000);
  rt();
  std::atomic<int> ran{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) troupe::spawn([&ran] { ran.fetch_add(1); });
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_TRUE(wait_until([&] { return ran.load() == threads * per_thread; })) << ran.load();
  rt().wait_idle();
  EXPECT_EQ(rt().process_count(), 0u);
}

TEST_P(SchedulingTest, WaitIdleReturnsOnlyWhenAllProcessesHaveExited) {
  rt();
  constexpr int n = 200;
  std::atomic<int> done{0};
  for (int i = 0; i < n; ++i) {
    troupe::spawn([&done, i] {
      troupe::sleep_for(std::chrono::milliseconds(i % 20));
      done.fetch_add(1);
    });
  }
  rt().wait_idle();
  EXPECT_EQ(done.load(), n);
  EXPECT_EQ(rt().process_count(), 0u);
}

TEST_P(SchedulingTest, ProcessCountCountsLiveProcesses) {
  constexpr int n = 100;
  EXPECT_EQ(rt().process_count(), 0u);
  std::vector<troupe::pid> pids;
  for (int i = 0; i < n; ++i) pids.push_back(troupe::spawn([] { recv<int>(); }));
  EXPECT_EQ(rt().process_count(), static_cast<std::size_t>(n));
  for (int i = 0; i < n / 2; ++i) troupe::send(pids[i], 0);
  EXPECT_TRUE(wait_until([&] { return rt().process_count() == n / 2; })) << rt().process_count();
  for (int i = n / 2; i < n; ++i) troupe::send(pids[i], 0);
  rt().wait_idle();
  EXPECT_EQ(rt().process_count(), 0u);
}

}  // namespace
