// Behaviours, supervisor: start and stop order, the three strategies,
// restart types, intensity and escalation, shutdown policies, child
// management and its errors, invalid specs (OTP 25's supervisor).

#include <fmt/format.h>

#include <string>
#include <vector>

#include "test_support.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/supervisor.hpp"
#include "troupe/timer.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::exit_reason;
using kind = troupe::exit_kind;
using troupe::supervisor;

class SupervisorTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(SupervisorTest);

struct crash_now {};
struct quit {};
struct ping {};

// A child that tells `obs` when it starts and (if it traps exits) when it
// stops; crashes or quits on request.
struct leaf : troupe::gen_server<leaf> {
  std::string id;
  troupe::pid obs;
  std::chrono::milliseconds slow;
  leaf(std::string i, troupe::pid o, bool trap, std::chrono::milliseconds s) : id(std::move(i)), obs(o), slow(s) {
    troupe::trap_exit(trap);
    troupe::send(obs, "start " + id);
  }
  void handle_cast(crash_now) { throw std::runtime_error("leaf crashed"); }
  troupe::next_action handle_cast(quit) { return stop(exit_reason::normal()); }
  int handle_call(ping) { return 1; }
  void terminate(const exit_reason&) {
    if (slow.count() > 0) troupe::sleep_for(slow);
    troupe::send(obs, "stop " + id);
  }
};

troupe::child_spec leaf_spec(const std::string& id, troupe::pid obs, bool trap = true,
                             troupe::restart_type r = troupe::restart_type::permanent,
                             std::chrono::milliseconds slow = 0ms) {
  return troupe::worker(id, [=] { return leaf::start_link(id, obs, trap, slow); }, r);
}

std::vector<std::string> recv_n(int n) {
  std::vector<std::string> r;
  for (int i = 0; i < n; ++i) r.push_back(recv<std::string>());
  return r;
}

// Waits for `n` "start ..." notes, skipping the "stop ..." ones.
void recv_starts(int n) {
  while (n > 0) n -= recv<std::string>().starts_with("start");
}

troupe::pid child_pid(troupe::pid sup, const std::string& id) {
  for (const auto& c : supervisor::which_children(sup))
    if (c.id == id) return c.child;
  return {};
}

void crash(troupe::pid child) { troupe::cast(troupe::server<leaf>(child), crash_now{}); }

// Stops a supervisor as its parent would, and waits until it is gone (the
// caller unlinks first, so that the supervisor's `shutdown` does not end it).
void shut(troupe::pid sup) {
  troupe::unlink(sup);
  const auto ref = troupe::monitor(sup);
  troupe::exit(sup, exit_reason::shutdown());
  recv_down(ref);
}

TEST_P(SupervisorTest, ChildrenStartInOrderAndStopInReverseOrder) {
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto sup = supervisor::start_link({}, {leaf_spec("a", me), leaf_spec("b", me), leaf_spec("c", me)}).value();
    std::vector<std::string> r = recv_n(3);
    shut(sup);
    for (auto& s : recv_n(3)) r.push_back(s);
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"start a", "start b", "start c", "stop c", "stop b", "stop a"}));
}

TEST_P(SupervisorTest, OneForOneRestartsOnlyTheChildThatDied) {
  log_capture logs;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto sup = supervisor::start_link({.strategy = troupe::one_for_one},
                                      {leaf_spec("a", me), leaf_spec("b", me), leaf_spec("c", me)})
                   .value();
    recv_n(3);
    const troupe::pid a = child_pid(sup, "a"), b = child_pid(sup, "b"), c = child_pid(sup, "c");
    crash(b);
    std::vector<std::string> r = recv_n(2);  // b's terminate, then its restart
    const troupe::pid b2 = child_pid(sup, "b");
    r.push_back(fmt::format("{} {} {}", a == child_pid(sup, "a"), b2 != b && b2, c == child_pid(sup, "c")));
    shut(sup);
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"stop b", "start b", "true true true"}));
  EXPECT_EQ(logs.sink().count_containing("errorContext: child_terminated"), 1u);
}

TEST_P(SupervisorTest, RestForOneRestartsTheLaterSiblingsInOrder) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto sup = supervisor::start_link({.strategy = troupe::rest_for_one},
                                      {leaf_spec("a", me), leaf_spec("b", me), leaf_spec("c", me), leaf_spec("d", me)})
                   .value();
    recv_n(4);
    const troupe::pid a = child_pid(sup, "a");
    crash(child_pid(sup, "b"));
    std::vector<std::string> r = recv_n(6);
    r.push_back(a == child_pid(sup, "a") ? "a kept" : "a restarted");
    shut(sup);
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"stop b", "stop d", "stop c", "start b", "start c", "start d", "a kept"}));
}

TEST_P(SupervisorTest, OneForAllRestartsEveryChild) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto sup = supervisor::start_link({.strategy = troupe::one_for_all},
                                      {leaf_spec("a", me), leaf_spec("b", me), leaf_spec("c", me)})
                   .value();
    recv_n(3);
    crash(child_pid(sup, "b"));
    std::vector<std::string> r = recv_n(6);
    shut(sup);
    return r;
  });
  EXPECT_EQ(got,
            (std::vector<std::string>{"stop b", "stop c", "stop a", "start a", "start b", "start c"}));
}

TEST_P(SupervisorTest, TooManyRestartsStopEverythingAndEscalate) {
  log_capture logs;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::trap_exit(true);
    auto sup = supervisor::start_link({.max_restarts = 2, .max_seconds = 10s},
                                      {leaf_spec("a", me), leaf_spec("b", me, false)})
                   .value();
    recv_n(2);
    for (int i = 0; i < 2; ++i) {
      crash(child_pid(sup, "b"));
      recv_n(2);  // its terminate, its restart
    }
    crash(child_pid(sup, "b"));  // the third within the period: too many
    std::vector<std::string> r = recv_n(2);  // b's terminate, then a stopped
    r.push_back(fmt::format("{}", recv_exit_from(sup).reason));
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"stop b", "stop a", "shutdown"}));
  EXPECT_EQ(logs.sink().count_containing("reached_max_restart_intensity"), 1u);
}

TEST_P(SupervisorTest, TransientAndTemporaryChildrenRestartAsOtpSays) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    using rt_ = troupe::restart_type;
    auto sup = supervisor::start_link({}, {leaf_spec("t", me, false, rt_::transient),
                                           leaf_spec("tmp", me, false, rt_::temporary)})
                   .value();
    recv_n(2);
    std::vector<std::string> r;
    troupe::cast(troupe::server<leaf>(child_pid(sup, "t")), quit{});  // normal: not restarted
    troupe::cast(troupe::server<leaf>(child_pid(sup, "tmp")), crash_now{});  // temporary: never
    wait_until([&] { return supervisor::count_children(sup).active == 0; });
    const auto counts = supervisor::count_children(sup);
    r.push_back(fmt::format("specs {} active {}", counts.specs, counts.active));
    bool restarted = false;
    for (const auto& m : drain<std::string>()) restarted = restarted || m.starts_with("start");
    r.push_back(restarted ? "restarted" : "no restarts");
    // A transient child that crashes is restarted.
    const auto again = supervisor::restart_child(sup, "t");
    r.push_back(fmt::format("{}", again.ok()));
    recv<std::string>();
    crash(child_pid(sup, "t"));
    recv<std::string>();  // its terminate
    r.push_back(recv<std::string>());
    shut(sup);
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"specs 1 active 0", "no restarts", "true", "start t"}));
}

TEST_P(SupervisorTest, ShutdownPoliciesKillOrWait) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    std::vector<std::string> r;
    auto slow = leaf_spec("slow", me, true, troupe::restart_type::permanent, 300ms);
    auto patient = slow;
    auto brutal = slow;
    slow.id = "slow";
    slow.shutdown = troupe::shutdown_policy::after(20ms);
    patient.id = "patient";
    patient.shutdown = troupe::shutdown_policy::never_kill();
    brutal.id = "brutal";
    brutal.shutdown = troupe::shutdown_policy::brutal_kill();
    for (auto* spec : {&slow, &patient, &brutal}) {
      const std::string id = spec->id;
      spec->start = [=] { return leaf::start_link(id, me, true, 300ms); };
      auto sup = supervisor::start_link({}, {*spec}).value();
      recv<std::string>();
      const troupe::pid child = child_pid(sup, id);
      const auto ref = troupe::monitor(child);
      supervisor::terminate_child(sup, id);
      r.push_back(fmt::format("{} {} {}", id, recv_down(ref).reason, drain<std::string>().size()));
      shut(sup);
    }
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"slow killed 0", "patient shutdown 1", "brutal killed 0"}));
}

TEST_P(SupervisorTest, ChildManagementAnswersAsOtp) {
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto sup = supervisor::start_link({}, {leaf_spec("a", me)}).value();
    recv<std::string>();
    std::vector<std::string> r;
    const troupe::pid a = child_pid(sup, "a");
    auto dup = supervisor::start_child(sup, leaf_spec("a", me));
    r.push_back(fmt::format("{}", dup.status() == troupe::start_status::already_started && dup.holder() == a));
    r.push_back(fmt::format("{}", supervisor::restart_child(sup, "a").status() == troupe::start_status::running));
    r.push_back(fmt::format("{}", supervisor::delete_child(sup, "a") == troupe::child_result::running));
    r.push_back(fmt::format("{}", supervisor::terminate_child(sup, "a") == troupe::child_result::ok));
    recv<std::string>();  // stop a
    r.push_back(fmt::format("{}", supervisor::start_child(sup, leaf_spec("a", me)).status() ==
                                      troupe::start_status::already_present));
    r.push_back(fmt::format("{}", supervisor::restart_child(sup, "a").ok()));
    recv<std::string>();  // start a
    auto b = supervisor::start_child(sup, leaf_spec("b", me));
    recv<std::string>();  // start b
    const auto counts = supervisor::count_children(sup);
    r.push_back(fmt::format("{} {} {} {}", b.ok(), counts.specs, counts.active, counts.workers));
    r.push_back(fmt::format("{}", supervisor::terminate_child(sup, "nope") == troupe::child_result::not_found));
    r.push_back(fmt::format("{}", supervisor::restart_child(sup, "nope").status() == troupe::start_status::not_found));
    r.push_back(fmt::format("{}", supervisor::delete_child(sup, "nope") == troupe::child_result::not_found));
    supervisor::terminate_child(sup, "b");
    recv<std::string>();
    r.push_back(fmt::format("{}", supervisor::delete_child(sup, "b") == troupe::child_result::ok));
    const auto rows = supervisor::which_children(sup);
    r.push_back(fmt::format("{} {}", rows.size(), rows.empty() ? "" : rows[0].id));
    shut(sup);
    return r;
  });
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (i == 6) EXPECT_EQ(got[i], "true 2 2 2");
    else if (i == got.size() - 1) EXPECT_EQ(got[i], "1 a");
    else EXPECT_EQ(got[i], "true") << "answer " << i;
  }
  EXPECT_EQ(got.size(), 12u);
}

TEST_P(SupervisorTest, InvalidSpecsAreRejectedWithAClearError) {
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    std::vector<std::string> r;
    r.push_back(fmt::format("{}", supervisor::start_link({}, {leaf_spec("a", me), leaf_spec("a", me)})));
    r.push_back(fmt::format("{}", supervisor::start_link({.max_seconds = 0ms}, {})));
    r.push_back(fmt::format("{}", supervisor::start_link({.max_restarts = -1}, {})));
    r.push_back(fmt::format("{}", supervisor::start_link({}, {troupe::worker("x", nullptr)})));
    r.push_back(fmt::format("{}", supervisor::start_link({}, {troupe::worker("", [] { return troupe::start_result<>(); })})));
    return r;
  });
  ASSERT_EQ(got.size(), 5u);
  EXPECT_NE(got[0].find("duplicate child id \"a\""), std::string::npos) << got[0];
  EXPECT_NE(got[1].find("max_seconds is 0 ms"), std::string::npos) << got[1];
  EXPECT_NE(got[2].find("max_restarts is -1"), std::string::npos) << got[2];
  EXPECT_NE(got[3].find("child \"x\" has no start function"), std::string::npos) << got[3];
  EXPECT_NE(got[4].find("empty id"), std::string::npos) << got[4];
}

struct bad_init : troupe::gen_server<bad_init> {
  troupe::next_action init() { return stop(exit_reason::user("no config")); }
};

TEST_P(SupervisorTest, AChildThatFailsToStartStopsTheOthersAndFailsTheStart) {
  log_capture logs;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::trap_exit(true);
    auto res = supervisor::start_link(
        {}, {leaf_spec("a", me), troupe::worker("b", [] { return bad_init::start_link(); }), leaf_spec("c", me)});
    std::vector<std::string> r = recv_n(2);
    r.push_back(fmt::format("{}", res));
    return r;
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "start a");
  EXPECT_EQ(got[1], "stop a");
  EXPECT_EQ(got[2], "{error,{shutdown,{failed_to_start_child,b,no config}}}");
  EXPECT_GE(logs.sink().count_containing("errorContext: start_error"), 1u);
}

// Three levels of supervisors; leaves crash in a storm; the tree recovers.
TEST_P(SupervisorTest, NestedSupervisorsRecoverFromAStormOfLeafCrashes) {
  log_capture quiet;
  const bool ok = rt().run([] {
    const troupe::pid me = troupe::self();
    constexpr int mids = 3, leaves = 4;
    auto make_mid = [me](int m) {
      return troupe::supervisor_child(fmt::format("mid{}", m), [me, m] {
        std::vector<troupe::child_spec> kids;
        for (int l = 0; l < leaves; ++l) kids.push_back(leaf_spec(fmt::format("leaf{}.{}", m, l), me, false));
        return supervisor::start_link({.max_restarts = 1000, .max_seconds = 10s}, std::move(kids));
      });
    };
    auto top = supervisor::start_link({.max_restarts = 1000, .max_seconds = 10s}, [&] {
                 std::vector<troupe::child_spec> v;
                 for (int m = 0; m < mids; ++m) v.push_back(troupe::supervisor_child(
                                                    fmt::format("mid{}", m), [make_mid, m] {
                                                      return supervisor::start_link({.max_restarts = 1000, .max_seconds = 10s},
                                                                                    {make_mid(m)});
                                                    }));
                 return v;
               }())
                   .value();
    recv_starts(mids * leaves);
    for (int round = 0; round < 20; ++round) {
      for (const auto& m : supervisor::which_children(top))
        for (const auto& m2 : supervisor::which_children(m.child))
          for (const auto& l : supervisor::which_children(m2.child)) crash(l.child);
      recv_starts(mids * leaves);  // every leaf started again
    }
    bool all = true;
    for (const auto& m : supervisor::which_children(top))
      for (const auto& m2 : supervisor::which_children(m.child))
        for (const auto& l : supervisor::which_children(m2.child))
          all = all && troupe::call(troupe::server<leaf>(l.child), ping{}) == 1;
    shut(top);
    return all;
  });
  EXPECT_TRUE(ok);
}

}  // namespace

namespace {

// As OTP's terminate_children: a child that answers the shutdown by ending
// normally is an error only if it is permanent.
TEST_P(SupervisorTest, AChildEndingNormallyAsItIsShutDownIsAnErrorOnlyIfPermanent) {
  log_capture logs;
  auto run_with = [&](troupe::restart_type restart) {
    rt().run([restart] {
      const troupe::pid me = troupe::self();
      auto normal_on_exit = [me] {
        return troupe::start_result<troupe::pid>(troupe::start_status::ok, troupe::spawn_link([me] {
          troupe::trap_exit(true);
          troupe::send(me, std::string("trapping"));
          troupe::receive([](troupe::exit_message) {});  // its shutdown: it ends normally instead
        }));
      };
      auto sup = supervisor::start_link({}, {troupe::worker("w", normal_on_exit, restart)}).value();
      EXPECT_EQ(recv<std::string>(), "trapping");
      shut(sup);
    });
  };
  run_with(troupe::restart_type::temporary);
  run_with(troupe::restart_type::transient);
  EXPECT_EQ(logs.sink().count_containing("shutdown_error"), 0u);
  run_with(troupe::restart_type::permanent);
  EXPECT_EQ(logs.sink().count_containing("shutdown_error"), 1u);
}

}  // namespace
