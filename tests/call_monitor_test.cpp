// Call monitors (troupe/detail/call_monitor.hpp), seen through gen_server's
// call: the watch each waiting caller holds on its server.

#include <stdexcept>
#include <vector>

#include "test_support.hpp"
#include "troupe/gen_server.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;

class CallMonitorTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(CallMonitorTest);

struct park {};        // answered only by release
struct release {};
struct parked_count {};

struct holder : troupe::gen_server<holder> {
  std::vector<troupe::from<int>> parked;
  troupe::call_result<int> handle_call(park, troupe::from<int> f) {
    parked.push_back(f);
    return noreply();
  }
  std::size_t handle_call(parked_count) { return parked.size(); }
  void handle_call(release) {
    for (auto& f : parked) troupe::reply(f, 1);
    parked.clear();
  }
};

void wait_parked(troupe::server<holder> s, std::size_t n) {
  while (troupe::call(s, parked_count{}) < n) troupe::sleep_for(1ms);
}

// Every caller waiting when the server dies gets the server's reason, and
// no down message is left behind in any of them.
TEST_P(CallMonitorTest, EveryWaitingCallerGetsTheReasonOfAServerThatDies) {
  constexpr int callers = 50;
  const int right = rt().run([] {
    auto s = holder::start().value();
    const troupe::pid me = troupe::self();
    for (int i = 0; i < callers; ++i) {
      troupe::spawn([s, me] {
        try {
          troupe::call(s, park{}, troupe::infinity);
          troupe::send(me, false);
        } catch (const troupe::call_error& e) {
          troupe::send(me, e.cause() == exit_reason::user("gone") && drain<troupe::down_message>().empty());
        }
      });
    }
    wait_parked(s, callers);
    troupe::exit(s.pid(), exit_reason::user("gone"));
    int ok = 0;
    for (int i = 0; i < callers; ++i) ok += recv<bool>();
    return ok;
  });
  EXPECT_EQ(right, callers);
}

// As OTP's monitor does: a server lists the callers waiting on it in
// monitored_by, and no longer once they have their replies.
TEST_P(CallMonitorTest, AServerListsItsWaitingCallersInMonitoredBy) {
  struct outcome {
    bool listed = false, cleared = false;
  };
  const outcome out = rt().run([] {
    auto s = holder::start().value();
    const troupe::pid me = troupe::self();
    std::vector<troupe::pid> cs;
    for (int i = 0; i < 3; ++i) cs.push_back(troupe::spawn([s, me] { troupe::send(me, troupe::call(s, park{})); }));
    wait_parked(s, 3);
    outcome o;
    const auto during = troupe::process_info(s.pid())->monitored_by;
    o.listed = during.size() == 3 && contains(during, cs[0]) && contains(during, cs[1]) && contains(during, cs[2]);
    troupe::call(s, release{});
    for (int i = 0; i < 3; ++i) recv<int>();
    o.cleared = process_wait_until([&] { return troupe::process_info(s.pid())->monitored_by.empty(); });
    troupe::stop(s);
    return o;
  });
  EXPECT_TRUE(out.listed);
  EXPECT_TRUE(out.cleared);
}

// A caller killed while it waits takes its watch with it: the server is
// left with none, and its own death later tells nobody.
TEST_P(CallMonitorTest, ACallerKilledMidCallLeavesNoWatchBehind) {
  struct outcome {
    bool none_left = false, server_stopped = false;
  };
  const outcome out = rt().run([] {
    auto s = holder::start().value();
    const troupe::pid caller = troupe::spawn([s] { troupe::call(s, park{}, troupe::infinity); });
    wait_parked(s, 1);
    troupe::exit(caller, exit_reason::kill());
    wait_gone(caller);
    outcome o;
    o.none_left = troupe::process_info(s.pid())->monitored_by.empty();
    troupe::stop(s);
    o.server_stopped = wait_gone(s.pid());
    return o;
  });
  EXPECT_TRUE(out.none_left);
  EXPECT_TRUE(out.server_stopped);
}

// One watch per process, reused call after call: a call that timed out on
// one server, then a call to another that dies, ends with the second's reason.
TEST_P(CallMonitorTest, TheWatchMovesFromServerToServer) {
  log_capture quiet;
  const exit_reason got = rt().run([] {
    auto a = holder::start().value();
    auto b = holder::start().value();
    try {
      troupe::call(a, park{}, 10ms);
    } catch (const troupe::call_error&) {
    }
    const troupe::pid me = troupe::self();
    troupe::spawn([b, me] {
      wait_parked(b, 1);
      troupe::exit(b.pid(), exit_reason::user("b went"));
      troupe::send(me, 0);
    });
    exit_reason why;
    try {
      troupe::call(b, park{}, troupe::infinity);
    } catch (const troupe::call_error& e) {
      why = e.cause();
    }
    troupe::call(a, release{});
    troupe::stop(a);
    return why;
  });
  EXPECT_EQ(got, exit_reason::user("b went"));
}

}  // namespace
