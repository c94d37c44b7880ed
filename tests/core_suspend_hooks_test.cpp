// Suspend hooks (src/core/suspend_hooks.hpp): work a process leaves for its
// next switch runs then, once, on the process's own thread.

#include <atomic>

#include "../src/core/suspend_hooks.hpp"
#include "test_support.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;

class CoreSuspendHooksTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(CoreSuspendHooksTest);

struct counting_hook final : troupe::detail::suspend_hook {
  std::atomic<int> runs{0};
  troupe::pid ran_in;
  void on_suspend() noexcept override {
    ran_in = troupe::self();
    runs.fetch_add(1);
  }
};

TEST_P(CoreSuspendHooksTest, AHookRunsOnceWhenTheProcessNextWaits) {
  rt().run([] {
    counting_hook h;
    troupe::detail::run_at_suspend(&h);
    troupe::send(troupe::self(), 1);  // runtime calls that do not switch do not run it
    (void)troupe::process_info(troupe::self());
    EXPECT_EQ(h.runs.load(), 0);
    troupe::sleep_for(1ms);
    EXPECT_EQ(h.runs.load(), 1);
    EXPECT_EQ(h.ran_in, troupe::self());
    troupe::yield();
    EXPECT_EQ(h.runs.load(), 1) << "a hook runs once per queuing";
  });
}

TEST_P(CoreSuspendHooksTest, HooksRunInTheOrderTheyWereQueuedAndAtExit) {
  rt().run([] {
    static std::atomic<int> order;
    order = 0;
    struct ordered final : troupe::detail::suspend_hook {
      int seen = -1;
      void on_suspend() noexcept override { seen = order.fetch_add(1); }
    };
    ordered a, b, c;
    const troupe::pid p = troupe::spawn([&] {
      troupe::detail::run_at_suspend(&a);
      troupe::detail::run_at_suspend(&b);
      troupe::detail::run_at_suspend(&c);
    });  // it exits without waiting: the exit runs them
    ASSERT_TRUE(wait_gone(p));
    EXPECT_EQ(a.seen, 0);
    EXPECT_EQ(b.seen, 1);
    EXPECT_EQ(c.seen, 2);
  });
}

TEST_P(CoreSuspendHooksTest, AKilledProcessRunsItsHooksToo) {
  rt().run([] {
    counting_hook h;
    const troupe::pid me = troupe::self();
    const troupe::pid p = troupe::spawn([&h, me] {
      troupe::detail::run_at_suspend(&h);
      troupe::send(me, 1);
      for (;;) troupe::consume_reductions(1);  // never waits
    });
    (void)recv<int>();
    troupe::exit(p, troupe::exit_reason::killed());
    ASSERT_TRUE(wait_gone(p));
    EXPECT_EQ(h.runs.load(), 1);
  });
}

}  // namespace
