// Behaviours, gen_server: typed calls and casts, replies later, stops,
// timeouts and continues, and the call's failures (OTP 25's gen_server).

#include <fmt/format.h>

#include <string>
#include <vector>

#include "test_support.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/process_info.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class GenServerTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(GenServerTest);

struct get {};
struct add {
  int by;
};
struct get_later {};
struct answer_now {};
struct waiting_count {};
struct crash {};
struct sleep_then_reply {
  std::chrono::milliseconds how_long;
};

struct counter : troupe::gen_server<counter> {
  int n;
  std::vector<troupe::from<int>> waiting;
  explicit counter(int start) : n(start) {}

  int handle_call(get) { return n; }
  troupe::call_result<int> handle_call(get_later, troupe::from<int> f) {
    waiting.push_back(f);
    return noreply();
  }
  std::size_t handle_call(waiting_count) { return waiting.size(); }
  void handle_call(answer_now) {
    for (auto& f : waiting) troupe::reply(f, n);
    waiting.clear();
  }
  int handle_call(crash) { throw std::runtime_error("asked to crash"); }
  int handle_call(sleep_then_reply s) {
    troupe::receive(troupe::after(s.how_long, [] {}));
    return n;
  }
  void handle_cast(add a) { n += a.by; }
};

TEST_P(GenServerTest, CallsAndCastsAreTyped) {
  const int v = rt().run([] {
    auto s = counter::start_link(40).value();
    troupe::cast(s, add{2});
    const int got = troupe::call(s, get{});
    static_assert(std::is_same_v<decltype(troupe::call(s, get{})), int>);
    static_assert(std::is_void_v<decltype(troupe::call(s, answer_now{}))>);
    troupe::stop(s);
    return got;
  });
  EXPECT_EQ(v, 42);
}

TEST_P(GenServerTest, AReplyCanComeLaterThroughTheFrom) {
  const std::vector<int> got = rt().run([] {
    auto s = counter::start_link(7).value();
    const troupe::pid me = troupe::self();
    for (int i = 0; i < 3; ++i) troupe::spawn([s, me] { troupe::send(me, troupe::call(s, get_later{})); });
    // Every caller waits, unanswered, until answer_now.
    while (troupe::call(s, waiting_count{}) < 3) troupe::receive(troupe::after(1ms, [] {}));
    const bool none_yet = drain<int>().empty();
    troupe::call(s, answer_now{});
    std::vector<int> r;
    for (int i = 0; i < 3; ++i) r.push_back(recv<int>());
    r.push_back(none_yet);
    troupe::stop(s);
    return r;
  });
  EXPECT_EQ(got, (std::vector<int>{7, 7, 7, 1}));
}

TEST_P(GenServerTest, ACallToNoServerEndsInNoproc) {
  const std::vector<kind> got = rt().run([] {
    std::vector<kind> r;
    try {
      troupe::call(troupe::server<counter>(dead_pid()), get{});
    } catch (const troupe::call_error& e) {
      r.push_back(e.cause().kind());
    }
    try {
      troupe::call(troupe::server<counter>::named("nobody"), get{});
    } catch (const troupe::call_error& e) {
      r.push_back(e.cause().kind());
    }
    return r;
  });
  EXPECT_EQ(got, (std::vector<kind>{kind::noproc, kind::noproc}));
}

TEST_P(GenServerTest, AServerThatDiesDuringTheCallEndsItWithItsReason) {
  log_capture quiet;
  const exit_reason got = rt().run([] {
    auto s = counter::start(0).value();
    const troupe::pid me = troupe::self();
    troupe::spawn([s, me] {
      troupe::receive(troupe::after(20ms, [] {}));
      troupe::exit(s.pid(), exit_reason::user("pulled the plug"));
      troupe::send(me, 1);
    });
    try {
      troupe::call(s, sleep_then_reply{10s}, 20s);
    } catch (const troupe::call_error& e) {
      return e.cause();
    }
    return exit_reason::normal();
  });
  EXPECT_EQ(got, exit_reason::user("pulled the plug"));
}

TEST_P(GenServerTest, ALateReplyNeverReachesTheCaller) {
  struct outcome {
    kind cause = kind::normal;
    std::size_t queued = 99;
    bool anything = true;
    int later_call = 0;
  };
  const outcome o = rt().run([] {
    outcome r;
    auto s = counter::start(5).value();
    try {
      troupe::call(s, sleep_then_reply{50ms}, 5ms);
    } catch (const troupe::call_error& e) {
      r.cause = e.cause().kind();
    }
    // The server replies 45 ms after the caller gave up; the next call
    // returns only after that reply was sent.
    r.later_call = troupe::call(s, get{});
    r.queued = troupe::process_info(troupe::self())->message_queue_len;
    r.anything = troupe::receive([](const troupe::any_message&) { return true; },
                                 troupe::after(0ms, [] { return false; }));
    troupe::stop(s);
    return r;
  });
  EXPECT_EQ(o.cause, kind::timeout);
  EXPECT_EQ(o.later_call, 5);
  EXPECT_EQ(o.queued, 0u);
  EXPECT_FALSE(o.anything);
}

TEST_P(GenServerTest, TheReplyWaitSkipsWhatWasQueuedBeforeTheCall) {
  struct outcome {
    int reply = 0;
    std::vector<int> kept;
  };
  const outcome o = rt().run([] {
    outcome r;
    auto s = counter::start_link(3).value();
    for (int i = 0; i < 10'000; ++i) troupe::send(troupe::self(), i);
    r.reply = troupe::call(s, get{});
    r.kept = drain<int>();
    troupe::stop(s);
    return r;
  });
  EXPECT_EQ(o.reply, 3);
  ASSERT_EQ(o.kept.size(), 10'000u);
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(o.kept[static_cast<std::size_t>(i)], i);
}

TEST_P(GenServerTest, AnUncaughtCallErrorEndsTheCallerWithOtpsReason) {
  log_capture quiet;
  const std::string got = rt().run([] {
    auto s = counter::start(0).value();
    auto [caller, ref] = troupe::spawn_monitor([s] { troupe::call(s, sleep_then_reply{200ms}, 1ms); });
    const troupe::down_message d = recv_down(ref);
    troupe::stop(s);
    const auto* f = d.reason.value<troupe::call_failure>();
    return fmt::format("{} {}", d.reason, f && f->cause == kind::timeout && f->server == s.pid());
  });
  EXPECT_NE(got.find("{timeout,{gen_server,call,[<0."), std::string::npos) << got;
  EXPECT_NE(got.find(" true"), std::string::npos) << got;
}

TEST_P(GenServerTest, ACrashInACallbackEndsTheServerAndTheCall) {
  log_capture logs;
  const kind got = rt().run([] {
    auto s = counter::start(0).value();
    try {
      troupe::call(s, crash{});
    } catch (const troupe::call_error& e) {
      return e.cause().kind();
    }
    return kind::normal;
  });
  EXPECT_EQ(got, kind::exception);
  EXPECT_TRUE(wait_until([&] { return logs.sink().count_containing("Generic server") > 0; }));
}

// -- start --

struct starter : troupe::gen_server<starter> {
  std::string how;
  explicit starter(std::string h) : how(std::move(h)) {
    if (how == "throw") throw std::runtime_error("init threw");
  }
  troupe::next_action init() {
    if (how == "ignore") return ignore();
    if (how == "stop") return stop(exit_reason::user("bad"));
    return noreply();
  }
  int handle_call(get) { return 1; }
};

TEST_P(GenServerTest, StartReportsInitsOutcome) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    std::vector<std::string> r;
    for (const char* how : {"ok", "ignore", "stop", "throw"}) {
      auto res = starter::start(std::string(how));
      r.push_back(fmt::format("{}", res.status() == troupe::start_status::ok ? std::string("ok") : fmt::format("{}", res)));
      if (res) troupe::stop(*res);
    }
    return r;
  });
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "ok");
  EXPECT_EQ(got[1], "ignore");
  EXPECT_EQ(got[2], "{error,bad}");
  EXPECT_NE(got[3].find("{error,{exception,std::runtime_error,\"init threw\"}}"), std::string::npos) << got[3];
}

TEST_P(GenServerTest, StartLinkWhileTrappingGetsTheErrorThenTheExitMessage) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    troupe::trap_exit(true);
    std::vector<std::string> r;
    for (const char* how : {"ignore", "stop", "throw"}) {
      auto res = starter::start_link(std::string(how));
      const troupe::exit_message e = recv<troupe::exit_message>();
      r.push_back(fmt::format("{} {}", res, e.reason));
    }
    return r;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "ignore normal");
  EXPECT_EQ(got[1], "{error,bad} bad");
  EXPECT_NE(got[2].find("init threw"), std::string::npos);
}

TEST_P(GenServerTest, StartLinkWithoutTrappingDiesOfAnInitFailure) {
  log_capture quiet;
  const exit_reason got = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] {
      (void)starter::start_link(std::string("stop"));
      troupe::receive(troupe::after(10s, [] {}));
    });
    return recv_down(ref).reason;
  });
  EXPECT_EQ(got, exit_reason::user("bad"));
}

TEST_P(GenServerTest, ATakenNameIsAlreadyStartedWithItsHolder) {
  const bool ok = rt().run([] {
    auto a = counter::start(troupe::server_options{.name = "the_counter"}, 1);
    auto b = counter::start(troupe::server_options{.name = "the_counter"}, 2);
    const bool r = a && b.status() == troupe::start_status::already_started && b.holder() == a->pid() &&
                   troupe::call(troupe::server<counter>::named("the_counter"), get{}) == 1;
    troupe::stop(*a);
    return r;
  });
  EXPECT_TRUE(ok);
}

// -- terminate --

struct watched : troupe::gen_server<watched> {
  troupe::pid observer;
  explicit watched(troupe::pid o, bool trap) : observer(o) { troupe::trap_exit(trap); }
  troupe::call_result<int> handle_call(get) { return {9, stop(exit_reason::user("done"))}; }
  int handle_call(crash) { throw std::runtime_error("callback threw"); }
  void terminate(const exit_reason& why) { troupe::send(observer, fmt::format("terminate {}", why)); }
};

TEST_P(GenServerTest, TerminateRunsWhenTheServerStopsItself) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    std::vector<std::string> r;
    {
      auto s = watched::start(troupe::self(), false).value();
      const auto ref = troupe::monitor(s.pid());
      r.push_back(fmt::format("reply {}", troupe::call(s, get{})));
      r.push_back(recv<std::string>());
      r.push_back(fmt::format("down {}", recv_down(ref).reason));
    }
    {
      auto s = watched::start(troupe::self(), false).value();
      try {
        troupe::call(s, crash{});
      } catch (const troupe::call_error&) {
      }
      r.push_back(recv<std::string>());
    }
    {
      auto s = watched::start(troupe::self(), false).value();
      troupe::stop(s, exit_reason::shutdown());
      r.push_back(recv<std::string>());
    }
    return r;
  });
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], "reply 9");
  EXPECT_EQ(got[1], "terminate done");
  EXPECT_EQ(got[2], "down done");
  EXPECT_NE(got[3].find("terminate {exception,std::runtime_error,\"callback threw\"}"), std::string::npos);
  EXPECT_EQ(got[4], "terminate shutdown");
}

TEST_P(GenServerTest, TerminateRunsOnTheParentsExitOnlyWhenTrapping) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    std::vector<std::string> r;
    const troupe::pid me = troupe::self();
    for (bool trap : {true, false}) {
      // (The pid comes by message: with shared stacks another process's
      // stack is not addressable.)
      auto [parent, ref] = troupe::spawn_monitor([me, trap] {
        troupe::send(me, watched::start_link(me, trap)->pid());
        troupe::receive(troupe::after(10s, [] {}));
      });
      const troupe::pid server = recv<troupe::pid>();
      const auto sref = troupe::monitor(server);
      troupe::exit(parent, exit_reason::shutdown());
      r.push_back(fmt::format("{}", recv_down(sref).reason));
      recv_down(ref);
      r.push_back(drain<std::string>().empty() ? "no terminate" : "terminate");
    }
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"shutdown", "terminate", "shutdown", "no terminate"}));
}

TEST_P(GenServerTest, TerminateDoesNotRunWhenKilled) {
  const std::string got = rt().run([] {
    auto s = watched::start(troupe::self(), true).value();
    const auto ref = troupe::monitor(s.pid());
    troupe::exit(s.pid(), exit_reason::kill());
    const exit_reason why = recv_down(ref).reason;
    return fmt::format("{} {}", why, drain<std::string>().size());
  });
  EXPECT_EQ(got, "killed 0");
}

// -- timeouts, continues, info --

struct ticker : troupe::gen_server<ticker> {
  troupe::pid observer;
  int timeouts = 0;
  explicit ticker(troupe::pid o) : observer(o) {}
  troupe::next_action init() { return continue_with(std::string("first")); }
  troupe::next_action handle_continue(std::string what) {
    troupe::send(observer, "continue " + what);
    return noreply(5ms);
  }
  troupe::next_action handle_info(troupe::idle_timeout) {
    troupe::send(observer, fmt::format("timeout {}", ++timeouts));
    return timeouts < 3 ? noreply(5ms) : noreply();
  }
  void handle_info(const troupe::any_message& m) { troupe::send(observer, "info " + m.type_name()); }
};

TEST_P(GenServerTest, ContinueRunsFirstAndTimeoutsComeAsInfo) {
  const std::vector<std::string> got = rt().run([] {
    auto s = ticker::start(troupe::self()).value();
    std::vector<std::string> r;
    for (int i = 0; i < 4; ++i) r.push_back(recv<std::string>());
    troupe::send(s.pid(), 3.5);
    r.push_back(recv<std::string>());
    troupe::stop(s);
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"continue first", "timeout 1", "timeout 2", "timeout 3", "info double"}));
}

TEST_P(GenServerTest, AnUnexpectedMessageIsLoggedAndDropped) {
  log_capture logs;
  const int got = rt().run([] {
    auto s = counter::start(4).value();
    troupe::send(s.pid(), std::string("stray"));
    const int v = troupe::call(s, get{});
    troupe::stop(s);
    return v;
  });
  EXPECT_EQ(got, 4);
  EXPECT_EQ(logs.sink().count_containing("Unhandled message: stray"), 1u);
}

}  // namespace
