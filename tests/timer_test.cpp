// Timers: send_after, cancel_timer, sleep_for.

#include <algorithm>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class TimerTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(TimerTest);

TEST_P(TimerTest, SendAfterDeliversNotBeforeTheDelay) {
  const auto got = rt().run([] {
    const auto t0 = steady::now();
    troupe::send_after(troupe::self(), 50ms, 7);
    const int v = recv<int>();
    return std::make_pair(v, steady::now() - t0);
  });
  EXPECT_EQ(got.first, 7);
  EXPECT_GE(got.second, 50ms);
}

TEST_P(TimerTest, SendAfterToAnotherProcess) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid p = troupe::spawn([root] {
      const auto v = recv<std::pair<std::string, steady::time_point>>();
      troupe::send(root, std::make_pair(v.first, steady::now() - v.second));
    });
    troupe::send_after(p, 30ms, std::make_pair(std::string("hello"), steady::now()));
    return recv<std::pair<std::string, steady::duration>>();
  });
  EXPECT_EQ(got.first, "hello");
  EXPECT_GE(got.second, 30ms);
}

TEST_P(TimerTest, SendAfterFromAPlainThread) {
  rt();
  std::promise<troupe::pid> ready;
  std::promise<steady::time_point> arrived;
  auto ready_f = ready.get_future();
  auto arrived_f = arrived.get_future();
  troupe::spawn([&] {
    ready.set_value(troupe::self());
    if (troupe::receive_for<int>(hang_timeout)) arrived.set_value(steady::now());
  });
  ASSERT_EQ(ready_f.wait_for(hang_timeout), std::future_status::ready);
  const auto t0 = steady::now();
  troupe::timer_ref t = troupe::send_after(ready_f.get(), 40ms, 1);
  EXPECT_TRUE(static_cast<bool>(t));
  ASSERT_EQ(arrived_f.wait_for(hang_timeout), std::future_status::ready);
  EXPECT_GE(arrived_f.get() - t0, 40ms);
  EXPECT_FALSE(troupe::cancel_timer(t)) << "already fired";
}

TEST_P(TimerTest, ZeroAndNegativeDelaysDeliver) {
  const auto got = rt().run([] {
    troupe::send_after(troupe::self(), 0ms, 1);
    troupe::send_after(troupe::self(), -10ms, 2);
    int sum = recv<int>();
    sum += recv<int>();
    return sum;
  });
  EXPECT_EQ(got, 3);
}

TEST_P(TimerTest, TimersFireInDeadlineOrder) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send_after(me, 60ms, 3);
    troupe::send_after(me, 20ms, 1);
    troupe::send_after(me, 40ms, 2);
    return std::vector<int>{recv<int>(), recv<int>(), recv<int>()};
  });
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TEST_P(TimerTest, CancelBeforeFiringReturnsTrueAndTheMessageNeverArrives) {
  const auto got = rt().run([this] {
    troupe::timer_ref t = troupe::send_after(troupe::self(), 100ms, tracked(5));
    const long armed = tracked::live.load() - tracked_base();
    const bool cancelled = troupe::cancel_timer(t);
    const long after_cancel = tracked::live.load() - tracked_base();
    const bool again = troupe::cancel_timer(t);
    // Well past the deadline: still nothing.
    const bool arrived = troupe::receive_for<tracked>(300ms).has_value();
    return std::make_tuple(armed, cancelled, after_cancel, again, arrived);
  });
  EXPECT_EQ(std::get<0>(got), 1) << "the timer owns the message until it fires";
  EXPECT_TRUE(std::get<1>(got));
  EXPECT_EQ(std::get<2>(got), 0) << "a cancelled timer's message is freed";
  EXPECT_FALSE(std::get<3>(got)) << "second cancel";
  EXPECT_FALSE(std::get<4>(got)) << "a cancelled timer delivered its message";
}

// A delay too long to represent as a deadline means "never" (as it does for
// receive timeouts), not "now".
TEST_P(TimerTest, SendAfterWithAHugeDelayDoesNotFireNow) {
  const auto got = rt().run([] {
    troupe::timer_ref t = troupe::send_after(troupe::self(), std::chrono::nanoseconds::max(), 1);
    const bool arrived = troupe::receive_for<int>(200ms).has_value();
    const bool cancelled = troupe::cancel_timer(t);
    return std::make_pair(arrived, cancelled);
  });
  EXPECT_FALSE(got.first) << "send_after(nanoseconds::max()) delivered at once";
  EXPECT_TRUE(got.second) << "the timer should still be pending";
}

TEST_P(TimerTest, ReceiveWithAHugeTimeoutStillGetsMessages) {
  const int got = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] {
      troupe::sleep_for(10ms);
      troupe::send(root, 3);
    });
    return troupe::receive([](int i) { return i; }, troupe::after(std::chrono::nanoseconds::max(), [] { return -1; }));
  });
  EXPECT_EQ(got, 3);
}

TEST_P(TimerTest, CancelAfterFiringReturnsFalse) {
  const auto got = rt().run([] {
    troupe::timer_ref t = troupe::send_after(troupe::self(), 1ms, 9);
    const int v = recv<int>();
    return std::make_pair(v, troupe::cancel_timer(t));
  });
  EXPECT_EQ(got.first, 9);
  EXPECT_FALSE(got.second);
}

TEST_P(TimerTest, CancelNullHandleReturnsFalse) {
  rt();
  EXPECT_FALSE(troupe::cancel_timer(troupe::timer_ref{}));
  EXPECT_FALSE(rt().run([] { return troupe::cancel_timer(troupe::timer_ref{}); }));
}

// The timer lives on the scheduler of the process that started it; another
// process (maybe on another scheduler) cancels it. A successful cancel frees
// the message at once, so it can never be delivered.
TEST_P(TimerTest, CancelFromAnotherProcess) {
  const auto got = rt().run([this] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] {
      troupe::timer_ref t = troupe::send_after(root, 5s, tracked(1));
      troupe::send(root, t);
    });
    const troupe::timer_ref t = recv<troupe::timer_ref>();
    const long armed = tracked::live.load() - tracked_base();
    troupe::spawn([root, t] {
      const bool cancelled = troupe::cancel_timer(t);  // before reading the count: argument order is unspecified
      troupe::send(root, std::make_pair(cancelled, tracked::live.load()));
    });
    const auto [cancelled, live_after] = recv<std::pair<bool, long>>();
    const bool arrived = troupe::receive_for<tracked>(100ms).has_value();
    return std::make_tuple(armed, cancelled, live_after - tracked_base(), arrived);
  });
  EXPECT_EQ(std::get<0>(got), 1);
  EXPECT_TRUE(std::get<1>(got));
  EXPECT_EQ(std::get<2>(got), 0) << "the cancelled timer's message still exists";
  EXPECT_FALSE(std::get<3>(got));
}

TEST_P(TimerTest, CancelFromAPlainThread) {
  rt();
  std::promise<troupe::pid> ready;
  std::promise<bool> arrived;
  auto ready_f = ready.get_future();
  auto arrived_f = arrived.get_future();
  troupe::spawn([&] {
    ready.set_value(troupe::self());
    arrived.set_value(troupe::receive_for<tracked>(200ms).has_value());
  });
  ASSERT_EQ(ready_f.wait_for(hang_timeout), std::future_status::ready);
  const troupe::pid p = ready_f.get();
  troupe::timer_ref t = troupe::send_after(p, 5s, tracked(1));
  EXPECT_EQ(tracked::live.load(), tracked_base() + 1);
  EXPECT_TRUE(troupe::cancel_timer(t));
  EXPECT_EQ(tracked::live.load(), tracked_base()) << "the cancelled timer's message still exists";
  EXPECT_FALSE(troupe::cancel_timer(t));
  ASSERT_EQ(arrived_f.wait_for(hang_timeout), std::future_status::ready);
  EXPECT_FALSE(arrived_f.get()) << "the cancelled message arrived";
}

TEST_P(TimerTest, CopiesOfAHandleShareOneTimer) {
  const auto got = rt().run([] {
    troupe::timer_ref a = troupe::send_after(troupe::self(), 100ms, 1);
    troupe::timer_ref b = a;
    troupe::timer_ref c = std::move(b);
    const bool first = troupe::cancel_timer(c);
    const bool second = troupe::cancel_timer(a);
    return std::make_tuple(static_cast<bool>(b), first, second, troupe::receive_for<int>(200ms).has_value());
  });
  EXPECT_EQ(got, std::make_tuple(false, true, false, false));
}

TEST_P(TimerTest, DroppingTheHandleDoesNotCancel) {
  const int got = rt().run([] {
    { (void)troupe::send_after(troupe::self(), 10ms, 11); }
    return recv<int>();
  });
  EXPECT_EQ(got, 11);
}

TEST_P(TimerTest, TimerToADeadProcessFreesItsMessage) {
  const troupe::pid gone = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] { troupe::send(root, troupe::self()); });
    return recv<troupe::pid>();
  });
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  troupe::send_after(gone, 5ms, tracked(1));
  rt().run([gone] { troupe::send_after(gone, 5ms, tracked(2)); });
  EXPECT_TRUE(wait_until([&] { return tracked::live.load() == tracked_base(); }));
}

TEST_P(TimerTest, SleepForDoesNotConsumeMessagesAndIsNotCutShort) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid child = troupe::spawn([root] {
      recv<std::string>();
      for (int i = 0; i < 10; ++i) troupe::send(root, i);
      troupe::send(root, std::string("sent"));
    });
    troupe::send(child, std::string("go"));
    const auto t0 = steady::now();
    troupe::sleep_for(80ms);
    const auto slept = steady::now() - t0;
    recv<std::string>();
    std::vector<int> v;
    while (auto i = troupe::receive_for<int>(0ms)) v.push_back(*i);
    return std::make_pair(slept, v);
  });
  EXPECT_GE(got.first, 80ms) << "messages arriving must not end the sleep early";
  EXPECT_EQ(got.second, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_P(TimerTest, SleepForOutsideAProcessSleepsTheThread) {
  rt();
  const auto t0 = steady::now();
  troupe::sleep_for(20ms);
  EXPECT_GE(steady::now() - t0, 20ms);
}

TEST_P(TimerTest, ManySleepersAllWakeAfterTheirDelays) {
  constexpr int n = live_processes(2'000);
  const int ok = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int i = 0; i < n; ++i) {
      troupe::spawn([root, i] {
        const auto d = std::chrono::milliseconds(i % 50);
        const auto t0 = steady::now();
        troupe::sleep_for(d);
        troupe::send(root, steady::now() - t0 >= d);
      });
    }
    int good = 0;
    for (int i = 0; i < n; ++i) good += recv<bool>();
    return good;
  });
  EXPECT_EQ(ok, n);
}

// 100,000 pending send_after timers with random delays up to 200ms, started by
// several processes (so on several schedulers), all to one process: each
// arrives exactly once, and none before its deadline.
TEST_P(TimerTest, HundredThousandTimersArriveExactlyOnce) {
  constexpr int n = 100'000;
  constexpr int setters = 4;
  struct timed {
    int id;
    steady::time_point due;
  };
  struct report {
    int distinct = 0;
    int duplicates = 0;
    int early = 0;
    int out_of_range = 0;
    bool extra = false;
  };
  const report r = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int s = 0; s < setters; ++s) {
      troupe::spawn([root, s] {
        std::mt19937 rng(1234 + s);
        std::uniform_int_distribution<int> delay_ms(0, 200);
        for (int id = s; id < n; id += setters) {
          const auto d = std::chrono::milliseconds(delay_ms(rng));
          troupe::send_after(root, d, timed{id, steady::now() + d});
        }
      });
    }
    report rep;
    std::vector<unsigned char> seen(n, 0);
    for (int k = 0; k < n; ++k) {
      const timed t = recv<timed>();
      if (steady::now() < t.due) ++rep.early;
      if (t.id < 0 || t.id >= n) {
        ++rep.out_of_range;
        continue;
      }
      if (seen[t.id]++) ++rep.duplicates;
    }
    rep.distinct = static_cast<int>(std::count(seen.begin(), seen.end(), 1));
    // Every timer has fired by now; nothing more may come.
    troupe::sleep_for(20ms);
    rep.extra = !no_message_of<timed>();
    return rep;
  });
  EXPECT_EQ(r.distinct, n);
  EXPECT_EQ(r.duplicates, 0);
  EXPECT_EQ(r.early, 0);
  EXPECT_EQ(r.out_of_range, 0);
  EXPECT_FALSE(r.extra);
}

// Cancelling many of many pending timers (on the timers' own scheduler, and
// from another process) delivers exactly the ones not cancelled: a cancel that
// returned true means the message never arrives, one that returned false
// means it arrives once.
TEST_P(TimerTest, CancellingManyTimersDeliversExactlyTheOthers) {
  constexpr int n = 10'000;
  struct report {
    int cancelled_here = 0;
    int cancelled_there = 0;
    int delivered = 0;
    int delivered_but_cancelled = 0;
    int missing = 0;
    int duplicates = 0;
  };
  // "Cancelled here before any can fire" needs the scheduler to itself: a
  // spare standing in (the loop can pass long_schedule on a loaded machine)
  // fires a held scheduler's timers.
  start(without_spares(default_options()));
  const report r = rt().run([] {
    const troupe::pid root = troupe::self();
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> delay_ms(10, 150);
    std::vector<troupe::timer_ref> refs;
    refs.reserve(n);
    for (int i = 0; i < n; ++i) refs.push_back(troupe::send_after(root, std::chrono::milliseconds(delay_ms(rng)), i));
    report rep;
    std::vector<unsigned char> cancelled(n, 0);
    // Even ids: cancelled here, before this process gives up its scheduler
    // (so before any of them can fire).
    for (int i = 0; i < n; i += 2) {
      cancelled[i] = troupe::cancel_timer(refs[i]);
      rep.cancelled_here += cancelled[i];
    }
    // Ids 1 mod 4: cancelled by another process, maybe on another scheduler.
    std::vector<std::pair<int, troupe::timer_ref>> theirs;
    for (int i = 1; i < n; i += 4) theirs.emplace_back(i, refs[i]);
    troupe::spawn([root, theirs] {
      std::vector<int> done;
      for (const auto& [id, t] : theirs) {
        if (troupe::cancel_timer(t)) done.push_back(id);
      }
      troupe::send(root, done);
    });
    for (int id : recv<std::vector<int>>()) cancelled[id] = 1;
    rep.cancelled_there = static_cast<int>(std::count(cancelled.begin(), cancelled.end(), 1)) - rep.cancelled_here;
    std::vector<unsigned char> seen(n, 0);
    const int expected = n - static_cast<int>(std::count(cancelled.begin(), cancelled.end(), 1));
    for (int k = 0; k < expected; ++k) {
      const auto v = troupe::receive_for<int>(hang_timeout);
      if (!v) break;
      if (seen.at(*v)++) ++rep.duplicates;
      rep.delivered_but_cancelled += cancelled[*v];
    }
    // Every deadline has passed by now: anything else would be extra.
    troupe::sleep_for(200ms);
    while (auto v = troupe::receive_for<int>(0ms)) {
      if (seen.at(*v)++) ++rep.duplicates;
      rep.delivered_but_cancelled += cancelled[*v];
    }
    for (int i = 0; i < n; ++i) {
      rep.delivered += seen[i] != 0;
      rep.missing += !cancelled[i] && !seen[i];
    }
    return rep;
  });
  EXPECT_EQ(r.cancelled_here, n / 2) << "pending timers on this scheduler could not be cancelled";
  EXPECT_EQ(r.delivered, n - r.cancelled_here - r.cancelled_there);
  EXPECT_EQ(r.delivered_but_cancelled, 0);
  EXPECT_EQ(r.missing, 0);
  EXPECT_EQ(r.duplicates, 0);
}

TEST_P(TimerTest, ManyTimersFromAPlainThreadArriveExactlyOnce) {
  constexpr int n = 20'000;
  rt();
  std::promise<troupe::pid> ready;
  std::promise<std::pair<int, int>> result;  // distinct, duplicates
  auto ready_f = ready.get_future();
  auto result_f = result.get_future();
  troupe::spawn([&] {
    ready.set_value(troupe::self());
    std::vector<unsigned char> seen(n, 0);
    int dup = 0;
    for (int k = 0; k < n; ++k) {
      auto v = troupe::receive_for<int>(hang_timeout);
      if (!v) break;
      if (seen.at(*v)++) ++dup;
    }
    result.set_value({static_cast<int>(std::count(seen.begin(), seen.end(), 1)), dup});
  });
  ASSERT_EQ(ready_f.wait_for(hang_timeout), std::future_status::ready);
  const troupe::pid p = ready_f.get();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> delay_ms(0, 100);
  for (int i = 0; i < n; ++i) troupe::send_after(p, std::chrono::milliseconds(delay_ms(rng)), i);
  ASSERT_EQ(result_f.wait_for(hang_timeout), std::future_status::ready);
  EXPECT_EQ(result_f.get(), std::make_pair(n, 0));
}

// A timer started from a plain thread is handed to a scheduler; a process on
// that scheduler may cancel it before the scheduler has even looked at it.
TEST_P(TimerTest, CancelATimerStartedFromAPlainThreadBeforeItsSchedulerSawIt) {
  rt();
  std::atomic<troupe::timer_ref*> handed{nullptr};
  std::promise<troupe::pid> ready;
  std::promise<std::pair<bool, bool>> result;  // cancelled, arrived
  auto ready_f = ready.get_future();
  auto result_f = result.get_future();
  troupe::spawn([&] {
    ready.set_value(troupe::self());
    // Busy without calling into the runtime, so this scheduler does not run
    // its timers until the cancel is done.
    const auto until = steady::now() + hang_timeout;
    while (!handed.load() && steady::now() < until) {
    }
    troupe::timer_ref* t = handed.load();
    const bool cancelled = t && troupe::cancel_timer(*t);
    const bool arrived = troupe::receive_for<tracked>(200ms).has_value();
    result.set_value({cancelled, arrived});
  });
  ASSERT_EQ(ready_f.wait_for(hang_timeout), std::future_status::ready);
  troupe::timer_ref t = troupe::send_after(ready_f.get(), 5s, tracked(1));
  handed.store(&t);
  ASSERT_EQ(result_f.wait_for(hang_timeout), std::future_status::ready);
  EXPECT_EQ(result_f.get(), std::make_pair(true, false));
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

TEST_P(TimerTest, PendingTimersAreFreedAtShutdown) {
  rt();
  troupe::pid p;
  {
    std::promise<troupe::pid> ready;
    auto f = ready.get_future();
    troupe::spawn([&ready] {
      ready.set_value(troupe::self());
      recv<int>();  // never comes: shut down while waiting
    });
    ASSERT_EQ(f.wait_for(hang_timeout), std::future_status::ready);
    p = f.get();
  }
  std::vector<troupe::timer_ref> kept;
  for (int i = 0; i < 50; ++i) troupe::send_after(p, 1h, tracked(i));           // handle dropped
  for (int i = 0; i < 50; ++i) kept.push_back(troupe::send_after(p, 1h, tracked(i)));  // handle kept
  rt().run([p] {
    for (int i = 0; i < 50; ++i) troupe::send_after(p, 1h, tracked(i));  // on a scheduler's own heap
  });
  EXPECT_EQ(tracked::live.load(), tracked_base() + 150);
  expect_processes_left();
  stop_runtime();
  // Handles outlive the runtime: cancelling reports "not pending", and the
  // last handle frees the message.
  for (const auto& t : kept) EXPECT_FALSE(troupe::cancel_timer(t));
  kept.clear();
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

// A wait that ends in time keeps its timer for the next wait with a deadline
// no earlier (timers.cpp, arm_wake). A wait with an earlier deadline must
// still end at its own: here the second wait would otherwise last a minute.
TEST_P(TimerTest, AWaitWithAnEarlierDeadlineThanTheLastEndsAtItsOwn) {
  const auto waited = rt().run([] {
    troupe::send_after(troupe::self(), 5ms, 1);
    troupe::receive([](int) {}, troupe::after(60s, [] {}));
    const auto t0 = steady::now();
    troupe::receive([](int) {}, troupe::after(10ms, [] {}));
    return steady::now() - t0;
  });
  EXPECT_GE(waited, 10ms);
  EXPECT_LT(waited, 30s);
}

// The kept timer fires while a later wait, with a later deadline, goes on:
// it wakes that wait early, and the wait goes on to its own deadline.
TEST_P(TimerTest, AKeptTimerNeverEndsALaterWaitEarly) {
  const auto waited = rt().run([] {
    troupe::send_after(troupe::self(), 1ms, 1);
    troupe::receive([](int) {}, troupe::after(20ms, [] {}));
    const auto t0 = steady::now();
    troupe::receive([](int) {}, troupe::after(200ms, [] {}));
    const auto in_receive = steady::now() - t0;
    troupe::send_after(troupe::self(), 1ms, 1);
    troupe::receive([](int) {}, troupe::after(20ms, [] {}));
    const auto t1 = steady::now();
    troupe::sleep_for(100ms);
    return std::make_pair(in_receive, steady::now() - t1);
  });
  EXPECT_GE(waited.first, 200ms);
  EXPECT_GE(waited.second, 100ms);
}

}  // namespace
