// Durations saturate: a timeout or delay longer than nanoseconds can hold
// (milliseconds::max(), hours::max(), 1000 years, duration<double>(1e30))
// means "never", not "now" (duration_cast<nanoseconds> overflows on them),
// in after(), receive_for, send_after and sleep_for alike.

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <troupe/detail/saturating_ns.hpp>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using std::chrono::nanoseconds;
using troupe::detail::saturating_ns;

// How long a huge duration must not fire for, here: far longer than
// "at once", short enough to keep the suite quick.
constexpr auto not_within = 100ms;

// ------------------------------------------------------------- the helper

TEST(DurationSaturation, HugeDurationsBecomeNanosecondsMax) {
  EXPECT_EQ(saturating_ns(std::chrono::milliseconds::max()), nanoseconds::max());
  EXPECT_EQ(saturating_ns(std::chrono::hours::max()), nanoseconds::max());
  EXPECT_EQ(saturating_ns(std::chrono::years(1000)), nanoseconds::max());
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(1e30)), nanoseconds::max());
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(std::numeric_limits<double>::infinity())), nanoseconds::max());
  EXPECT_EQ(saturating_ns(std::chrono::duration<unsigned long long>(~0ull)), nanoseconds::max());
  EXPECT_EQ(saturating_ns(nanoseconds::max()), nanoseconds::max());
}

TEST(DurationSaturation, NegativeAndNaNBecomeZero) {
  EXPECT_EQ(saturating_ns(-1ms), nanoseconds::zero());
  EXPECT_EQ(saturating_ns(std::chrono::hours::min()), nanoseconds::zero());
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(-1e30)), nanoseconds::zero());
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(std::nan(""))), nanoseconds::zero());
}

TEST(DurationSaturation, RepresentableDurationsConvertExactly) {
  EXPECT_EQ(saturating_ns(1500ms), nanoseconds(1'500'000'000));
  EXPECT_EQ(saturating_ns(std::chrono::years(292)), std::chrono::duration_cast<nanoseconds>(std::chrono::years(292)));
  EXPECT_EQ(saturating_ns(std::chrono::milliseconds(9'223'372'036'854)), nanoseconds(9'223'372'036'854'000'000));
  EXPECT_EQ(saturating_ns(std::chrono::milliseconds(9'223'372'036'855)), nanoseconds::max());  // one more ms
  EXPECT_EQ(saturating_ns(std::chrono::duration<double, std::milli>(1.5)), nanoseconds(1'500'000));
  EXPECT_EQ(saturating_ns(std::chrono::duration<long long, std::pico>(1999)), nanoseconds(1));  // truncates
  EXPECT_EQ(saturating_ns(std::chrono::duration<int, std::ratio<1, 3>>(3)), 1s);
}

// --------------------------------------------------- the four public uses

class DurationTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(DurationTest);

// Each of these runs `wait(huge)` in a process that is sent an int after
// not_within: with a saturated duration the int arrives first.
template <class D>
int receive_after(D huge) {
  const troupe::pid me = troupe::self();
  troupe::send_after(me, not_within, 1);
  return troupe::receive([](int i) { return i; }, troupe::after(huge, [] { return -1; }));
}

TEST_P(DurationTest, AfterWithAHugeTimeoutWaitsForTheMessage) {
  const auto got = rt().run([] {
    return std::vector<int>{receive_after(std::chrono::milliseconds::max()), receive_after(std::chrono::hours::max()),
                            receive_after(std::chrono::years(1000)),
                            receive_after(std::chrono::duration<double>(1e30))};
  });
  EXPECT_EQ(got, (std::vector<int>{1, 1, 1, 1})) << "-1: a huge after() timed out at once";
}

template <class D>
bool receive_for_gets(D huge) {
  troupe::send_after(troupe::self(), not_within, std::string("late"));
  return troupe::receive_for<std::string>(huge).has_value();
}

TEST_P(DurationTest, ReceiveForWithAHugeTimeoutWaitsForTheMessage) {
  const auto got = rt().run([] {
    return std::vector<bool>{receive_for_gets(std::chrono::milliseconds::max()),
                             receive_for_gets(std::chrono::hours::max()), receive_for_gets(std::chrono::years(1000)),
                             receive_for_gets(std::chrono::duration<double>(1e30))};
  });
  EXPECT_EQ(got, (std::vector<bool>{true, true, true, true})) << "false: a huge receive_for timed out at once";
}

template <class D>
std::pair<bool, bool> send_after_arrives(D huge) {
  troupe::timer_ref t = troupe::send_after(troupe::self(), huge, tracked(1));
  const bool arrived = troupe::receive_for<tracked>(not_within).has_value();
  const bool cancelled = troupe::cancel_timer(t);  // frees the message
  return {arrived, cancelled};
}

TEST_P(DurationTest, SendAfterWithAHugeDelayDoesNotArrive) {
  const auto got = rt().run([] {
    return std::vector<std::pair<bool, bool>>{
        send_after_arrives(std::chrono::milliseconds::max()), send_after_arrives(std::chrono::hours::max()),
        send_after_arrives(std::chrono::years(1000)), send_after_arrives(std::chrono::duration<double>(1e30))};
  });
  for (const auto& [arrived, cancelled] : got) {
    EXPECT_FALSE(arrived) << "a huge send_after delivered at once";
    EXPECT_TRUE(cancelled) << "the timer should still have been pending";
  }
}

// A process in sleep_for(huge) is still asleep after not_within, and kill
// ends it (so the test does not wait forever either way).
template <class D>
bool sleeper_still_asleep(D huge) {
  auto [sleeper, ref] = troupe::spawn_monitor([huge] { troupe::sleep_for(huge); });
  const troupe::monitor_ref mine = ref;
  const bool woke_early =
      troupe::receive(troupe::when([mine](const troupe::down_message& d) { return d.ref == mine; },
                                   [](const troupe::down_message&) { return true; }),
                      troupe::after(not_within, [] { return false; }));
  if (woke_early) return false;
  troupe::exit(sleeper, troupe::exit_reason::kill());
  return recv_down(ref).reason.is(troupe::exit_kind::killed);
}

TEST_P(DurationTest, SleepForAHugeDurationSleepsUntilKilled) {
  log_capture quiet;  // crash reports of the killed sleepers
  const auto got = rt().run([] {
    return std::vector<bool>{sleeper_still_asleep(std::chrono::milliseconds::max()),
                             sleeper_still_asleep(std::chrono::hours::max()),
                             sleeper_still_asleep(std::chrono::years(1000)),
                             sleeper_still_asleep(std::chrono::duration<double>(1e30))};
  });
  EXPECT_EQ(got, (std::vector<bool>{true, true, true, true})) << "false: a huge sleep_for returned at once";
}

// The other end: negative durations are "now", not "never".
TEST_P(DurationTest, NegativeDurationsDoNotWait) {
  const auto got = rt().run([] {
    troupe::sleep_for(-1h);
    const int polled =
        troupe::receive([](int i) { return i; }, troupe::after(std::chrono::hours::min(), [] { return -1; }));
    troupe::send_after(troupe::self(), std::chrono::duration<double>(-1e30), 5);
    return std::make_pair(polled, recv<int>(hang_timeout));
  });
  EXPECT_EQ(got, std::make_pair(-1, 5));
}

}  // namespace
