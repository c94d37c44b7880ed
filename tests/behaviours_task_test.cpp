// Behaviours, task (Elixir's Task): async/await, exceptions delivered to the
// awaiter, yield, await_many, shutdown, async_nolink, timeouts.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "troupe/task.hpp"
#include "troupe/timer.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::exit_reason;
namespace task = troupe::task;

class TaskTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(TaskTest);

TEST_P(TaskTest, AwaitReturnsTheValue) {
  const int got = rt().run([] {
    auto t = task::async([] { return 6 * 7; });
    return task::await(t);
  });
  EXPECT_EQ(got, 42);
}

TEST_P(TaskTest, AwaitRethrowsTheTasksExceptionInTheAwaiter) {
  log_capture quiet;
  const std::string got = rt().run([] {
    auto t = task::async([]() -> int { throw std::invalid_argument("bad input"); });
    try {
      task::await(t);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  });
  EXPECT_EQ(got, "bad input");
}

TEST_P(TaskTest, AwaitManyKeepsTheOrder) {
  const std::vector<int> got = rt().run([] {
    std::vector<troupe::async_task<int>> ts;
    for (int i = 0; i < 10; ++i) ts.push_back(task::async([i] {
      troupe::sleep_for(std::chrono::milliseconds(10 - i));
      return i * i;
    }));
    return task::await_many(ts);
  });
  EXPECT_EQ(got, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
}

TEST_P(TaskTest, YieldGivesNothingYetThenTheResult) {
  const std::vector<std::string> got = rt().run([] {
    auto t = task::async([] {
      troupe::sleep_for(30ms);
      return std::string("done");
    });
    std::vector<std::string> r;
    r.push_back(task::yield(t) ? "early" : "nothing yet");
    r.push_back(task::yield(t, 10s).value_or("none"));
    return r;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"nothing yet", "done"}));
}

TEST_P(TaskTest, AwaitTimesOutWithCallError) {
  const std::string got = rt().run([] {
    auto t = task::async([] {
      troupe::sleep_for(10s);
      return 1;
    });
    std::string r;
    try {
      task::await(t, 5ms);
    } catch (const troupe::call_error& e) {
      r = fmt::format("{}", e.cause());
    }
    task::shutdown(t);
    return r;
  });
  EXPECT_EQ(got, "timeout");
}

TEST_P(TaskTest, ShutdownStopsTheTaskAndLeavesNothingBehind) {
  const std::string got = rt().run([] {
    auto t = task::async([] {
      troupe::sleep_for(10s);
      return 1;
    });
    const troupe::pid p = t.process();
    const auto r = task::shutdown(t);
    const bool gone = wait_gone(p);
    const bool empty = troupe::receive([](const troupe::any_message&) { return false; },
                                       troupe::after(20ms, [] { return true; }));
    return fmt::format("{} {} {}", r.has_value(), gone, empty);
  });
  EXPECT_EQ(got, "false true true");
}

TEST_P(TaskTest, ANolinkTaskThatIsKilledDoesNotTakeTheCallerDown) {
  const std::string got = rt().run([] {
    auto t = task::async_nolink([] {
      troupe::sleep_for(10s);
      return 1;
    });
    troupe::exit(t.process(), exit_reason::kill());
    try {
      task::await(t);
    } catch (const troupe::call_error& e) {
      return fmt::format("{}", e.cause());
    }
    return std::string("no error");
  });
  EXPECT_EQ(got, "killed");
}

}  // namespace
