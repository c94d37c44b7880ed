// Counts that must not lie: message_queue_len past 65,535, reductions,
// max_processes after churn; and pids that outlive their runtime.

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class CountsTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(CountsTest);

// The mailbox word counts to 65,535 only; the count goes on beyond it.
TEST_P(CountsTest, MessageQueueLenIsExactPastSixtyFiveThousand) {
  constexpr std::size_t n = 100'000;
  rt();
  // Asleep, it takes nothing from its mailbox while the messages come in.
  const troupe::pid p = troupe::spawn([] { troupe::sleep_for(std::chrono::hours(1)); });
  ASSERT_TRUE(wait_until([&] {
    auto i = troupe::process_info(p);
    return i && i->status == troupe::process_status::waiting;
  }));
  // From a process: a plain thread would be held back (by sleeps) once the
  // backlog is long; a process pays in reductions instead.
  rt().run([p] {
    for (std::size_t i = 0; i < n; ++i) troupe::send(p, 1);
  });
  EXPECT_EQ(troupe::process_info(p)->message_queue_len, n);
  troupe::exit(p, troupe::exit_reason::kill());
  EXPECT_TRUE(wait_gone(p));
}

TEST_P(CountsTest, NegativeReductionsAreRejected) {
  rt().run([] {
    const std::uint64_t before = troupe::reductions();
    EXPECT_THROW(troupe::consume_reductions(-1000), std::invalid_argument);
    EXPECT_GE(troupe::reductions(), before);
    EXPECT_LT(troupe::reductions(), before + 100);
  });
}

// Free records cached by the schedulers do not count against the limit: all
// of max_processes can be alive at once after any churn, and not one more.
TEST_P(CountsTest, MaxProcessesHoldsExactlyAfterChurn) {
  constexpr int max = 1000;
  auto o = default_options();
  o.max_processes = max;
  start(o);
  const int spawned = rt().run([] {
    // Churn on every scheduler: spawners that start and end many processes.
    std::vector<troupe::monitor_ref> refs;
    for (int s = 0; s < 8; ++s) {
      refs.push_back(troupe::spawn_monitor([] {
                       for (int i = 0; i < stress_work(300); ++i) {
                         auto [c, ref] = troupe::spawn_monitor([] {});
                         recv_down(ref);
                       }
                     }).second);
    }
    for (auto r : refs) recv_down(r);
    // Now fill the table: max - 1 blocked processes besides this one.
    // (A process that sent its down message may still be leaving: a refused
    // spawn is retried for a while before the table counts as full.)
    std::vector<troupe::pid> ps;
    int n = 1;
    for (int refusals = 0; n < max + 10 && refusals < 200;) {
      try {
        ps.push_back(troupe::spawn([] { troupe::receive([](int) {}); }));
        ++n;
      } catch (const std::system_error&) {
        ++refusals;
        troupe::sleep_for(1ms);
      }
    }
    for (auto p : ps) troupe::send(p, 1);
    return n;
  });
  EXPECT_EQ(spawned, max);
}

// A plain thread pays no reductions: flooding a slow receiver, it is made to
// wait, so the receiver's backlog (and the program's memory) stays bounded.
TEST_P(CountsTest, APlainThreadFloodingAProcessIsHeldBack) {
  constexpr int n = 300'000;
  rt();
  auto done = std::make_shared<std::atomic<int>>(0);
  const troupe::pid slow = troupe::spawn([done] {
    for (int i = 0; i < n; ++i) {
      troupe::receive([](int) {});
      const auto until = steady::now() + 2us;  // a receiver slower than its sender
      while (steady::now() < until) {
      }
    }
    done->store(1);
  });
  std::size_t worst = 0;
  for (int i = 0; i < n; ++i) {
    troupe::send(slow, i);
    if (i % 1000 == 0) {
      if (auto info = troupe::process_info(slow)) worst = std::max(worst, info->message_queue_len);
    }
  }
  EXPECT_TRUE(wait_until([&] { return done->load() == 1; }));
  // Unchecked, the backlog would be most of the 300,000.
  EXPECT_LT(worst, 70'000u);
}

// A pid kept from a runtime that is gone names nobody in the next one, even
// where the slot index is the same.
TEST(PidIncarnationTest, APidFromAnEarlierRuntimeNamesNobody) {
  troupe::pid old;
  {
    troupe::runtime first({.schedulers = 1});
    old = first.run([] { return troupe::self(); });
  }
  troupe::runtime second({.schedulers = 1});
  const bool got_it = second.run([old] {
    EXPECT_EQ(troupe::self().index(), old.index());  // the same slot
    EXPECT_NE(troupe::self(), old);
    EXPECT_NE(troupe::self().creation(), old.creation());
    EXPECT_FALSE(troupe::is_process_alive(old));
    troupe::send(old, 42);
    troupe::send(troupe::self(), std::string("after"));
    bool stale = false;
    troupe::receive([&](int) { stale = true; }, [](std::string) {});
    return stale;
  });
  EXPECT_FALSE(got_it);
  EXPECT_EQ(fmt::format("{}", old), fmt::format("<0.{}.{}>", old.index(), old.serial()));
}

}  // namespace
