// Core, message-handler processes (troupe/handler.hpp): they hold no stack
// while they wait, run each message in order, block when they must, and end
// as any process does.

#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "troupe/handler.hpp"
#include "troupe/process_info.hpp"
#include "troupe/timer.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::exit_reason;

class HandlerTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(HandlerTest);

struct report_to {
  troupe::pid who;
};

// Sums ints; answers a report_to with the sum.
troupe::pid spawn_adder() {
  return troupe::spawn_handler([sum = 0L](troupe::any_message& m) mutable {
    if (const int* v = m.as<int>()) sum += *v;
    if (const report_to* r = m.as<report_to>()) troupe::send(r->who, sum);
    if (m.is<std::string>()) return troupe::handler_step::stop;
    return troupe::handler_step::next;
  });
}

bool rests(troupe::pid p) {
  const auto info = troupe::process_info(p);
  return info && info->stackless && info->status == troupe::process_status::waiting;
}

TEST_P(HandlerTest, AnIdleHandlerHoldsNoStackAndKeepsItsState) {
  const std::vector<long> got = rt().run([] {
    const troupe::pid a = spawn_adder();
    std::vector<long> r;
    for (int round = 0; round < 3; ++round) {
      for (int i = 1; i <= 10; ++i) troupe::send(a, i);
      troupe::send(a, report_to{troupe::self()});
      r.push_back(recv<long>());
      r.push_back(process_wait_until([&] { return rests(a); }) ? 1 : 0);
    }
    troupe::send(a, std::string("stop"));
    r.push_back(wait_gone(a) ? 1 : 0);
    return r;
  });
  EXPECT_EQ(got, (std::vector<long>{55, 1, 110, 1, 165, 1, 1}));
}

TEST_P(HandlerTest, ManyHandlersRestWithoutStacks) {
  constexpr int n = live_processes(20'000);
  const int resting = rt().run([] {
    std::vector<troupe::pid> ps;
    for (int i = 0; i < n; ++i) ps.push_back(spawn_adder());
    for (auto p : ps) troupe::send(p, 1);
    for (auto p : ps) troupe::send(p, report_to{troupe::self()});
    long total = 0;
    for (int i = 0; i < n; ++i) total += recv<long>();
    int k = 0;
    for (auto p : ps) k += process_wait_until([&] { return rests(p); }) ? 1 : 0;
    for (auto p : ps) troupe::send(p, std::string("stop"));
    return total == n ? k : -1;
  });
  EXPECT_EQ(resting, n);
}

TEST_P(HandlerTest, AHandlerThatBlocksKeepsItsStackUntilItReturns) {
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid h = troupe::spawn_handler([me](troupe::any_message& m) {
      if (m.is<int>()) {
        // A receive inside the handler: the process waits with its stack.
        const std::string s = troupe::receive([](std::string&& v) { return v; });
        troupe::send(me, "got " + s);
      }
      return troupe::handler_step::next;
    });
    std::vector<std::string> r;
    troupe::send(h, 1);
    process_wait_until([&] {
      auto i = troupe::process_info(h);
      return i && i->status == troupe::process_status::waiting;
    });
    r.push_back(troupe::process_info(h)->stackless ? "stackless" : "stackful");
    troupe::send(h, std::string("x"));
    r.push_back(recv<std::string>());
    process_wait_until([&] { return rests(h); });
    r.push_back(troupe::process_info(h)->stackless ? "stackless" : "stackful");
    troupe::exit(h, exit_reason::kill());
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"stackful", "got x", "stackless"}));
}

TEST_P(HandlerTest, ExitSignalsReachAResting_handler) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    std::vector<std::string> r;
    const troupe::pid a = spawn_adder();
    const auto ra = troupe::monitor(a);
    process_wait_until([&] { return rests(a); });
    troupe::exit(a, exit_reason::user("go away"));
    r.push_back(fmt::format("{}", recv_down(ra).reason));
    const troupe::pid b = spawn_adder();
    const auto rb = troupe::monitor(b);
    troupe::exit(b, exit_reason::kill());
    r.push_back(fmt::format("{}", recv_down(rb).reason));
    const troupe::pid c = troupe::spawn_handler([](troupe::any_message&) -> troupe::handler_step {
      throw std::runtime_error("bad message");
    });
    const auto rc = troupe::monitor(c);
    troupe::send(c, 1);
    r.push_back(fmt::format("{}", recv_down(rc).reason));
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"go away", "killed", "{exception,std::runtime_error,\"bad message\"}"}));
}

// A handler that logs what it handles to `to` as strings. Its first message
// (a report_to) blocks it until a "go", so the test can queue messages behind
// it; each int n asks for the step n says: 0 next, 1 next_or_idle.
troupe::pid spawn_idle_logger(troupe::pid to) {
  return troupe::spawn_handler([to](troupe::any_message& m) {
    if (m.is<report_to>()) {
      troupe::receive([](std::string&& go) { return go; });
      troupe::send(to, std::string("started"));
      return troupe::handler_step::next_or_idle;
    }
    if (m.is<troupe::idle_timeout>()) {
      troupe::send(to, std::string("idle"));
      return troupe::handler_step::next;
    }
    const int n = m.get<int>();
    troupe::send(to, std::to_string(n));
    return n == 1 ? troupe::handler_step::next_or_idle : troupe::handler_step::next;
  });
}

// Sends `queued` behind a blocked first message and collects the log until
// it is quiet for 100 ms; then sends `later` and collects again.
std::vector<std::string> idle_log(troupe::runtime& rt, const std::vector<int>& queued,
                                  const std::vector<int>& later = {}) {
  return rt.run([&] {
    const troupe::pid h = spawn_idle_logger(troupe::self());
    troupe::send(h, report_to{troupe::self()});
    for (const int n : queued) troupe::send(h, n);
    troupe::send(h, std::string("go"));
    std::vector<std::string> r;
    const auto drain = [&] {
      for (;;) {
        auto s = troupe::receive([](std::string&& v) { return std::optional<std::string>(std::move(v)); },
                                 troupe::after(100ms, [] { return std::optional<std::string>(); }));
        if (!s) return;
        r.push_back(std::move(*s));
      }
    };
    drain();
    for (const int n : later) troupe::send(h, n);
    drain();
    troupe::exit(h, exit_reason::kill());
    return r;
  });
}

TEST_P(HandlerTest, NextOrIdleHandlesWhatIsQueuedFirst) {
  // OTP's {noreply, State, 0}: the timeout comes only once the mailbox is
  // empty, and each message's own step decides whether one is still wanted.
  EXPECT_EQ(idle_log(rt(), {1, 1, 1}), (std::vector<std::string>{"started", "1", "1", "1", "idle"}));
}

TEST_P(HandlerTest, ANextAfterNextOrIdleCancelsTheIdle) {
  EXPECT_EQ(idle_log(rt(), {1, 0}), (std::vector<std::string>{"started", "1", "0"}));
}

TEST_P(HandlerTest, TheIdleComesOncePerRequestAndTheHandlerRestsAfterIt) {
  EXPECT_EQ(idle_log(rt(), {}, {0, 1}), (std::vector<std::string>{"started", "idle", "0", "1", "idle"}));
}

TEST_P(HandlerTest, AHandlerThatAlwaysAsksForIdleStillGivesWay) {
  // Under one scheduler, a handler that never rests must still yield, or
  // the test's own process never runs again.
  const bool answered = rt().run([] {
    const troupe::pid spinner =
        troupe::spawn_handler([](troupe::any_message&) { return troupe::handler_step::next_or_idle; });
    troupe::send(spinner, 0);
    const troupe::pid me = troupe::self();
    troupe::spawn([me] { troupe::send(me, std::string("here")); });
    const bool got = troupe::receive([](std::string&&) { return true; }, troupe::after(10s, [] { return false; }));
    troupe::exit(spinner, exit_reason::kill());
    return got;
  });
  EXPECT_TRUE(answered);
}

}  // namespace
