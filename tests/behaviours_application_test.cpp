// Behaviours, application: SIGTERM stops the whole tree in order and run
// returns 0; a top supervisor that fails to start, or gives up, makes it 1.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"
#include "troupe/application.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/supervisor.hpp"

namespace {

using namespace std::chrono_literals;
using troupe::exit_reason;

std::mutex events_mu;
std::vector<std::string> events;
std::atomic<int> started{0};

void note(std::string e) {
  std::lock_guard lock(events_mu);
  events.push_back(std::move(e));
}

struct crash_now {};

struct member : troupe::gen_server<member> {
  std::string id;
  explicit member(std::string i) : id(std::move(i)) {
    troupe::trap_exit(true);
    ++started;
  }
  void handle_cast(crash_now) { throw std::runtime_error("member crashed"); }
  void terminate(const exit_reason& why) { note(fmt::format("stop {} {}", id, why)); }
};

troupe::child_spec member_spec(const std::string& id) {
  return troupe::worker(id, [id] { return member::start_link(id); });
}

TEST(ApplicationTest, SigtermStopsTheTreeInOrderAndRunReturnsZero) {
  troupe_test::log_capture quiet;
  events.clear();
  started = 0;
  // The killer is a thread of our own: it must block the signals too (as
  // run's doc says, threads started before run do not inherit its mask).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread killer([] {
    while (started.load() < 3) std::this_thread::sleep_for(1ms);
    ::kill(::getpid(), SIGTERM);
  });
  const int status = troupe::application::run([] {
    return troupe::supervisor::start_link(
        {}, {member_spec("a"), troupe::supervisor_child("inner", [] {
               return troupe::supervisor::start_link({}, {member_spec("b"), member_spec("c")});
             })});
  });
  killer.join();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(events, (std::vector<std::string>{"stop c shutdown", "stop b shutdown", "stop a shutdown"}));
}

TEST(ApplicationTest, ATopSupervisorThatCannotStartMakesItOne) {
  troupe_test::log_capture logs;
  const int status = troupe::application::run([] {
    return troupe::supervisor::start_link({}, {member_spec("x"), member_spec("x")});  // duplicate id
  });
  EXPECT_EQ(status, 1);
  EXPECT_EQ(logs.sink().count_containing("the top supervisor did not start"), 1u);
}

TEST(ApplicationTest, ATopSupervisorThatGivesUpMakesItOne) {
  troupe_test::log_capture logs;
  started = 0;
  const int status = troupe::application::run([] {
    auto sup = troupe::supervisor::start_link({.max_restarts = 0}, {member_spec("fragile")});
    // Crash the child from a helper process: no restarts allowed.
    if (sup) troupe::spawn([s = sup.handle()] {
      for (const auto& c : troupe::supervisor::which_children(s)) troupe::cast(troupe::server<member>(c.child), crash_now{});
    });
    return sup;
  });
  EXPECT_EQ(status, 1);
  EXPECT_EQ(logs.sink().count_containing("the top supervisor exited: shutdown"), 1u);
}

}  // namespace
