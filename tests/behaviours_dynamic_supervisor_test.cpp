// Behaviours, dynamic_supervisor (OTP's simple_one_for_one): children on
// demand with extra arguments, restarted with the same ones, max_children,
// termination by pid; and a million idle servers that hold no stacks.

#include <fmt/format.h>

#include <string>
#include <vector>

#include "test_support.hpp"
#include "troupe/dynamic_supervisor.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/process_info.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::exit_reason;

class DynamicSupervisorTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(DynamicSupervisorTest);

struct whoami {};
struct crash_now {};
struct quit {};

struct session : troupe::gen_server<session> {
  std::string user;
  session(std::string u, troupe::pid obs) : user(std::move(u)) {
    if (obs) troupe::send(obs, "start " + user);
  }
  std::string handle_call(whoami) { return user; }
  void handle_cast(crash_now) { throw std::runtime_error("session crashed"); }
  troupe::next_action handle_cast(quit) { return stop(exit_reason::normal()); }
};

using sessions = troupe::dynamic_supervisor<std::string>;

sessions start_sessions(troupe::pid obs, troupe::dynamic_options o = {}) {
  return sessions::start_link([obs](std::string u) { return session::start_link(std::move(u), obs); }, o).value();
}

void shut(troupe::pid sup) {
  troupe::unlink(sup);
  const auto ref = troupe::monitor(sup);
  troupe::exit(sup, exit_reason::shutdown());
  recv_down(ref);
}

TEST_P(DynamicSupervisorTest, ChildrenStartWithTheirArgumentsAndRestartWithThem) {
  log_capture quiet;
  const std::vector<std::string> got = rt().run([] {
    const troupe::pid me = troupe::self();
    auto sup = start_sessions(me);
    std::vector<std::string> r;
    const troupe::pid ada = sup.start_child("ada").value();
    const troupe::pid bob = sup.start_child("bob").value();
    r.push_back(recv<std::string>());
    r.push_back(recv<std::string>());
    troupe::cast(troupe::server<session>(ada), crash_now{});
    r.push_back(recv<std::string>());  // restarted with "ada"
    const auto counts = sup.count_children();
    r.push_back(fmt::format("{} {}", counts.specs, counts.active));
    for (troupe::pid p : sup.which_children())
      if (p != bob) r.push_back(troupe::call(troupe::server<session>(p), whoami{}));
    shut(sup.pid());
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"start ada", "start bob", "start ada", "2 2", "ada"}));
}

TEST_P(DynamicSupervisorTest, MaxChildrenAndTerminationByPid) {
  const std::vector<std::string> got = rt().run([] {
    auto sup = start_sessions(troupe::pid{}, {.max_children = 2});
    std::vector<std::string> r;
    const troupe::pid a = sup.start_child("a").value();
    sup.start_child("b").value();
    r.push_back(fmt::format("{}", sup.start_child("c")));
    const auto ref = troupe::monitor(a);
    r.push_back(fmt::format("{}", sup.terminate_child(a) == troupe::child_result::ok));
    r.push_back(fmt::format("{}", recv_down(ref).reason));
    r.push_back(fmt::format("{}", sup.terminate_child(a) == troupe::child_result::not_found));
    r.push_back(fmt::format("{}", sup.start_child("c").ok()));
    shut(sup.pid());
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"{error,max_children}", "true", "shutdown", "true", "true"}));
}

TEST_P(DynamicSupervisorTest, TransientChildrenThatQuitNormallyStayDown) {
  const std::size_t got = rt().run([] {
    auto sup = start_sessions(troupe::pid{}, {.restart = troupe::restart_type::transient});
    const troupe::pid a = sup.start_child("a").value();
    const auto ref = troupe::monitor(a);
    troupe::cast(troupe::server<session>(a), quit{});
    recv_down(ref);
    const std::size_t n = sup.count_children().active;
    shut(sup.pid());
    return n;
  });
  EXPECT_EQ(got, 0u);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int idle_servers = live_processes(20'000);
#else
constexpr int idle_servers = 1'000'000;
#endif

// Each idle server holds no stack, and each still answers.
TEST_P(DynamicSupervisorTest, AMillionIdleServersHoldNoStacksAndAllAnswer) {
  if (GetParam().schedulers != 2 || GetParam().shared_stacks) GTEST_SKIP() << "one configuration is enough";
  struct outcome {
    int stackless = 0, answered = 0;
  };
  const outcome o = rt().run([] {
    auto sup = start_sessions(troupe::pid{});
    std::vector<troupe::pid> ps;
    ps.reserve(idle_servers);
    for (int i = 0; i < idle_servers; ++i) ps.push_back(sup.start_child(std::to_string(i)).value());
    outcome r;
    for (troupe::pid p : ps) r.stackless += troupe::process_info(p)->stackless;
    for (int i = 0; i < idle_servers; ++i)
      r.answered += troupe::call(troupe::server<session>(ps[static_cast<std::size_t>(i)]), whoami{}) == std::to_string(i);
    shut(sup.pid());
    return r;
  });
  EXPECT_EQ(o.stackless, idle_servers);
  EXPECT_EQ(o.answered, idle_servers);
}

}  // namespace
