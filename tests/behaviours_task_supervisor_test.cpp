// Behaviours, task supervisor (Elixir's Task.Supervisor): tasks as temporary
// children, async linked to the caller or not, stopped with the supervisor.

#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "troupe/task_supervisor.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::exit_reason;
namespace task = troupe::task;

class TaskSupervisorTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(TaskSupervisorTest);

// The point of it: a supervised task's crash reaches the awaiter as the
// exception, and the caller lives on; the task was the supervisor's child.
TEST_P(TaskSupervisorTest, ANolinkTaskCrashesWithoutTheCaller) {
  log_capture quiet;
  struct outcome {
    std::string what;
    bool child_of_sup = false, not_linked_to_me = false, gone_from_children = false;
  };
  const outcome out = rt().run([] {
    auto sup = task::supervisor::start_link().value();
    const troupe::pid me = troupe::self();
    auto t = sup.async_nolink([]() -> int {
      recv<std::string>();
      throw std::runtime_error("task failed");
    });
    outcome o;
    const auto info = troupe::process_info(t.process());
    o.child_of_sup = info && contains(info->links, sup.pid()) && contains(sup.children(), t.process());
    o.not_linked_to_me = info && !contains(info->links, me);
    troupe::send(t.process(), std::string("go"));
    try {
      task::await(t);
    } catch (const std::runtime_error& e) {
      o.what = e.what();
    }
    o.gone_from_children = process_wait_until([&] { return sup.children().empty(); });
    return o;
  });
  EXPECT_EQ(out.what, "task failed");
  EXPECT_TRUE(out.child_of_sup);
  EXPECT_TRUE(out.not_linked_to_me);
  EXPECT_TRUE(out.gone_from_children);
}

TEST_P(TaskSupervisorTest, AsyncLinksTheTaskToTheCallerToo) {
  struct outcome {
    int value = 0;
    bool linked_both = false;
  };
  const outcome out = rt().run([] {
    auto sup = task::supervisor::start_link().value();
    const troupe::pid me = troupe::self();
    auto t = sup.async([] { return recv<int>() * 2; });
    outcome o;
    // The task links itself to its owner as it starts.
    o.linked_both = process_wait_until([&] {
      const auto info = troupe::process_info(t.process());
      return info && contains(info->links, me) && contains(info->links, sup.pid());
    });
    troupe::send(t.process(), 21);
    o.value = task::await(t);
    return o;
  });
  EXPECT_EQ(out.value, 42);
  EXPECT_TRUE(out.linked_both);
}

// A task that is done before its caller's monitor is set still gives its
// value (its result is tagged before it starts, and comes ahead of the
// monitor's noproc).
TEST_P(TaskSupervisorTest, ATaskDoneAtOnceStillGivesItsValue) {
  const int sum = rt().run([] {
    auto sup = task::supervisor::start_link().value();
    int s = 0;
    for (int i = 0; i < 200; ++i) {
      auto t = sup.async_nolink([i] { return i; });
      s += task::await(t);
    }
    return s;
  });
  EXPECT_EQ(sum, 199 * 200 / 2);
}

TEST_P(TaskSupervisorTest, StoppingTheSupervisorStopsItsTasks) {
  const bool stopped = rt().run([] {
    troupe::trap_exit(true);
    auto sup = task::supervisor::start_link().value();
    const troupe::pid a = sup.start_child([] { recv<std::string>(10min); }).value();
    const troupe::pid b = sup.start_child([] { recv<std::string>(10min); }).value();
    troupe::exit(sup.pid(), exit_reason::shutdown());
    const bool sup_gone = recv_exit_from(sup.pid()).reason == exit_reason::shutdown();
    return sup_gone && wait_gone(a) && wait_gone(b);
  });
  EXPECT_TRUE(stopped);
}

TEST_P(TaskSupervisorTest, PastMaxChildrenAsyncThrowsCallError) {
  const std::string why = rt().run([] {
    auto sup = task::supervisor::start_link({.max_children = 1}).value();
    auto first = sup.async_nolink([] { return recv<int>(10min); });
    std::string r;
    try {
      sup.async_nolink([] { return 0; });
    } catch (const troupe::call_error& e) {
      r = fmt::format("{}", e.cause());
    }
    troupe::send(first.process(), 1);
    task::await(first);
    return r;
  });
  EXPECT_EQ(why, "max_children");
}

}  // namespace
