// Failure model, links: spawn_link, link/unlink, propagation of exit reasons
// along links, trap_exit, link to a dead process (OTP 25's link/1, unlink/1,
// process_flag(trap_exit)).

#include <fmt/format.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureLinksTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureLinksTest);

const exit_reason boom = exit_reason::exception("std::runtime_error", "boom");

// ---------------------------------------------------------------- spawn_link

// The link exists before the child runs: a child that throws at once still
// reaches its trapping parent, with the exception as the reason. Repeated,
// because on several schedulers the child may run before spawn_link returns.
TEST_P(FailureLinksTest, SpawnLinkIsAtomicEvenIfTheChildCrashesAtOnce) {
  log_capture quiet;
  constexpr int rounds = 200;
  const int ok = rt().run([] {
    EXPECT_FALSE(troupe::trap_exit(true));
    int good = 0;
    for (int i = 0; i < rounds; ++i) {
      const troupe::pid child = troupe::spawn_link([] { throw std::runtime_error("boom"); });
      const troupe::exit_message m = recv_exit_from(child);
      good += m.reason == boom && m.reason.exception_type() == "std::runtime_error" && m.reason.detail() == "boom";
    }
    return good;
  });
  EXPECT_EQ(ok, rounds);
}

TEST_P(FailureLinksTest, SpawnLinkedChildSeesItsLinkAtOnce) {
  const bool linked = rt().run([] {
    const troupe::pid parent = troupe::self();
    troupe::trap_exit(true);
    const troupe::pid child = troupe::spawn_link([parent] {
      const auto info = troupe::process_info(troupe::self());
      troupe::send(parent, info && contains(info->links, parent));
    });
    const bool child_saw = recv<bool>();
    EXPECT_TRUE(recv_exit_from(child).reason.is_normal());
    return child_saw;
  });
  EXPECT_TRUE(linked);
}

// ---------------------------------------------------------------- bidirectional

// The parent dies; its trapping child hears of it.
TEST_P(FailureLinksTest, LinksAreBidirectional) {
  log_capture quiet;
  struct outcome {
    exit_reason child_got;
    troupe::pid child_from;
    troupe::pid parent;
    exit_reason parent_down;
  };
  const outcome out = rt().run([] {
    const troupe::pid root = troupe::self();
    auto [parent, ref] = troupe::spawn_monitor([root] {
      const troupe::pid me = troupe::self();
      troupe::spawn_link([root, me] {
        troupe::trap_exit(true);
        troupe::send(me, std::string("trapping"));
        const troupe::exit_message m = recv_exit_from(me);
        troupe::send(root, m);
      });
      recv<std::string>();
      throw std::runtime_error("boom");
    });
    outcome o;
    o.parent = parent;
    o.parent_down = recv_down(ref).reason;
    const auto m = recv<troupe::exit_message>();
    o.child_got = m.reason;
    o.child_from = m.from;
    return o;
  });
  EXPECT_EQ(out.parent_down, boom);
  EXPECT_EQ(out.child_got, boom);
  EXPECT_EQ(out.child_from, out.parent);
}

// link() made by either side is one link, seen from both sides; linking twice
// (or from both ends) is still one link, and one unlink removes it.
TEST_P(FailureLinksTest, LinkFromEitherSideIsOneLink) {
  struct outcome {
    std::size_t root_links = 0, other_links = 0;
    bool root_has_other = false, other_has_root = false;
    std::size_t after_unlink_root = 0, after_unlink_other = 0;
  };
  const outcome out = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid other = troupe::spawn([root] {
      recv<std::string>();
      troupe::link(root);  // the same link again, from the other end
      troupe::send(root, std::string("linked too"));
      recv<std::string>();
    });
    troupe::link(other);
    troupe::link(other);
    troupe::send(other, std::string("link back"));
    recv<std::string>();
    outcome o;
    const auto ri = troupe::process_info(root);
    const auto oi = troupe::process_info(other);
    o.root_links = ri->links.size();
    o.other_links = oi->links.size();
    o.root_has_other = contains(ri->links, other);
    o.other_has_root = contains(oi->links, root);
    troupe::unlink(other);
    o.after_unlink_root = troupe::process_info(root)->links.size();
    o.after_unlink_other = troupe::process_info(other)->links.size();
    troupe::send(other, std::string("bye"));
    return o;
  });
  EXPECT_EQ(out.root_links, 1u);
  EXPECT_EQ(out.other_links, 1u);
  EXPECT_TRUE(out.root_has_other);
  EXPECT_TRUE(out.other_has_root);
  EXPECT_EQ(out.after_unlink_root, 0u);
  EXPECT_EQ(out.after_unlink_other, 0u);
}

// One link is kept inline and more spill into a set: each way through,
// the links are exactly those made, and each still carries its exit.
TEST_P(FailureLinksTest, LinksStayExactFromOneToManyAndBack) {
  struct outcome {
    std::vector<std::size_t> counts;
    bool first_gone_after_unlink = false, exits_from_linked = false, none_from_unlinked = false;
  };
  const outcome out = rt().run([] {
    troupe::trap_exit(true);
    std::vector<troupe::pid> ps;
    for (int i = 0; i < 4; ++i) ps.push_back(troupe::spawn([] { recv<std::string>(); }));
    outcome o;
    auto links = [] { return troupe::process_info(troupe::self())->links; };
    troupe::link(ps[0]);
    o.counts.push_back(links().size());
    troupe::link(ps[1]);
    troupe::link(ps[2]);
    troupe::link(ps[2]);
    o.counts.push_back(links().size());
    troupe::unlink(ps[0]);
    o.first_gone_after_unlink = !contains(links(), ps[0]) && contains(links(), ps[1]) && contains(links(), ps[2]);
    troupe::unlink(ps[1]);
    troupe::unlink(ps[2]);
    o.counts.push_back(links().size());
    troupe::link(ps[3]);
    troupe::link(ps[2]);
    o.counts.push_back(links().size());
    for (troupe::pid p : ps) troupe::exit(p, exit_reason::user("bye"));
    o.exits_from_linked = recv_exit_from(ps[3]).reason == exit_reason::user("bye") &&
                          recv_exit_from(ps[2]).reason == exit_reason::user("bye");
    wait_gone(ps[0]);
    wait_gone(ps[1]);
    o.none_from_unlinked = drain<troupe::exit_message>().empty();
    o.counts.push_back(links().size());
    return o;
  });
  EXPECT_EQ(out.counts, (std::vector<std::size_t>{1, 3, 0, 2, 0}));
  EXPECT_TRUE(out.first_gone_after_unlink);
  EXPECT_TRUE(out.exits_from_linked);
  EXPECT_TRUE(out.none_from_unlinked);
}

TEST_P(FailureLinksTest, LinkToSelfIsANoOp) {
  const std::size_t links = rt().run([] {
    troupe::link(troupe::self());
    troupe::unlink(troupe::self());
    troupe::link(troupe::self());
    return troupe::process_info(troupe::self())->links.size();
  });
  EXPECT_EQ(links, 0u);
}

// ---------------------------------------------------------------- propagation

// A non-normal exit kills every linked process that does not trap exits, with
// the same reason, and they in turn kill theirs; trapping ones get a message
// and live on.
struct propagation {
  exit_reason crasher, linked, linked_of_linked;
  exit_reason trapped;
  troupe::pid trapped_from;
  troupe::pid crasher_pid;
  bool trapper_alive_after = false;
};

propagation propagate(exit_reason why) {
  const troupe::pid root = troupe::self();
  // crasher <-> a <-> b, and crasher <-> trapper
  auto [crasher, rc] = troupe::spawn_monitor([why] {
    recv<std::string>();
    troupe::exit(why);
  });
  auto [a, ra] = troupe::spawn_monitor([crasher, root] {
    troupe::link(crasher);
    troupe::spawn_link([root] {
      troupe::send(root, troupe::self());
      troupe::receive([](double) {});
    });
    troupe::receive([](double) {});
  });
  // a linked to crasher before spawn_link, so both of a's links exist now.
  const troupe::pid b = recv<troupe::pid>();
  const troupe::monitor_ref rb = troupe::monitor(b);
  auto [trapper, rtr] = troupe::spawn_monitor([crasher, root] {
    troupe::trap_exit(true);
    troupe::link(crasher);
    troupe::send(root, std::string("trapping"));
    troupe::send(root, recv<troupe::exit_message>());
    recv<std::string>();  // still alive and answering
    troupe::send(root, std::string("alive"));
  });
  recv<std::string>();
  troupe::send(crasher, std::string("go"));
  propagation o;
  o.crasher_pid = crasher;
  o.crasher = recv_down(rc).reason;
  o.linked = recv_down(ra).reason;
  o.linked_of_linked = recv_down(rb).reason;
  const auto m = recv<troupe::exit_message>();
  o.trapped = m.reason;
  o.trapped_from = m.from;
  troupe::send(trapper, std::string("still there?"));
  o.trapper_alive_after = recv<std::string>() == "alive";
  recv_down(rtr);
  return o;
}

TEST_P(FailureLinksTest, UserReasonPropagatesUnchanged) {
  log_capture quiet;
  const exit_reason why = exit_reason::user("custom-reason");
  const propagation o = rt().run(propagate, why);
  EXPECT_EQ(o.crasher, why);
  EXPECT_EQ(o.linked, why);
  EXPECT_EQ(o.linked_of_linked, why);
  EXPECT_EQ(o.trapped, why);
  EXPECT_EQ(o.trapped_from, o.crasher_pid);
  EXPECT_TRUE(o.trapper_alive_after);
}

TEST_P(FailureLinksTest, ShutdownReasonPropagatesUnchanged) {
  log_capture quiet;
  const exit_reason why = exit_reason::shutdown("going away");
  const propagation o = rt().run(propagate, why);
  EXPECT_EQ(o.crasher, why);
  EXPECT_EQ(o.linked, why);
  EXPECT_EQ(o.linked_of_linked, why);
  EXPECT_EQ(o.trapped, why);
  EXPECT_EQ(fmt::format("{}", o.linked), "{shutdown,going away}");
}

TEST_P(FailureLinksTest, ExceptionReasonPropagatesUnchanged) {
  log_capture quiet;
  struct outcome {
    exit_reason a, b;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    auto [a, ra] = troupe::spawn_monitor([root] {
      troupe::spawn_link([root] {
        troupe::send(root, troupe::self());
        recv<std::string>();
        throw std::runtime_error("boom");
      });
      troupe::receive([](double) {});
    });
    const troupe::pid b = recv<troupe::pid>();
    const auto rb = troupe::monitor(b);
    troupe::send(b, std::string("crash"));
    outcome r;
    r.b = recv_down(rb).reason;
    r.a = recv_down(ra).reason;
    return r;
  });
  EXPECT_EQ(o.b, boom);
  EXPECT_EQ(o.a, boom);
  EXPECT_EQ(fmt::format("{}", o.a), "{exception,std::runtime_error,\"boom\"}");
}

// A normal exit does not kill a linked process that does not trap exits; the
// link is gone afterwards. A trapping one gets exit_message{from, normal}.
TEST_P(FailureLinksTest, NormalExitDoesNotKillLinkedProcesses) {
  struct outcome {
    std::string reply;
    std::size_t survivor_links = 99;
    exit_reason trapped = exit_reason::killed();
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid survivor = troupe::spawn([root] {
      const troupe::pid quitter = troupe::spawn_link([] { recv<std::string>(); });  // returns: normal
      troupe::send(root, quitter);
      for (;;) {
        const std::string s = recv<std::string>();
        if (s == "stop") return;
        troupe::send(root, s + " back");
      }
    });
    const troupe::pid quitter = recv<troupe::pid>();
    const auto rq = troupe::monitor(quitter);
    troupe::trap_exit(true);
    troupe::link(quitter);
    troupe::send(quitter, std::string("go"));
    outcome r;
    EXPECT_TRUE(recv_down(rq).reason.is_normal());
    r.trapped = recv_exit_from(quitter).reason;
    wait_gone(quitter);
    troupe::send(survivor, std::string("ping"));
    r.reply = recv<std::string>();
    r.survivor_links = troupe::process_info(survivor)->links.size();
    troupe::send(survivor, std::string("stop"));
    return r;
  });
  EXPECT_EQ(o.reply, "ping back");
  EXPECT_EQ(o.survivor_links, 0u);
  EXPECT_TRUE(o.trapped.is_normal());
}

// A trapping process in the middle of a chain stops the propagation.
TEST_P(FailureLinksTest, TrappingProcessStopsPropagation) {
  log_capture quiet;
  struct outcome {
    exit_reason middle_got;
    std::string outer_reply;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    // outer <-> middle(trapping) <-> inner
    const troupe::pid outer = troupe::spawn([root] {
      troupe::spawn_link([root, outer = troupe::self()] {
        troupe::trap_exit(true);
        const troupe::pid inner = troupe::spawn_link([root] {
          troupe::send(root, troupe::self());
          recv<std::string>();
          throw std::runtime_error("boom");
        });
        troupe::send(root, recv_exit_from(inner).reason);
        recv_exit_from(outer);  // the outer process's end reaches us as a message too
      });
      for (;;) {
        const std::string s = recv<std::string>();
        if (s == "stop") troupe::exit(exit_reason::user("outer done"));  // takes middle down too
        troupe::send(root, s + " back");
      }
    });
    const troupe::pid inner = recv<troupe::pid>();
    troupe::send(inner, std::string("crash"));
    outcome r;
    r.middle_got = recv<exit_reason>();
    troupe::send(outer, std::string("ping"));
    r.outer_reply = recv<std::string>();
    troupe::send(outer, std::string("stop"));
    return r;
  });
  rt().wait_idle();  // the outer process's crash report goes to the capture
  EXPECT_EQ(o.middle_got, boom);
  EXPECT_EQ(o.outer_reply, "ping back");
}

// ---------------------------------------------------------------- link to a dead process

TEST_P(FailureLinksTest, LinkToDeadPidWhileTrappingGivesNoprocMessage) {
  struct outcome {
    troupe::pid dead, from;
    exit_reason reason;
    std::size_t links = 99;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.dead = dead_pid();
    troupe::trap_exit(true);
    troupe::link(r.dead);  // does not throw
    const auto m = recv_exit_from(r.dead);
    r.from = m.from;
    r.reason = m.reason;
    r.links = troupe::process_info(troupe::self())->links.size();
    return r;
  });
  EXPECT_EQ(o.from, o.dead);
  EXPECT_TRUE(o.reason.is(kind::noproc));
  EXPECT_EQ(o.links, 0u);
}

TEST_P(FailureLinksTest, LinkToDeadPidWithoutTrappingThrowsNoproc) {
  struct outcome {
    bool threw = false;
    exit_reason reason;
    std::size_t links = 99;
    bool no_exit_message = false;
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid dead = dead_pid();
    try {
      troupe::link(dead);
    } catch (const troupe::process_error& e) {
      r.threw = true;
      r.reason = e.reason();
    }
    r.links = troupe::process_info(troupe::self())->links.size();
    r.no_exit_message = no_message_of<troupe::exit_message>();
    return r;
  });
  EXPECT_TRUE(o.threw);
  EXPECT_TRUE(o.reason.is(kind::noproc));
  EXPECT_EQ(o.links, 0u);
  EXPECT_TRUE(o.no_exit_message);
}

// Uncaught, the process_error ends the process with reason noproc (not as an
// exception).
TEST_P(FailureLinksTest, UncaughtNoprocFromLinkEndsTheProcessWithNoproc) {
  log_capture quiet;
  const exit_reason down = rt().run([] {
    const troupe::pid dead = dead_pid();
    auto [p, ref] = troupe::spawn_monitor([dead] {
      troupe::link(dead);
      ADD_FAILURE() << "link to a dead pid returned in a non-trapping process";
    });
    return recv_down(ref).reason;
  });
  EXPECT_TRUE(down.is(kind::noproc)) << fmt::format("{}", down);
  EXPECT_EQ(fmt::format("{}", down), "noproc");
}

TEST_P(FailureLinksTest, LinkToNullPidIsNoproc) {
  const bool threw = rt().run([] {
    try {
      troupe::link(troupe::pid{});
    } catch (const troupe::process_error& e) {
      return e.reason().is(kind::noproc);
    }
    return false;
  });
  EXPECT_TRUE(threw);
}

// A process_error thrown by hand ends the process with its reason.
TEST_P(FailureLinksTest, ThrownProcessErrorEndsTheProcessWithItsReason) {
  log_capture quiet;
  const exit_reason down = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] { throw troupe::process_error(exit_reason::user("deep down")); });
    return recv_down(ref).reason;
  });
  EXPECT_EQ(down, exit_reason::user("deep down"));
}

// ---------------------------------------------------------------- unlink

TEST_P(FailureLinksTest, UnlinkStopsPropagation) {
  log_capture quiet;
  struct outcome {
    std::string non_trapping_reply;
    bool trapping_got_nothing = false;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    outcome r;
    // Links a child, unlinks it, has it crash, and waits until it is gone.
    const auto unlink_then_crash_child = [] {
      const troupe::pid child = troupe::spawn_link([] {
        recv<std::string>();
        throw std::runtime_error("boom");
      });
      troupe::unlink(child);
      const auto ref = troupe::monitor(child);
      troupe::send(child, std::string("crash"));
      recv_down(ref);
      wait_gone(child);
    };
    // A non-trapping process unlinks from a child that then crashes.
    troupe::spawn([root, unlink_then_crash_child] {
      unlink_then_crash_child();
      troupe::send(root, std::string("survived"));
    });
    r.non_trapping_reply = recv<std::string>();
    // A trapping process (root) unlinks: no exit_message either.
    troupe::trap_exit(true);
    unlink_then_crash_child();
    r.trapping_got_nothing = no_message_of<troupe::exit_message>();
    return r;
  });
  EXPECT_EQ(o.non_trapping_reply, "survived");
  EXPECT_TRUE(o.trapping_got_nothing);
}

// The other side unlinks: the link is gone from both ends.
TEST_P(FailureLinksTest, UnlinkFromTheOtherSideStopsPropagation) {
  log_capture quiet;
  const bool nothing = rt().run([] {
    troupe::trap_exit(true);
    const troupe::pid root = troupe::self();
    const troupe::pid child = troupe::spawn_link([root] {
      troupe::unlink(root);
      troupe::send(root, std::string("unlinked"));
      recv<std::string>();
      throw std::runtime_error("boom");
    });
    recv<std::string>();
    const auto ref = troupe::monitor(child);
    troupe::send(child, std::string("crash"));
    recv_down(ref);
    wait_gone(child);
    return no_message_of<troupe::exit_message>() && troupe::process_info(root)->links.empty();
  });
  EXPECT_TRUE(nothing);
}

// unlink() after the linked process died, but before the caller acted on the
// exit signal: the signal has no effect ("once it returns, the link has no
// further effect on the caller"). The caller must make no runtime call
// between the death and the unlink, so it spins on process_info (which does
// not act on signals) until the other process is gone, while a plain thread
// wakes that one up on another scheduler.
TEST_P(FailureLinksTest, UnlinkDiscardsAnExitSignalAlreadyOnItsWay) {
  if (schedulers() < 2) GTEST_SKIP() << "needs a second scheduler to run the linked process";
  log_capture quiet;
  plain_thread_waker waker;
  constexpr int rounds = 20;
  const int survived = rt().run([&waker] {
    const troupe::pid root = troupe::self();
    int alive = 0;
    for (int i = 0; i < rounds; ++i) {
      auto [a, ref] = troupe::spawn_monitor([root, &waker] {
        const troupe::pid me = troupe::self();
        const troupe::pid child = troupe::spawn_link([me] {
          troupe::send(me, std::string("ready"));
          recv<std::string>();  // "go", from the plain thread
          throw std::runtime_error("boom");
        });
        recv<std::string>();
        waker.wake(child);
        // No runtime calls from here to unlink.
        const auto until = steady::now() + hang_timeout;
        bool gone = false;
        while (!(gone = !troupe::process_info(child)) && steady::now() < until) {
        }
        troupe::unlink(child);
        troupe::send(root, gone);
      });
      (void)a;
      const auto reply = troupe::receive([](bool g) { return std::optional<bool>(g); },
                                         [](troupe::down_message d) {
                                           ADD_FAILURE() << "killed through an unlinked link: " << fmt::format("{}", d);
                                           return std::optional<bool>();
                                         });
      if (reply) {
        EXPECT_TRUE(*reply) << "the linked process did not exit (hang?)";
        ++alive;
        EXPECT_TRUE(recv_down(ref).reason.is_normal());
      }
    }
    return alive;
  });
  EXPECT_EQ(survived, rounds);
}

// ---------------------------------------------------------------- trap_exit

TEST_P(FailureLinksTest, TrapExitReturnsThePreviousFlag) {
  struct outcome {
    bool initially, first, second, third, now;
    bool info_on = false, info_off = true;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.initially = troupe::trap_exit();
    r.first = troupe::trap_exit(true);
    r.info_on = troupe::process_info(troupe::self())->trap_exit;
    r.second = troupe::trap_exit(true);
    r.third = troupe::trap_exit(false);
    r.info_off = troupe::process_info(troupe::self())->trap_exit;
    r.now = troupe::trap_exit();
    return r;
  });
  EXPECT_FALSE(o.initially);
  EXPECT_FALSE(o.first);
  EXPECT_TRUE(o.second);
  EXPECT_TRUE(o.third);
  EXPECT_FALSE(o.now);
  EXPECT_TRUE(o.info_on);
  EXPECT_FALSE(o.info_off);
}

TEST(FailureTrapExit, OutsideAProcess) {
  EXPECT_FALSE(troupe::trap_exit());
  troupe::runtime r({.schedulers = 1});
  EXPECT_THROW(troupe::trap_exit(true), std::logic_error);
  EXPECT_THROW(troupe::link(troupe::pid(1, 1)), std::logic_error);
  EXPECT_THROW(troupe::unlink(troupe::pid(1, 1)), std::logic_error);
  EXPECT_THROW(troupe::monitor(troupe::pid(1, 1)), std::logic_error);
  EXPECT_THROW(troupe::demonitor(troupe::monitor_ref{}), std::logic_error);
  EXPECT_THROW(troupe::exit(exit_reason::user("x")), std::logic_error);
  troupe::spawn_options o;
  o.link = true;
  EXPECT_THROW(troupe::spawn(o, [] {}), std::logic_error);
  EXPECT_EQ(r.process_count(), 0u);
}

// Trapping can be switched on and off while the process runs: first a linked
// crash arrives as a message, then (trapping off) the next one kills it.
TEST_P(FailureLinksTest, TrapExitCanBeChangedAtRuntime) {
  log_capture quiet;
  struct outcome {
    exit_reason trapped, died;
  };
  const outcome o = rt().run([] {
    const troupe::pid root = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([root] {
      troupe::trap_exit(true);
      const troupe::pid c1 = troupe::spawn_link([] { troupe::exit(exit_reason::user("first")); });
      troupe::send(root, recv_exit_from(c1).reason);
      troupe::trap_exit(false);
      troupe::spawn_link([] { troupe::exit(exit_reason::user("second")); });
      troupe::receive([](double) {});
    });
    outcome r;
    r.trapped = recv<exit_reason>();
    r.died = recv_down(ref).reason;
    return r;
  });
  EXPECT_EQ(o.trapped, exit_reason::user("first"));
  EXPECT_EQ(o.died, exit_reason::user("second"));
}

// A process killed through a link while blocked in receive is unwound: its
// destructors run.
TEST_P(FailureLinksTest, ProcessKilledThroughALinkIsUnwound) {
  log_capture quiet;
  std::atomic<int> unwound{0};
  rt().run([&unwound] {
    const troupe::pid root = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([root, &unwound] {
      stack_probe probe;
      struct mark {
        std::atomic<int>& n;
        ~mark() { n.fetch_add(1); }
      } m{unwound};
      troupe::spawn_link([root] {
        troupe::send(root, troupe::self());
        recv<std::string>();
        throw std::runtime_error("boom");
      });
      troupe::receive([](double) {});
    });
    troupe::send(recv<troupe::pid>(), std::string("crash"));
    EXPECT_EQ(recv_down(ref).reason, boom);
  });
  EXPECT_EQ(unwound.load(), 1);
}

}  // namespace
