// monitor by registered name and is_process_alive (OTP's monitor(process,
// Name) and is_process_alive/1).

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_kind;
using troupe::exit_reason;

class FailureMonitorNameTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureMonitorNameTest);

TEST_P(FailureMonitorNameTest, AnUnknownNameGivesNoprocAtOnceNamingTheName) {
  rt().run([] {
    const troupe::monitor_ref ref = troupe::monitor("nobody-here");
    const auto down = recv_down(ref, 0ms);  // already in the mailbox
    EXPECT_EQ(down.reason, exit_reason::noproc());
    EXPECT_EQ(down.name, "nobody-here");
    EXPECT_FALSE(down.who);
    EXPECT_EQ(fmt::format("{}", down), fmt::format("{{'DOWN',{},process,nobody-here,noproc}}", ref));
  });
}

TEST_P(FailureMonitorNameTest, ANamedProcessThatDiesIsReportedByName) {
  rt().run([] {
    const troupe::pid p = troupe::spawn([] { troupe::receive([](int) {}); throw std::runtime_error("x"); });
    troupe::register_name("worker", p);
    const troupe::monitor_ref ref = troupe::monitor("worker");
    EXPECT_TRUE(no_message_of<troupe::down_message>());
    log_capture quiet;
    troupe::send(p, 1);
    const auto down = recv_down(ref);
    EXPECT_EQ(down.name, "worker");
    EXPECT_EQ(down.who, p);
    EXPECT_TRUE(down.reason.is(exit_kind::exception));
  });
}

TEST_P(FailureMonitorNameTest, AMonitorByNameFollowsTheProcessNotTheName) {
  rt().run([] {
    const troupe::pid first = troupe::spawn([] { troupe::receive([](int) {}); });
    troupe::register_name("svc", first);
    const troupe::monitor_ref ref = troupe::monitor("svc");
    troupe::unregister("svc");
    const troupe::pid second = troupe::spawn([] { troupe::receive([](int) {}); });
    troupe::register_name("svc", second);
    troupe::send(second, 1);
    wait_gone(second);
    EXPECT_TRUE(no_message_of<troupe::down_message>());
    troupe::send(first, 1);
    EXPECT_EQ(recv_down(ref).who, first);
  });
}

TEST_P(FailureMonitorNameTest, DemonitorByNameWorksLikeAnyMonitor) {
  rt().run([] {
    const troupe::pid p = troupe::spawn([] { troupe::receive([](int) {}); });
    troupe::register_name("short-lived", p);
    const troupe::monitor_ref ref = troupe::monitor("short-lived");
    EXPECT_TRUE(troupe::demonitor(ref, true));
    troupe::send(p, 1);
    wait_gone(p);
    EXPECT_TRUE(no_message_of<troupe::down_message>());
  });
}

TEST_P(FailureMonitorNameTest, IsProcessAlive) {
  rt().run([] {
    EXPECT_TRUE(troupe::is_process_alive(troupe::self()));
    EXPECT_FALSE(troupe::is_process_alive(troupe::pid{}));
    EXPECT_FALSE(troupe::is_process_alive(dead_pid()));
    auto [p, ref] = troupe::spawn_monitor([] { troupe::receive([](int) {}); });
    EXPECT_TRUE(troupe::is_process_alive(p));
    troupe::send(p, 1);
    recv_down(ref);
    EXPECT_FALSE(troupe::is_process_alive(p));
  });
}

TEST(IsProcessAliveOutsideTest, FalseWithoutARuntimeAndFromPlainThreads) {
  EXPECT_FALSE(troupe::is_process_alive(troupe::pid(1, 1)));
  troupe::runtime rt({.schedulers = 1});
  const troupe::pid p = troupe::spawn([] { troupe::receive([](int) {}); });
  EXPECT_TRUE(troupe::is_process_alive(p));
  troupe::send(p, 1);
  EXPECT_TRUE(wait_until([&] { return !troupe::is_process_alive(p); }));
}

}  // namespace
