// Failure model, monitors: monitor/demonitor/spawn_monitor, down_message
// exactly once, noproc for dead targets, many monitors each way (OTP 25's
// monitor/2, demonitor/1,2, spawn_monitor/1).

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureMonitorsTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureMonitorsTest);

// A process that waits for one string and then exits with it as a user reason
// ("normal" exits normally).
troupe::pid spawn_quitter() {
  return troupe::spawn([] {
    const std::string why = recv<std::string>();
    if (why != "normal") troupe::exit(exit_reason::user(why));
  });
}

TEST_P(FailureMonitorsTest, MonitorRefsAreUniqueAndEachFiresOnce) {
  log_capture quiet;
  constexpr int n = 1'000;
  struct outcome {
    std::size_t distinct = 0;
    bool all_valid = true;
    int downs = 0;
    int matched = 0;
    bool no_more = false;
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid t = spawn_quitter();
    const troupe::pid dead = dead_pid();
    std::unordered_set<troupe::monitor_ref> refs;
    for (int i = 0; i < n; ++i) {
      const troupe::monitor_ref a = troupe::monitor(t);
      const troupe::monitor_ref b = troupe::monitor(dead);
      r.all_valid = r.all_valid && a && b;
      refs.insert(a);
      refs.insert(b);
    }
    r.distinct = refs.size();
    troupe::send(t, std::string("bye"));
    std::unordered_map<std::uint64_t, int> seen;
    for (int i = 0; i < 2 * n; ++i) {
      const auto d = recv<troupe::down_message>();
      ++seen[d.ref.id()];
      ++r.downs;
      r.matched += refs.count(d.ref) == 1 &&
                   ((d.who == t && d.reason == exit_reason::user("bye")) || (d.who == dead && d.reason.is(kind::noproc)));
    }
    wait_gone(t);
    r.no_more = no_message_of<troupe::down_message>();
    for (auto& [ref, count] : seen) r.matched -= count != 1;
    return r;
  });
  EXPECT_EQ(o.distinct, 2u * n);
  EXPECT_TRUE(o.all_valid);
  EXPECT_EQ(o.downs, 2 * n);
  EXPECT_EQ(o.matched, 2 * n);
  EXPECT_TRUE(o.no_more);
}

TEST_P(FailureMonitorsTest, DownMessageCarriesRefPidAndReason) {
  log_capture quiet;
  struct outcome {
    troupe::monitor_ref ref, got_ref;
    troupe::pid target, who;
    exit_reason reason;
    bool once = false;
    std::size_t monitors_before = 0, monitored_by_before = 0, monitors_after = 99;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.target = spawn_quitter();
    r.ref = troupe::monitor(r.target);
    r.monitors_before = troupe::process_info(troupe::self())->monitors.size();
    const auto ti = troupe::process_info(r.target);
    r.monitored_by_before = ti && contains(ti->monitored_by, troupe::self()) ? ti->monitored_by.size() : 0;
    troupe::send(r.target, std::string("done here"));
    const auto d = recv<troupe::down_message>();
    r.got_ref = d.ref;
    r.who = d.who;
    r.reason = d.reason;
    r.monitors_after = troupe::process_info(troupe::self())->monitors.size();
    wait_gone(r.target);
    r.once = no_message_of<troupe::down_message>();
    return r;
  });
  EXPECT_EQ(o.got_ref, o.ref);
  EXPECT_EQ(o.who, o.target);
  EXPECT_EQ(o.reason, exit_reason::user("done here"));
  EXPECT_TRUE(o.once);
  EXPECT_EQ(o.monitors_before, 1u);
  EXPECT_EQ(o.monitored_by_before, 1u);
  EXPECT_EQ(o.monitors_after, 0u);
}

TEST_P(FailureMonitorsTest, MonitorsSeeNormalExits) {
  const exit_reason r = rt().run([] {
    const troupe::pid t = spawn_quitter();
    const auto ref = troupe::monitor(t);
    troupe::send(t, std::string("normal"));
    return recv_down(ref).reason;
  });
  EXPECT_TRUE(r.is_normal());
}

// A dead target: the down_message (noproc) is in the mailbox when monitor returns.
TEST_P(FailureMonitorsTest, MonitorOnADeadPidDeliversNoprocAtOnce) {
  struct outcome {
    bool present = false, null_present = false;
    troupe::pid dead, who;
    exit_reason reason;
    std::size_t monitors = 99;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.dead = dead_pid();
    const auto ref = troupe::monitor(r.dead);
    const auto d = troupe::receive(
        troupe::when([ref](const troupe::down_message& m) { return m.ref == ref; },
                     [](troupe::down_message m) { return std::optional<troupe::down_message>(m); }),
        troupe::after(std::chrono::milliseconds(0), [] { return std::optional<troupe::down_message>(); }));
    r.present = d.has_value();
    if (d) {
      r.who = d->who;
      r.reason = d->reason;
    }
    const auto nref = troupe::monitor(troupe::pid{});
    r.null_present = troupe::receive(troupe::when([nref](const troupe::down_message& m) { return m.ref == nref; },
                                                  [](troupe::down_message m) { return m.reason.is(kind::noproc); }),
                                     troupe::after(std::chrono::milliseconds(0), [] { return false; }));
    r.monitors = troupe::process_info(troupe::self())->monitors.size();
    return r;
  });
  EXPECT_TRUE(o.present);
  EXPECT_EQ(o.who, o.dead);
  EXPECT_TRUE(o.reason.is(kind::noproc));
  EXPECT_TRUE(o.null_present);
  EXPECT_EQ(o.monitors, 0u);
}

TEST_P(FailureMonitorsTest, DemonitorStopsTheMonitor) {
  struct outcome {
    bool active = false, again = true;
    bool nothing = false;
    std::size_t my_monitors = 99, their_monitored_by = 99;
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid t = spawn_quitter();
    const auto ref = troupe::monitor(t);
    const auto keep = troupe::monitor(t);
    r.active = troupe::demonitor(ref);
    r.again = troupe::demonitor(ref);
    r.my_monitors = troupe::process_info(troupe::self())->monitors.size();
    r.their_monitored_by = troupe::process_info(t)->monitored_by.size();
    troupe::send(t, std::string("normal"));
    recv_down(keep);
    wait_gone(t);
    r.nothing = no_message_of<troupe::down_message>();
    return r;
  });
  EXPECT_TRUE(o.active);
  EXPECT_FALSE(o.again);
  EXPECT_TRUE(o.nothing);
  EXPECT_EQ(o.my_monitors, 1u);
  EXPECT_EQ(o.their_monitored_by, 1u);
}

TEST_P(FailureMonitorsTest, DemonitorWithFlushRemovesADeliveredDownMessage) {
  struct outcome {
    bool active = true, flushed = false, other_kept = false;
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid t = spawn_quitter();
    const auto ref = troupe::monitor(t);
    const auto other = troupe::monitor(t);
    troupe::send(t, std::string("normal"));
    wait_gone(t);  // both down_messages are in the mailbox now
    troupe::send(troupe::self(), 1);  // an unrelated message stays
    r.active = troupe::demonitor(ref, true);
    auto downs = drain<troupe::down_message>();
    r.flushed = downs.size() == 1 && downs[0].ref == other;
    r.other_kept = drain<int>().size() == 1;
    return r;
  });
  EXPECT_FALSE(o.active) << "the down_message had been sent";
  EXPECT_TRUE(o.flushed);
  EXPECT_TRUE(o.other_kept);
}

TEST_P(FailureMonitorsTest, DemonitorWithoutFlushLeavesADeliveredDownMessage) {
  const std::pair<bool, std::size_t> o = rt().run([] {
    const troupe::pid t = spawn_quitter();
    const auto ref = troupe::monitor(t);
    troupe::send(t, std::string("normal"));
    wait_gone(t);
    const bool active = troupe::demonitor(ref);
    return std::make_pair(active, drain<troupe::down_message>().size());
  });
  EXPECT_FALSE(o.first);
  EXPECT_EQ(o.second, 1u);
}

TEST_P(FailureMonitorsTest, DemonitorOfAnUnknownRefIsFalse) {
  const bool r = rt().run([] {
    return troupe::demonitor(troupe::detail::monitor_ref_access::make(123456789)) || troupe::demonitor(troupe::monitor_ref{}, true);
  });
  EXPECT_FALSE(r);
}

// Only the monitoring process can demonitor: another one's demonitor of the
// same ref does nothing.
TEST_P(FailureMonitorsTest, DemonitorOfAnotherProcesssRefDoesNothing) {
  const std::pair<bool, bool> o = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid t = spawn_quitter();
    const auto ref = troupe::monitor(t);
    troupe::spawn([root, ref] { troupe::send(root, troupe::demonitor(ref)); });
    const bool theirs = recv<bool>();
    troupe::send(t, std::string("normal"));
    const bool still_fires = recv_down(ref).reason.is_normal();
    return std::make_pair(theirs, still_fires);
  });
  EXPECT_FALSE(o.first);
  EXPECT_TRUE(o.second);
}

TEST_P(FailureMonitorsTest, SpawnMonitorSeesEvenAnImmediateCrash) {
  log_capture quiet;
  constexpr int rounds = 200;
  const int good = rt().run([] {
    int ok = 0;
    for (int i = 0; i < rounds; ++i) {
      auto [p, ref] = troupe::spawn_monitor([] { throw std::runtime_error("at once"); });
      const auto d = recv<troupe::down_message>();
      ok += ref && d.ref == ref && d.who == p && d.reason == exit_reason::exception("std::runtime_error", "at once");
    }
    return ok;
  });
  EXPECT_EQ(good, rounds);
}

TEST_P(FailureMonitorsTest, SpawnMonitorPassesArguments) {
  const std::pair<int, bool> o = rt().run([] {
    const troupe::pid root = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([root](int a, std::string b) { troupe::send(root, a + static_cast<int>(b.size())); },
                                          40, std::string("ab"));
    const int v = recv<int>();
    return std::make_pair(v, recv_down(ref).who == p);
  });
  EXPECT_EQ(o.first, 42);
  EXPECT_TRUE(o.second);
}

TEST_P(FailureMonitorsTest, TwoMonitorsOnOneTargetGiveTwoDownMessages) {
  const int n = rt().run([] {
    const troupe::pid t = spawn_quitter();
    const auto a = troupe::monitor(t);
    const auto b = troupe::monitor(t);
    troupe::send(t, std::string("normal"));
    recv_down(a);
    recv_down(b);
    wait_gone(t);
    return static_cast<int>(a != b) + static_cast<int>(no_message_of<troupe::down_message>());
  });
  EXPECT_EQ(n, 2);
}

// A watcher that dies first takes its monitors with it: the target forgets it.
TEST_P(FailureMonitorsTest, DeadWatchersMonitorsAreRemoved) {
  const std::pair<std::size_t, std::size_t> o = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid t = spawn_quitter();
    auto [w, wref] = troupe::spawn_monitor([root, t] {
      troupe::monitor(t);
      troupe::monitor(t);
      troupe::send(root, std::string("watching"));
    });
    recv<std::string>();
    recv_down(wref);
    wait_gone(w);
    const std::size_t left = troupe::process_info(t)->monitored_by.size();
    const auto mine = troupe::monitor(t);
    const std::size_t now = troupe::process_info(t)->monitored_by.size();
    troupe::send(t, std::string("normal"));
    recv_down(mine);
    return std::make_pair(left, now);
  });
  EXPECT_EQ(o.first, 0u);
  EXPECT_EQ(o.second, 1u);
}

// 1,000 processes monitor one target: each gets exactly one down_message.
TEST_P(FailureMonitorsTest, ThousandWatchersOnOneTarget) {
  log_capture quiet;
  constexpr int watchers = 1'000;
  struct outcome {
    int good = 0;
    std::size_t monitored_by = 0;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid t = spawn_quitter();
    for (int i = 0; i < watchers; ++i) {
      troupe::spawn([root, t] {
        const auto ref = troupe::monitor(t);
        troupe::send(root, std::string("watching"));
        const auto d = recv_down(ref);
        wait_gone(t);
        const bool once = no_message_of<troupe::down_message>();
        troupe::send(root, once && d.who == t && d.reason == exit_reason::user("end of the line"));
      });
    }
    for (int i = 0; i < watchers; ++i) recv<std::string>();
    outcome r;
    r.monitored_by = troupe::process_info(t)->monitored_by.size();
    troupe::send(t, std::string("end of the line"));
    for (int i = 0; i < watchers; ++i) r.good += recv<bool>();
    return r;
  });
  EXPECT_EQ(o.monitored_by, static_cast<std::size_t>(watchers));
  EXPECT_EQ(o.good, watchers);
}

// One process monitors 1,000 targets: each fires exactly once.
TEST_P(FailureMonitorsTest, OneWatcherOnThousandTargets) {
  log_capture quiet;
  constexpr int targets = 1'000;
  struct outcome {
    int downs = 0, right = 0, dups = 0;
    std::size_t monitors = 0, after = 99;
  };
  const outcome o = rt().run([] {
    std::unordered_map<std::uint64_t, troupe::pid> refs;
    std::vector<troupe::pid> ts;
    for (int i = 0; i < targets; ++i) {
      ts.push_back(spawn_quitter());
      refs.emplace(troupe::monitor(ts.back()).id(), ts.back());
    }
    outcome r;
    r.monitors = troupe::process_info(troupe::self())->monitors.size();
    for (int i = 0; i < targets; ++i) troupe::send(ts[i], i % 2 ? std::string("normal") : fmt::format("t{}", i));
    std::unordered_map<std::uint64_t, int> seen;
    for (int i = 0; i < targets; ++i) {
      const auto d = recv<troupe::down_message>();
      ++r.downs;
      if (++seen[d.ref.id()] > 1) ++r.dups;
      auto it = refs.find(d.ref.id());
      if (it != refs.end() && it->second == d.who) ++r.right;
    }
    for (troupe::pid t : ts) wait_gone(t);
    r.dups += static_cast<int>(drain<troupe::down_message>().size());
    r.after = troupe::process_info(troupe::self())->monitors.size();
    return r;
  });
  EXPECT_EQ(o.monitors, static_cast<std::size_t>(targets));
  EXPECT_EQ(o.downs, targets);
  EXPECT_EQ(o.right, targets);
  EXPECT_EQ(o.dups, 0);
  EXPECT_EQ(o.after, 0u);
}

// demonitor racing with the target's exit. OTP: "once demonitor(MonitorRef)
// has returned, it is guaranteed that no {'DOWN', MonitorRef, ...} message,
// because of the monitor, will be placed in the caller message queue in the
// future"; troupe: demonitor "returns true if the monitor was still active (no
// down_message had been sent)", and with flush removes one that arrived. So
// after demonitor(ref) returned true, or after demonitor(ref, true), no
// down_message for ref may ever be in the mailbox.
//
// To hit the window, the target has links and many other monitors (its exit
// tells them all, one by one), and the watcher calls demonitor the moment it
// sees the target's exit has begun: its registered name is freed first. The
// watcher spins on whereis (no runtime calls) while a plain thread wakes the
// target, which another scheduler then runs. The spin is bounded: if the
// target does not get going soon, that round's race is abandoned (the
// watcher waits politely instead); only what demonitor then promises is
// checked.
//
// The root's spin is as long as the sanitizer builds' long_schedule, so a
// spare thread often stands in for its scheduler and fires that
// scheduler's timers. That found a lost wake-up: under ASan with shared
// stacks this test hung in 6 of 10 runs, the root asleep in
// process_wait_until, its timer fired by the spare while the root was still
// switching away (see sig_timer_wake); 0 of 10 since the fix.
void demonitor_race(troupe::runtime& r, bool flush) {
  constexpr int rounds = 40;
  constexpr int helpers = 100;
  constexpr int fillers = 2'000;
  plain_thread_waker waker;
  struct outcome {
    int active = 0, late = 0, raced = 0;
  };
  const outcome o = r.run([&waker, flush] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> hs;
    for (int i = 0; i < helpers; ++i) hs.push_back(troupe::spawn([] { troupe::receive([](double) {}); }));
    outcome res;
    for (int round = 0; round < rounds; ++round) {
      const troupe::pid t = troupe::spawn([root, hs] {
        for (troupe::pid h : hs) troupe::link(h);
        troupe::register_name("demonitor-race-target", troupe::self());
        troupe::send(root, std::string("ready"));
        recv<std::string>();  // "go" from the plain thread; then exit normally
      });
      std::vector<troupe::monitor_ref> others;
      for (int i = 0; i < fillers / 2; ++i) others.push_back(troupe::monitor(t));
      const auto ref = troupe::monitor(t);
      for (int i = 0; i < fillers / 2; ++i) others.push_back(troupe::monitor(t));
      recv<std::string>();
      // Let t park in its receive first (it may have been switched out on
      // this scheduler before that), so that the plain thread's wake-up puts
      // it on the global queue.
      process_wait_until([t] {
        const auto i = troupe::process_info(t);
        return i && i->status == troupe::process_status::waiting;
      });
      waker.wake(t);
      const auto give_up = steady::now() + std::chrono::milliseconds(100);
      bool started = false;
      while (!(started = !troupe::whereis("demonitor-race-target")) && steady::now() < give_up) {
        // No runtime calls here. Pause between looks, or the registry's
        // mutex is too busy for the exiting target to free its name.
        volatile int pause = 0;
        for (int spin = 0; spin < 20; ++spin) pause = spin;
      }
      if (!started) process_wait_until([] { return !troupe::whereis("demonitor-race-target"); });
      res.raced += started;
      const bool active = troupe::demonitor(ref, flush);
      res.active += active;
      for (auto other : others) recv_down(other);
      wait_gone(t);
      const bool late_down = troupe::receive(troupe::when([ref](const troupe::down_message& d) { return d.ref == ref; },
                                                          [](troupe::down_message) { return true; }),
                                             troupe::after(std::chrono::milliseconds(0), [] { return false; }));
      if (late_down && (active || flush)) ++res.late;
    }
    for (troupe::pid h : hs) troupe::exit(h, exit_reason::kill());
    for (troupe::pid h : hs) wait_gone(h);
    return res;
  });
  EXPECT_EQ(o.late, 0) << "a down_message arrived after demonitor(ref" << (flush ? ", true)" : ") returned true")
                       << " (" << o.active << " of " << rounds << " demonitor calls returned true; "
                       << o.raced << " rounds raced with the exit)";
}

TEST_P(FailureMonitorsTest, NoDownMessageAfterDemonitorReturnedTrue) {
  if (schedulers() < 2) GTEST_SKIP() << "needs a second scheduler to run the target";
  log_capture quiet;
  start(default_options());
  demonitor_race(rt(), false);
}

TEST_P(FailureMonitorsTest, NoDownMessageAfterDemonitorWithFlush) {
  if (schedulers() < 2) GTEST_SKIP() << "needs a second scheduler to run the target";
  log_capture quiet;
  start(default_options());
  demonitor_race(rt(), true);
}

}  // namespace
