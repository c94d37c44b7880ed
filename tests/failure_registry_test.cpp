// Failure model, registered names: register_name/whereis/unregister/send by
// name, names freed when their process dies, and the badarg cases (OTP 25's
// register/2, unregister/1, whereis/1, Name ! Msg).

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureRegistryTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureRegistryTest);

// Answers "ping" with "pong" until told "stop".
troupe::pid spawn_echo() {
  return troupe::spawn([] {
    for (;;) {
      auto [from, text] = recv<std::pair<troupe::pid, std::string>>();
      if (text == "stop") return;
      troupe::send(from, text == "ping" ? std::string("pong") : text);
    }
  });
}

TEST_P(FailureRegistryTest, RegisterWhereisSendUnregister) {
  struct outcome {
    troupe::pid echo, found, after;
    std::string reply;
    std::optional<std::string> name, name_after;
    bool unregistered = false, again = true, renamed = false;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.echo = spawn_echo();
    troupe::register_name("echo", r.echo);
    r.found = troupe::whereis("echo");
    r.name = troupe::registered_name(r.echo);
    troupe::send("echo", std::make_pair(troupe::self(), std::string("ping")));
    r.reply = recv<std::string>();
    r.unregistered = troupe::unregister("echo");
    r.again = troupe::unregister("echo");
    r.after = troupe::whereis("echo");
    r.name_after = troupe::registered_name(r.echo);
    // Unregistered, the process may take another name.
    troupe::register_name("echo-again", r.echo);
    r.renamed = troupe::whereis("echo-again") == r.echo;
    troupe::send(r.echo, std::make_pair(troupe::self(), std::string("stop")));
    return r;
  });
  EXPECT_EQ(o.found, o.echo);
  EXPECT_EQ(o.reply, "pong");
  EXPECT_EQ(o.name, std::optional<std::string>("echo"));
  EXPECT_TRUE(o.unregistered);
  EXPECT_FALSE(o.again);
  EXPECT_EQ(o.after, troupe::pid{});
  EXPECT_EQ(o.name_after, std::nullopt);
  EXPECT_TRUE(o.renamed);
}

TEST_P(FailureRegistryTest, WhereisOfAnUnknownNameIsTheNullPid) {
  rt();
  EXPECT_EQ(troupe::whereis("nobody"), troupe::pid{});
  EXPECT_FALSE(troupe::unregister("nobody"));
  EXPECT_EQ(rt().run([] { return troupe::whereis("nobody"); }), troupe::pid{});
}

// The name is freed when its process dies, whatever the reason; by the time
// a monitor's down_message arrives, whereis no longer finds it.
TEST_P(FailureRegistryTest, NameIsFreedWhenItsProcessDies) {
  log_capture quiet;
  struct outcome {
    troupe::pid normal_after, crash_after, killed_after;
    bool reusable = false;
  };
  const outcome o = rt().run([] {
    outcome r;
    {
      auto [p, ref] = troupe::spawn_monitor([] { recv<std::string>(); });
      troupe::register_name("quitter", p);
      troupe::send("quitter", std::string("bye"));
      recv_down(ref);
      r.normal_after = troupe::whereis("quitter");
    }
    {
      auto [p, ref] = troupe::spawn_monitor([] {
        recv<std::string>();
        throw std::runtime_error("boom");
      });
      troupe::register_name("crasher", p);
      troupe::send("crasher", std::string("crash"));
      recv_down(ref);
      r.crash_after = troupe::whereis("crasher");
    }
    {
      auto [p, ref] = troupe::spawn_monitor([] { troupe::receive([](double) {}); });
      troupe::register_name("victim", p);
      troupe::exit(p, exit_reason::kill());
      recv_down(ref);
      r.killed_after = troupe::whereis("victim");
    }
    // The freed name can be taken by another process.
    const troupe::pid next = troupe::spawn([] { recv<std::string>(); });
    troupe::register_name("quitter", next);
    r.reusable = troupe::whereis("quitter") == next;
    troupe::send(next, std::string("bye"));
    return r;
  });
  EXPECT_EQ(o.normal_after, troupe::pid{});
  EXPECT_EQ(o.crash_after, troupe::pid{});
  EXPECT_EQ(o.killed_after, troupe::pid{});
  EXPECT_TRUE(o.reusable);
}

// A process may register itself and send to its own name.
TEST_P(FailureRegistryTest, ProcessRegistersItself) {
  const int got = rt().run([] {
    troupe::register_name("me", troupe::self());
    troupe::send("me", 42);
    const int v = recv<int>();
    troupe::unregister("me");
    return v;
  });
  EXPECT_EQ(got, 42);
}

TEST_P(FailureRegistryTest, RegisteringATakenNameThrows) {
  struct outcome {
    bool threw = false;
    troupe::pid owner, first;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.first = spawn_echo();
    const troupe::pid second = spawn_echo();
    troupe::register_name("taken", r.first);
    try {
      troupe::register_name("taken", second);
    } catch (const std::invalid_argument&) {
      r.threw = true;
    }
    r.owner = troupe::whereis("taken");
    for (troupe::pid p : {r.first, second}) troupe::send(p, std::make_pair(troupe::self(), std::string("stop")));
    return r;
  });
  EXPECT_TRUE(o.threw);
  EXPECT_EQ(o.owner, o.first) << "the failed registration left the name alone";
}

TEST_P(FailureRegistryTest, RegisteringASecondNameForAProcessThrows) {
  struct outcome {
    bool threw = false;
    troupe::pid other;
    std::optional<std::string> name;
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid p = spawn_echo();
    troupe::register_name("first-name", p);
    try {
      troupe::register_name("second-name", p);
    } catch (const std::invalid_argument&) {
      r.threw = true;
    }
    r.other = troupe::whereis("second-name");
    r.name = troupe::registered_name(p);
    troupe::send(p, std::make_pair(troupe::self(), std::string("stop")));
    return r;
  });
  EXPECT_TRUE(o.threw);
  EXPECT_EQ(o.other, troupe::pid{});
  EXPECT_EQ(o.name, std::optional<std::string>("first-name"));
}

TEST_P(FailureRegistryTest, RegisteringADeadOrNullPidThrows) {
  struct outcome {
    bool dead_threw = false, null_threw = false, empty_threw = false;
    troupe::pid left;
  };
  const outcome o = rt().run([] {
    outcome r;
    const troupe::pid dead = dead_pid();
    try {
      troupe::register_name("ghost", dead);
    } catch (const std::invalid_argument&) {
      r.dead_threw = true;
    }
    try {
      troupe::register_name("ghost", troupe::pid{});
    } catch (const std::invalid_argument&) {
      r.null_threw = true;
    }
    try {
      troupe::register_name("", troupe::self());
    } catch (const std::invalid_argument&) {
      r.empty_threw = true;
    }
    r.left = troupe::whereis("ghost");
    return r;
  });
  EXPECT_TRUE(o.dead_threw);
  EXPECT_TRUE(o.null_threw);
  EXPECT_TRUE(o.empty_threw);
  EXPECT_EQ(o.left, troupe::pid{});
}

TEST_P(FailureRegistryTest, SendToAnUnregisteredNameThrows) {
  const bool threw = rt().run([] {
    try {
      troupe::send("nobody-here", 1);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find("nobody-here") != std::string::npos;
    }
    return false;
  });
  EXPECT_TRUE(threw);
  // From a plain thread too.
  EXPECT_THROW(troupe::send("nobody-here", 1), std::invalid_argument);
}

// Sending to a name whose process has died (and so lost it) throws too.
TEST_P(FailureRegistryTest, SendToTheNameOfADeadProcessThrows) {
  const bool threw = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] {});
    troupe::register_name("short-lived", p);
    recv_down(ref);
    try {
      troupe::send("short-lived", 1);
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(threw);
}

// The registry works from a plain thread while a runtime exists.
TEST_P(FailureRegistryTest, RegistryFromAPlainThread) {
  rt();
  std::atomic<int> got{0};
  const troupe::pid p = troupe::spawn([&got] { got.store(recv<int>()); });
  troupe::register_name("from-thread", p);
  EXPECT_EQ(troupe::whereis("from-thread"), p);
  EXPECT_EQ(troupe::registered_name(p), std::optional<std::string>("from-thread"));
  troupe::send("from-thread", 7);
  ASSERT_TRUE(wait_until([&] { return got.load() == 7; }));
  ASSERT_TRUE(wait_gone(p));
  EXPECT_EQ(troupe::whereis("from-thread"), troupe::pid{});
  EXPECT_THROW(troupe::register_name("from-thread", p), std::invalid_argument);
}

TEST(FailureRegistryNoRuntime, CallsWithoutARuntime) {
  EXPECT_THROW(troupe::register_name("x", troupe::pid(1, 1)), std::logic_error);
  EXPECT_THROW(troupe::unregister("x"), std::logic_error);
  EXPECT_EQ(troupe::whereis("x"), troupe::pid{});
  EXPECT_EQ(troupe::registered_name(troupe::pid(1, 1)), std::nullopt);
  EXPECT_THROW(troupe::send("x", 1), std::invalid_argument);
}

// Many processes register, look each other up by name and die; the registry
// ends empty.
TEST_P(FailureRegistryTest, ManyNamesComeAndGo) {
  constexpr int n = 1'000;
  const int ok = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::monitor_ref> refs;
    struct peer_msg {
      int peer;
    };
    for (int i = 0; i < n; ++i) {
      refs.push_back(troupe::spawn_monitor([root, i] {
                       troupe::register_name(fmt::format("worker-{}", i), troupe::self());
                       troupe::send(root, std::string("registered"));
                       const peer_msg m = recv<peer_msg>();
                       // The peer is alive: it waits for this before it ends.
                       troupe::send(fmt::format("worker-{}", m.peer), -1);
                       recv<int>();
                     }).second);
    }
    for (int i = 0; i < n; ++i) recv<std::string>();
    for (int i = 0; i < n; ++i) troupe::send(fmt::format("worker-{}", i), peer_msg{(i + 1) % n});
    int good = 0;
    for (auto ref : refs) good += recv_down(ref).reason.is_normal();
    for (int i = 0; i < n; ++i) good -= troupe::whereis(fmt::format("worker-{}", i)) != troupe::pid{};
    return good;
  });
  EXPECT_EQ(ok, n);
}

// Registration racing with the process's death: either register_name throws
// (the process was no longer alive) or it succeeds and the name is freed when
// the process dies. Never a name left behind for a dead process.
TEST_P(FailureRegistryTest, RegisterRacingWithDeathLeavesNoStaleName) {
  constexpr int rounds = 500;
  struct outcome {
    int registered = 0, refused = 0, stale = 0;
  };
  const outcome o = rt().run([] {
    outcome r;
    for (int i = 0; i < rounds; ++i) {
      auto [p, ref] = troupe::spawn_monitor([] {});
      try {
        troupe::register_name("racer", p);
        ++r.registered;
      } catch (const std::invalid_argument&) {
        ++r.refused;
      }
      recv_down(ref);
      wait_gone(p);
      if (troupe::whereis("racer")) {
        ++r.stale;
        troupe::unregister("racer");
      }
    }
    return r;
  });
  EXPECT_EQ(o.stale, 0);
  EXPECT_EQ(o.registered + o.refused, rounds);
}

}  // namespace
