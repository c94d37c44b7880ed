// Failure model, exit signals and exit reasons: exit/2 (including `normal` and
// `kill`), exit/1, how reasons print, signal order, signals from plain
// threads (OTP 25's exit/1, exit/2, process_flag(trap_exit)).

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureSignalsTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureSignalsTest);

// ---------------------------------------------------------------- reasons

struct not_formattable {
  int x = 0;
};

TEST(FailureExitReason, PrintsLikeErlang) {
  EXPECT_EQ(fmt::format("{}", exit_reason()), "normal");
  EXPECT_EQ(fmt::format("{}", exit_reason::normal()), "normal");
  EXPECT_EQ(fmt::format("{}", exit_reason::kill()), "kill");
  EXPECT_EQ(fmt::format("{}", exit_reason::killed()), "killed");
  EXPECT_EQ(fmt::format("{}", exit_reason::shutdown()), "shutdown");
  EXPECT_EQ(fmt::format("{}", exit_reason::shutdown("x")), "{shutdown,x}");
  EXPECT_EQ(fmt::format("{}", exit_reason::noproc()), "noproc");
  EXPECT_EQ(fmt::format("{}", exit_reason::noconnection()), "noconnection");
  EXPECT_EQ(fmt::format("{}", exit_reason::stack_overflow()), "stack_overflow");
  EXPECT_EQ(fmt::format("{}", exit_reason::max_heap_size()), "max_heap_size");
  EXPECT_EQ(fmt::format("{}", exit_reason::exception("std::runtime_error", "boom")),
            "{exception,std::runtime_error,\"boom\"}");
  EXPECT_EQ(fmt::format("{}", exit_reason::user("my own reason")), "my own reason");
  EXPECT_EQ(fmt::format("{}", exit_reason::user(42)), "42");
  EXPECT_EQ(fmt::format("{}", exit_reason::user(not_formattable{7})), "<user reason>");
}

TEST(FailureExitReason, KindsValuesAndEquality) {
  EXPECT_TRUE(exit_reason().is_normal());
  EXPECT_TRUE(exit_reason::normal().is_quiet());
  EXPECT_TRUE(exit_reason::shutdown().is_quiet());
  EXPECT_TRUE(exit_reason::shutdown("why").is_quiet());
  for (const exit_reason& r : {exit_reason::kill(), exit_reason::killed(), exit_reason::noproc(),
                               exit_reason::stack_overflow(), exit_reason::max_heap_size(),
                               exit_reason::exception("t", "w"), exit_reason::user("u")}) {
    EXPECT_FALSE(r.is_quiet()) << fmt::format("{}", r);
    EXPECT_FALSE(r.is_normal()) << fmt::format("{}", r);
  }
  const exit_reason e = exit_reason::exception("std::logic_error", "oops");
  EXPECT_EQ(e.kind(), kind::exception);
  EXPECT_EQ(e.exception_type(), "std::logic_error");
  EXPECT_EQ(e.detail(), "oops");
  EXPECT_EQ(e, exit_reason::exception("std::logic_error", "oops"));
  EXPECT_FALSE(e == exit_reason::exception("std::runtime_error", "oops"));
  EXPECT_FALSE(e == exit_reason::exception("std::logic_error", "other"));
  EXPECT_EQ(exit_reason::shutdown("a"), exit_reason::shutdown("a"));
  EXPECT_FALSE(exit_reason::shutdown("a") == exit_reason::shutdown());
  EXPECT_FALSE(exit_reason::killed() == exit_reason::kill());
  EXPECT_TRUE(exit_reason::killed() == kind::killed);
  const exit_reason v = exit_reason::user(std::vector<int>{1, 2, 3});
  ASSERT_NE(v.value<std::vector<int>>(), nullptr);
  EXPECT_EQ(v.value<std::vector<int>>()->size(), 3u);
  EXPECT_EQ(v.value<int>(), nullptr);
  EXPECT_EQ(to_string(kind::stack_overflow), "stack_overflow");
  const exit_reason copy = e;  // cheap, shared, equal
  EXPECT_EQ(copy, e);
}

TEST(FailureExitReason, MessagesAndRefsPrint) {
  const troupe::pid p(5, 1);
  EXPECT_EQ(fmt::format("{}", troupe::detail::monitor_ref_access::make(9)), "#Ref<0.9>");
  EXPECT_EQ(fmt::format("{}", troupe::exit_message{p, exit_reason::killed()}), "{'EXIT',<0.5.1>,killed}");
  EXPECT_EQ(fmt::format("{}", troupe::down_message{troupe::detail::monitor_ref_access::make(3), p, exit_reason::noproc()}),
            "{'DOWN',#Ref<0.3>,process,<0.5.1>,noproc}");
  EXPECT_EQ(troupe::process_error(exit_reason::noproc()).reason(), exit_reason::noproc());
  EXPECT_NE(std::string(troupe::process_error(exit_reason::noproc()).what()).find("noproc"), std::string::npos);
}

// An exception escaping a process becomes its reason: type and what().
TEST_P(FailureSignalsTest, EscapedExceptionIsTheReason) {
  log_capture quiet;
  struct outcome {
    exit_reason a, b, c;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.a = recv_down(troupe::spawn_monitor([] { throw std::runtime_error("boom"); }).second).reason;
    r.b = recv_down(troupe::spawn_monitor([] { throw std::out_of_range("far"); }).second).reason;
    r.c = recv_down(troupe::spawn_monitor([] { throw 7; }).second).reason;
    return r;
  });
  EXPECT_EQ(fmt::format("{}", o.a), "{exception,std::runtime_error,\"boom\"}");
  EXPECT_EQ(o.b.exception_type(), "std::out_of_range");
  EXPECT_EQ(o.b.detail(), "far");
  EXPECT_TRUE(o.c.is(kind::exception));
}

// ---------------------------------------------------------------- exit/2

// A helper that traps or not, reports readiness, and then answers pings until
// told to stop; whatever exit_message it gets is forwarded to `root`.
troupe::pid spawn_target(troupe::pid root, bool trapping, std::atomic<int>* unwound = nullptr) {
  return troupe::spawn([root, trapping, unwound] {
    struct mark {
      std::atomic<int>* n;
      ~mark() {
        if (n) n->fetch_add(1);
      }
    } m{unwound};
    if (trapping) troupe::trap_exit(true);
    troupe::send(root, std::string("ready"));
    for (;;) {
      const bool go_on = troupe::receive(
          [root](std::string s) {
            if (s == "stop") return false;
            troupe::send(root, s + " back");
            return true;
          },
          [root](troupe::exit_message e) {
            troupe::send(root, e);
            return true;
          });
      if (!go_on) return;
    }
  });
}

TEST_P(FailureSignalsTest, ExitSignalKillsANonTrappingTargetWithTheReason) {
  log_capture quiet;
  std::atomic<int> unwound{0};
  const exit_reason down = rt().run([&unwound] {
    const troupe::pid t = spawn_target(troupe::self(), false, &unwound);
    EXPECT_EQ(recv<std::string>(), "ready");
    const auto ref = troupe::monitor(t);
    troupe::exit(t, exit_reason::user("go away"));
    return recv_down(ref).reason;
  });
  EXPECT_EQ(down, exit_reason::user("go away"));
  EXPECT_EQ(unwound.load(), 1) << "the target's destructors ran";
}

TEST_P(FailureSignalsTest, TrappingTargetGetsTheSignalAsAMessage) {
  struct outcome {
    troupe::pid root, from;
    exit_reason reason;
    std::string reply;
    exit_reason down = exit_reason::killed();
  };
  const outcome o = rt().run([] {
    outcome r;
    r.root = troupe::self();
    const troupe::pid t = spawn_target(r.root, true);
    recv<std::string>();
    const auto ref = troupe::monitor(t);
    troupe::exit(t, exit_reason::user("please stop"));
    const auto m = recv<troupe::exit_message>();
    r.from = m.from;
    r.reason = m.reason;
    troupe::send(t, std::string("ping"));
    r.reply = recv<std::string>();
    troupe::send(t, std::string("stop"));
    r.down = recv_down(ref).reason;
    return r;
  });
  EXPECT_EQ(o.from, o.root);
  EXPECT_EQ(o.reason, exit_reason::user("please stop"));
  EXPECT_EQ(o.reply, "ping back");
  EXPECT_TRUE(o.down.is_normal());
}

// exit(pid, normal) is ignored by a non-trapping target other than the caller.
TEST_P(FailureSignalsTest, NormalExitSignalIsIgnoredByANonTrappingTarget) {
  struct outcome {
    std::string reply;
    exit_reason down = exit_reason::killed();
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid t = spawn_target(troupe::self(), false);
    recv<std::string>();
    const auto ref = troupe::monitor(t);
    troupe::exit(t, exit_reason::normal());
    troupe::send(t, std::string("ping"));
    r.reply = recv<std::string>();
    troupe::send(t, std::string("stop"));
    r.down = recv_down(ref).reason;
    return r;
  });
  EXPECT_EQ(o.reply, "ping back");
  EXPECT_TRUE(o.down.is_normal());
}

TEST_P(FailureSignalsTest, NormalExitSignalToATrappingTargetIsAMessage) {
  const exit_reason got = rt().run([] {
    const troupe::pid t = spawn_target(troupe::self(), true);
    recv<std::string>();
    troupe::exit(t, exit_reason::normal());
    const auto m = recv<troupe::exit_message>();
    troupe::send(t, std::string("stop"));
    return m.reason;
  });
  EXPECT_TRUE(got.is_normal());
}

// exit(self(), normal) ends the caller, normally (OTP's special case); code
// after it never runs, destructors do.
TEST_P(FailureSignalsTest, NormalExitSignalToSelfEndsTheCaller) {
  std::atomic<int> after{0};
  std::atomic<int> unwound{0};
  const exit_reason down = rt().run([&after, &unwound] {
    auto [p, ref] = troupe::spawn_monitor([&after, &unwound] {
      struct mark {
        std::atomic<int>& n;
        ~mark() { n.fetch_add(1); }
      } m{unwound};
      troupe::exit(troupe::self(), exit_reason::normal());
      after.fetch_add(1);
      troupe::yield();  // at the latest here
      after.fetch_add(1);
      troupe::receive([](double) {});
    });
    return recv_down(ref).reason;
  });
  EXPECT_TRUE(down.is_normal()) << fmt::format("{}", down);
  EXPECT_EQ(after.load(), 0) << "exit(self(), normal) takes effect in the call";
  EXPECT_EQ(unwound.load(), 1);
}

// ... but a trapping caller gets it as a message, from itself.
TEST_P(FailureSignalsTest, NormalExitSignalToSelfWhileTrappingIsAMessage) {
  const bool ok = rt().run([] {
    troupe::trap_exit(true);
    troupe::exit(troupe::self(), exit_reason::normal());
    const auto m = recv<troupe::exit_message>();
    return m.from == troupe::self() && m.reason.is_normal();
  });
  EXPECT_TRUE(ok);
}

TEST_P(FailureSignalsTest, ExitSignalToSelfWithAReasonEndsTheCaller) {
  log_capture quiet;
  const exit_reason down = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] {
      troupe::exit(troupe::self(), exit_reason::user("self-inflicted"));
      ADD_FAILURE() << "exit(self(), reason) returned";
    });
    return recv_down(ref).reason;
  });
  EXPECT_EQ(down, exit_reason::user("self-inflicted"));
}

// kill cannot be trapped; the target dies `killed`, and its links see
// `killed` as an ordinary reason: a trapping linked process gets a message, a
// non-trapping one dies with `killed` too.
TEST_P(FailureSignalsTest, KillIsUntrappableAndLinksSeeKilled) {
  log_capture quiet;
  struct outcome {
    exit_reason target, non_trapping_linked;
    troupe::pid target_pid, trapped_from;
    exit_reason trapped;
    bool trapped_kill_message = false;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    outcome r;
    const troupe::pid t = spawn_target(root, true);
    recv<std::string>();
    r.target_pid = t;
    const auto rt_ref = troupe::monitor(t);
    // A non-trapping process linked to the target.
    auto [nl, nl_ref] = troupe::spawn_monitor([root, t] {
      troupe::link(t);
      troupe::send(root, std::string("linked"));
      troupe::receive([](double) {});
    });
    recv<std::string>();
    // root itself traps and links.
    troupe::trap_exit(true);
    troupe::link(t);
    troupe::exit(t, exit_reason::kill());
    r.target = recv_down(rt_ref).reason;
    r.non_trapping_linked = recv_down(nl_ref).reason;
    const auto m = recv_exit_from(t);
    r.trapped_from = m.from;
    r.trapped = m.reason;
    // The target did not get to see `kill` as a message (it would have forwarded it).
    wait_gone(t);
    for (const auto& e : drain<troupe::exit_message>()) r.trapped_kill_message |= e.reason.is(kind::kill);
    return r;
  });
  EXPECT_TRUE(o.target.is(kind::killed)) << fmt::format("{}", o.target);
  EXPECT_TRUE(o.non_trapping_linked.is(kind::killed)) << fmt::format("{}", o.non_trapping_linked);
  EXPECT_TRUE(o.trapped.is(kind::killed)) << fmt::format("{}", o.trapped);
  EXPECT_EQ(o.trapped_from, o.target_pid);
  EXPECT_FALSE(o.trapped_kill_message);
}

TEST_P(FailureSignalsTest, KillEndsAProcessBlockedInReceiveOrSleep) {
  log_capture quiet;
  std::atomic<int> unwound{0};
  const int killed = rt().run([&unwound] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::monitor_ref> refs;
    std::vector<troupe::pid> ps;
    for (int i = 0; i < 10; ++i) {
      ps.push_back(troupe::spawn([root, &unwound, i] {
        struct mark {
          std::atomic<int>& n;
          ~mark() { n.fetch_add(1); }
        } m{unwound};
        troupe::trap_exit(i % 2 == 0);
        troupe::send(root, std::string("ready"));
        if (i % 3 == 0) {
          troupe::sleep_for(std::chrono::hours(1));
        } else if (i % 3 == 1) {
          troupe::receive([](double) {});
        } else {
          (void)troupe::receive_for<double>(std::chrono::hours(1));
        }
      }));
      refs.push_back(troupe::monitor(ps.back()));
    }
    for (int i = 0; i < 10; ++i) recv<std::string>();
    for (troupe::pid p : ps) troupe::exit(p, exit_reason::kill());
    int n = 0;
    for (auto ref : refs) n += recv_down(ref).reason.is(kind::killed);
    return n;
  });
  EXPECT_EQ(killed, 10);
  EXPECT_EQ(unwound.load(), 10);
}

// A process ending itself with exit(kill) (exit/1) dies with reason `kill`,
// which travels on links as an ordinary reason (as in OTP: a trapping linked
// process gets {'EXIT', Pid, kill}, a non-trapping one dies with `kill`).
TEST_P(FailureSignalsTest, ExitOneWithKillTravelsAsAnOrdinaryReason) {
  log_capture quiet;
  struct outcome {
    exit_reason self_reason, trapped, linked;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::trap_exit(true);
    outcome r;
    // root (trapping) <-> k, and k <-> nl (non-trapping)
    const troupe::pid k = troupe::spawn_link([root] {
      troupe::spawn_link([root] {
        troupe::send(root, troupe::self());
        troupe::receive([](double) {});
      });
      recv<std::string>();
      troupe::exit(exit_reason::kill());
    });
    const auto kref = troupe::monitor(k);
    const troupe::pid nl = recv<troupe::pid>();
    const auto nlref = troupe::monitor(nl);
    troupe::send(k, std::string("go"));
    r.self_reason = recv_down(kref).reason;
    r.trapped = recv_exit_from(k).reason;
    r.linked = recv_down(nlref).reason;
    return r;
  });
  EXPECT_TRUE(o.self_reason.is(kind::kill)) << fmt::format("{}", o.self_reason);
  EXPECT_TRUE(o.trapped.is(kind::kill)) << fmt::format("{}", o.trapped);
  EXPECT_TRUE(o.linked.is(kind::kill)) << fmt::format("{}", o.linked);
}

// exit/1 ends the caller with the reason, unwinding its stack; an ordinary
// catch (const std::exception&) does not stop it.
TEST_P(FailureSignalsTest, ExitOneEndsTheCallerWithTheReason) {
  log_capture quiet;
  struct outcome {
    exit_reason a, b;
  };
  std::atomic<int> caught{0};
  const outcome o = rt().run([&caught] {
    outcome r;
    r.a = recv_down(troupe::spawn_monitor([] { troupe::exit(exit_reason::user("had enough")); }).second).reason;
    r.b = recv_down(troupe::spawn_monitor([&caught] {
            stack_probe probe;
            try {
              troupe::exit(exit_reason::shutdown("bye"));
            } catch (const std::exception&) {
              caught.fetch_add(1);
            }
          }).second).reason;
    return r;
  });
  EXPECT_EQ(o.a, exit_reason::user("had enough"));
  EXPECT_EQ(o.b, exit_reason::shutdown("bye"));
  EXPECT_EQ(caught.load(), 0);
}

// An exit signal to a dead pid (or the null pid) is ignored.
TEST_P(FailureSignalsTest, ExitSignalToADeadPidIsIgnored) {
  const bool fine = rt().run([] {
    const troupe::pid dead = dead_pid();
    troupe::exit(dead, exit_reason::kill());
    troupe::exit(dead, exit_reason::user("x"));
    troupe::exit(troupe::pid{}, exit_reason::kill());
    return true;
  });
  EXPECT_TRUE(fine);
  const troupe::pid dead = rt().run([] { return troupe::self(); });
  wait_gone(dead);
  troupe::exit(dead, exit_reason::kill());  // from a plain thread too
}

// exit/2 from a plain thread: works like from a process; the trapped message
// says it came from the null pid.
TEST_P(FailureSignalsTest, ExitSignalFromAPlainThread) {
  log_capture quiet;
  rt();
  std::atomic<bool> trapping_ready{false};
  std::atomic<int> got{0};
  troupe::pid from_seen(7, 7);
  std::string reason_seen;
  const troupe::pid trapper = troupe::spawn([&] {
    troupe::trap_exit(true);
    trapping_ready.store(true);
    const auto m = recv<troupe::exit_message>();
    from_seen = m.from;
    reason_seen = fmt::format("{}", m.reason);
    got.store(1);
  });
  std::atomic<bool> blocked_ready{false};
  const troupe::pid victim = troupe::spawn([&] {
    blocked_ready.store(true);
    troupe::receive([](double) {});
  });
  ASSERT_TRUE(wait_until([&] { return trapping_ready.load() && blocked_ready.load(); }));
  troupe::exit(trapper, exit_reason::user("from a thread"));
  troupe::exit(victim, exit_reason::user("from a thread"));
  ASSERT_TRUE(wait_until([&] { return got.load() == 1; }));
  EXPECT_EQ(from_seen, troupe::pid{});
  EXPECT_EQ(reason_seen, "from a thread");
  EXPECT_TRUE(wait_gone(victim));
  EXPECT_TRUE(wait_gone(trapper));
}

// Signals from one sender to one receiver arrive in the order sent, messages
// and exit signals alike (OTP: "if an entity sends multiple signals to the
// same destination entity, the order is preserved"). A trapping receiver must
// therefore see the exit_message before a message sent after the exit/2.
TEST_P(FailureSignalsTest, ExitSignalThenMessageArriveInOrder) {
  constexpr int rounds = 50;
  const int in_order = rt().run([] {
    const troupe::pid root = troupe::self();
    int good = 0;
    for (int i = 0; i < rounds; ++i) {
      const troupe::pid t = troupe::spawn([root] {
        troupe::trap_exit(true);
        troupe::send(root, std::string("trapping"));
        recv<std::string>();  // "go": both signals below were sent before it
        const bool exit_first = troupe::receive([](troupe::exit_message) { return true; }, [](int) { return false; });
        troupe::send(root, exit_first);
        troupe::receive([](troupe::exit_message) {}, [](int) {});  // the other one
      });
      recv<std::string>();
      troupe::exit(t, exit_reason::user("first"));
      troupe::send(t, 2);
      troupe::send(t, std::string("go"));
      good += recv<bool>();
    }
    return good;
  });
  EXPECT_EQ(in_order, rounds) << "an exit_message overtook by a message sent after it";
}

// A process that computes without blocking sees a signal at its next runtime
// call (here consume_reductions / yield).
TEST_P(FailureSignalsTest, BusyProcessDiesAtItsNextRuntimeCall) {
  log_capture quiet;
  const std::pair<exit_reason, exit_reason> o = rt().run([] {
    const troupe::pid root = troupe::self();
    auto [a, ra] = troupe::spawn_monitor([root] {
      troupe::send(root, std::string("busy"));
      for (;;) troupe::consume_reductions(1);
    });
    auto [b, rb] = troupe::spawn_monitor([root] {
      troupe::send(root, std::string("busy"));
      for (;;) troupe::yield();
    });
    recv<std::string>();
    recv<std::string>();
    troupe::exit(a, exit_reason::user("stop computing"));
    troupe::exit(b, exit_reason::kill());
    return std::make_pair(recv_down(ra).reason, recv_down(rb).reason);
  });
  EXPECT_EQ(o.first, exit_reason::user("stop computing"));
  EXPECT_TRUE(o.second.is(kind::killed)) << fmt::format("{}", o.second);
}

// A trapping process asleep in sleep_for: the signal becomes a message and
// does not end it.
TEST_P(FailureSignalsTest, TrappedSignalDuringSleepBecomesAMessage) {
  const std::pair<std::string, exit_reason> o = rt().run([] {
    const troupe::pid root = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([root] {
      troupe::trap_exit(true);
      troupe::send(root, std::string("sleeping"));
      troupe::sleep_for(std::chrono::milliseconds(30));
      const auto m = recv<troupe::exit_message>();
      troupe::send(root, fmt::format("woke with {}", m.reason));
    });
    recv<std::string>();
    troupe::exit(p, exit_reason::user("wake up"));
    const std::string said = recv<std::string>();
    return std::make_pair(said, recv_down(ref).reason);
  });
  EXPECT_EQ(o.first, "woke with wake up");
  EXPECT_TRUE(o.second.is_normal()) << fmt::format("{}", o.second);
}

// An exit signal sent right after spawn, possibly before the process first
// runs: it dies with that reason, and on one scheduler it never runs at all.
TEST_P(FailureSignalsTest, ExitSignalBeforeTheProcessFirstRuns) {
  log_capture quiet;
  std::atomic<int> ran{0};
  const exit_reason why = rt().run([&ran] {
    auto [p, ref] = troupe::spawn_monitor([&ran] {
      ran.fetch_add(1);
      troupe::receive([](double) {});
    });
    troupe::exit(p, exit_reason::user("too early"));
    return recv_down(ref).reason;
  });
  EXPECT_EQ(why, exit_reason::user("too early"));
  if (schedulers() == 1) EXPECT_EQ(ran.load(), 0) << "the body ran although the signal came first";
}

// What a process sent before it died arrives before the news of its death:
// messages before the exit_message (trapping link) and the down_message.
TEST_P(FailureSignalsTest, MessagesSentBeforeDeathArriveFirst) {
  log_capture quiet;
  constexpr int n = 200;
  struct outcome {
    int ints_before_exit = -1, ints_before_down = -1;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::trap_exit(true);
    const troupe::pid a = troupe::spawn_link([root] {
      for (int i = 0; i < n; ++i) troupe::send(root, i);
      throw std::runtime_error("after sending");
    });
    const troupe::pid watcher = troupe::spawn([root] {
      auto [b, ref] = troupe::spawn_monitor([me = troupe::self()] {
        for (int i = 0; i < n; ++i) troupe::send(me, i);
        troupe::exit(exit_reason::user("after sending too"));
      });
      int before = 0;
      for (;;) {
        const bool down = troupe::receive([&before](int) { ++before; return false; },
                                          [](troupe::down_message) { return true; });
        if (down) break;
      }
      troupe::send(root, std::make_pair(std::string("down"), before));
    });
    (void)watcher;
    outcome r;
    int before = 0;
    for (;;) {
      const bool exited = troupe::receive([&before](int) { ++before; return false; },
                                          [a](const troupe::exit_message& m) { return m.from == a; });
      if (exited) break;
    }
    r.ints_before_exit = before;
    r.ints_before_down = recv<std::pair<std::string, int>>().second;
    return r;
  });
  EXPECT_EQ(o.ints_before_exit, n);
  EXPECT_EQ(o.ints_before_down, n);
}

// A non-trapping process dies of an exit signal before it can handle any
// message sent after the signal (signals and messages from one sender keep
// their order), even when one receive pulls them all in at once.
TEST_P(FailureSignalsTest, NoMessageAfterAFatalSignalIsHandled) {
  log_capture quiet;
  constexpr int rounds = 100;
  std::atomic<int> handled_after{0};
  const int died_right = rt().run([&handled_after] {
    const troupe::pid root = troupe::self();
    int right = 0;
    for (int i = 0; i < rounds; ++i) {
      auto [t, ref] = troupe::spawn_monitor([root, &handled_after] {
        troupe::send(root, std::string("waiting"));
        for (;;) {
          troupe::receive([&handled_after](const std::string& s) {
            if (s == "after the signal") handled_after.fetch_add(1);
          });
        }
      });
      recv<std::string>();
      troupe::send(t, 1);  // not matched: stays in the mailbox
      troupe::exit(t, i % 2 ? exit_reason::kill() : exit_reason::user("die"));
      troupe::send(t, std::string("after the signal"));
      const exit_reason why = recv_down(ref).reason;
      right += i % 2 ? why.is(kind::killed) : why == exit_reason::user("die");
    }
    return right;
  });
  EXPECT_EQ(died_right, rounds);
  EXPECT_EQ(handled_after.load(), 0) << "a message sent after a fatal exit signal was handled";
}

// Many processes send exit signals to one trapping process at once: each
// arrives as exactly one message.
TEST_P(FailureSignalsTest, ManyExitSignalsToOneTrappingProcess) {
  constexpr int senders = 500;
  const int got = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::trap_exit(true);
    for (int i = 0; i < senders; ++i) {
      troupe::spawn([root, i] { troupe::exit(root, exit_reason::user(fmt::format("s{}", i))); });
    }
    std::vector<int> seen(senders, 0);
    for (int i = 0; i < senders; ++i) {
      const auto m = recv<troupe::exit_message>();
      const int k = std::stoi(std::string(m.reason.detail().substr(1)));
      ++seen[k];
    }
    int once = 0;
    for (int s : seen) once += s == 1;
    return once;
  });
  EXPECT_EQ(got, senders);
}

// runtime::run's process ended by exit/1 or an exit signal: it exits with
// that reason like any process (its monitors and links see it, not
// `normal`), and run() reports a failure to its caller.
TEST_P(FailureSignalsTest, RunsProcessEndedByAnExitKeepsItsReason) {
  log_capture quiet;
  rt();
  std::string seen;
  std::atomic<bool> done{false};
  const troupe::pid watcher = troupe::spawn([&seen, &done] {
    const troupe::pid p = recv<troupe::pid>();
    const auto ref = troupe::monitor(p);
    troupe::send(p, std::string("monitoring"));
    seen = fmt::format("{}", recv_down(ref).reason);
    done.store(true);
  });
  EXPECT_ANY_THROW(rt().run([watcher] {
    troupe::send(watcher, troupe::self());
    recv<std::string>();
    troupe::exit(exit_reason::user("root killed"));
  }));
  ASSERT_TRUE(wait_until([&] { return done.load(); }));
  EXPECT_EQ(seen, "root killed") << "the monitor of run()'s process saw the wrong reason";
}

// ---------------------------------------------------------------- unwinding

// A process unwinding because of one exit signal may run destructors that
// call into the runtime (an RAII "notify on exit" guard). A second exit signal
// arriving meanwhile must not end the program: the process is already dying.
// Run in a child process (death-test machinery) so a std::terminate fails
// this test only.
void second_signal_while_unwinding(unsigned schedulers) {
  const long probes0 = stack_probe::live.load();
  int downs = 0;
  {
    troupe::runtime r({.schedulers = schedulers});
    downs = r.run([] {
      const troupe::pid root = troupe::self();
      auto [p, ref] = troupe::spawn_monitor([root] {
        struct notify_on_exit {
          troupe::pid to;
          ~notify_on_exit() {
            troupe::send(to, std::string("unwinding"));
            // Enough work to use up the slice: the process is switched out in
            // here, and the second signal arrives.
            for (int i = 0; i < 3 * troupe::reductions_per_slice; ++i) troupe::send(to, i);
          }
        } guard{root};
        stack_probe probe;
        troupe::send(root, std::string("ready"));
        troupe::receive([](double) {});
      });
      troupe::receive([](std::string s) { return s == "ready"; });
      troupe::exit(p, exit_reason::user("first"));
      troupe::receive([](std::string s) { return s == "unwinding"; });
      troupe::exit(p, exit_reason::user("second"));
      const auto d = troupe::receive(troupe::when([ref](const troupe::down_message& m) { return m.ref == ref; },
                                                  [](troupe::down_message m) { return m; }));
      return d.reason == exit_reason::user("first") ? 1 : 0;
    });
  }
  const bool clean = stack_probe::live.load() == probes0;
  std::fprintf(stderr, "finished downs=%d%s\n", downs, clean ? "" : " but leaked");
  std::exit(downs == 1 && clean ? 0 : 1);
}

class FailureUnwindDeathTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureUnwindDeathTest);

TEST_P(FailureUnwindDeathTest, SecondExitSignalWhileUnwindingDoesNotTerminate) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        log_capture quiet;
        second_signal_while_unwinding(schedulers());
      },
      ::testing::ExitedWithCode(0), "finished downs=1\n");
}

}  // namespace
