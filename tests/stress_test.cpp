// Races between the runtime's moving parts: receive timeouts against arriving
// messages, sends against exits, shutdown against busy traffic.

#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class StressTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(StressTest);

// Receivers poll with tiny timeouts while senders send with tiny pauses, so
// timeouts and message arrivals keep racing. Every message is received exactly
// once and in order, whether it arrived within a wait or after it timed out.
TEST_P(StressTest, ShortTimeoutsRacingWithArrivalsLoseNothing) {
  constexpr int pairs = 20;
  constexpr int per_pair = 300;
  struct result {
    int received = 0;
    int out_of_order = 0;
    int timeouts = 0;
  };
  const std::vector<result> got = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int k = 0; k < pairs; ++k) {
      const troupe::pid receiver = troupe::spawn([root, k] {
        std::mt19937 rng(k);
        std::uniform_int_distribution<int> us(0, 1500);
        result r;
        int next = 0;
        const auto until = steady::now() + hang_timeout;
        while (next < per_pair && steady::now() < until) {
          const auto v = troupe::receive_for<int>(std::chrono::microseconds(us(rng)));
          if (!v) {
            ++r.timeouts;
            continue;
          }
          r.out_of_order += *v != next;
          next = *v + 1;
          ++r.received;
        }
        troupe::send(root, std::make_pair(k, r));
      });
      troupe::spawn([receiver, k] {
        std::mt19937 rng(1000 + k);
        std::uniform_int_distribution<int> us(0, 1000);
        for (int i = 0; i < per_pair; ++i) {
          troupe::send(receiver, i);
          if (i % 3 == 0) troupe::sleep_for(std::chrono::microseconds(us(rng)));
        }
      });
    }
    std::vector<result> rs(pairs);
    for (int k = 0; k < pairs; ++k) {
      auto [who, r] = recv<std::pair<int, result>>();
      rs.at(who) = r;
    }
    return rs;
  });
  int timeouts = 0;
  for (int k = 0; k < pairs; ++k) {
    EXPECT_EQ(got[k].received, per_pair) << "pair " << k;
    EXPECT_EQ(got[k].out_of_order, 0) << "pair " << k;
    timeouts += got[k].timeouts;
  }
  RecordProperty("timeouts", timeouts);
}

// Plain threads keep sending to a changing set of processes that exit and are
// replaced; messages to the dead are dropped, and in the end every message is
// freed exactly once (checked by the fixture after shutdown).
TEST_P(StressTest, SendsRacingWithExitsAndSlotReuse) {
  constexpr int slots = 64;
  constexpr int generations = stress_work(30);
  rt();
  std::vector<std::atomic<std::uint64_t>> targets(slots);
  auto spawn_one = [] {
    return troupe::spawn([] {
      // Takes a few messages, then exits with the rest unread.
      for (int i = 0; i < 5; ++i) {
        if (!troupe::receive_for<tracked>(hang_timeout)) return;
      }
    });
  };
  std::vector<troupe::pid> all;  // every process spawned, to release the survivors at the end
  for (auto& t : targets) {
    all.push_back(spawn_one());
    t.store(all.back().bits());
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  struct joiner {  // stops and joins the senders however this test ends
    std::atomic<bool>& stop;
    std::vector<std::thread>& ts;
    ~joiner() {
      stop.store(true);
      for (auto& t : ts) {
        if (t.joinable()) t.join();
      }
    }
  } join_senders{stop, senders};
  for (int s = 0; s < 2; ++s) {
    senders.emplace_back([&, s] {
      std::mt19937 rng(s);
      for (unsigned n = 1; !stop.load(); ++n) {
        const auto p = troupe::pid::from_bits(targets[rng() % slots].load());
        troupe::send(p, tracked(s));
        // Plain threads pay no reductions: pause now and then, or on a busy
        // machine they flood the mailboxes faster than one scheduler drains them.
        if (n % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  // Replace exited processes a number of times.
  for (int g = 0; g < generations; ++g) {
    // The senders keep hitting every target, so they all exit soon; the
    // senders still hold their pids while new processes take the slots.
    ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
    for (auto& t : targets) {
      all.push_back(spawn_one());
      t.store(all.back().bits());
    }
  }
  stop.store(true);
  for (auto& t : senders) t.join();
  senders.clear();
  // Unblock whatever is still waiting.
  for (troupe::pid p : all) {
    for (int i = 0; i < 5; ++i) troupe::send(p, tracked(-1));
  }
  EXPECT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  stop_runtime();
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

// Shutdown in the middle of heavy traffic: many pairs exchanging instrumented
// messages as fast as they can. Must finish, and free everything.
TEST_P(StressTest, ShutdownDuringHeavyTraffic) {
  constexpr int pairs = 100;
  rt();
  std::atomic<long> exchanged{0};
  for (int k = 0; k < pairs; ++k) {
    troupe::spawn([&exchanged] {
      stack_probe on_stack;
      const troupe::pid me = troupe::self();
      const troupe::pid peer = troupe::spawn([me, &exchanged] {
        stack_probe on_peer_stack;
        for (;;) {
          tracked t = troupe::receive([](tracked&& m) { return std::move(m); });
          exchanged.fetch_add(1, std::memory_order_relaxed);
          troupe::send(me, std::move(t));
          troupe::send(me, tracked(t.value + 1));  // the mailboxes keep filling up
        }
      });
      troupe::send(peer, tracked(0));
      for (;;) {
        tracked t = troupe::receive([](tracked&& m) { return std::move(m); });
        troupe::send(peer, std::move(t));
      }
    });
  }
  ASSERT_TRUE(wait_until([&] { return exchanged.load() > 20'000; }));
  expect_processes_left();
  stop_runtime();
  EXPECT_EQ(stack_probe::live.load(), probes_base());
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

}  // namespace
