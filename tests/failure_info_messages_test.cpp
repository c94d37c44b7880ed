// process_info(p, n): the first messages queued for a process (OTP's
// process_info(P, messages)), answered by the process itself in order with
// the messages sent to it.

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using namespace std::chrono_literals;
using troupe::process_status;
using troupe::queued_message;

class FailureInfoMessagesTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureInfoMessagesTest);

struct opaque {
  int n = 0;
};
struct stop {};

// A process that waits for a `stop` only, so everything else stays queued.
troupe::pid hoarder() {
  return troupe::spawn([] { troupe::receive([](stop) {}); });
}

std::vector<std::string> types_of(const std::vector<queued_message>& ms) {
  std::vector<std::string> out;
  for (const queued_message& m : ms) out.push_back(m.type);
  return out;
}

void expect_listing_of_three(const std::vector<queued_message>& ms) {
  ASSERT_EQ(ms.size(), 2u) << "only the first two were asked for";
  EXPECT_EQ(ms[0].type, "int");
  EXPECT_EQ(ms[0].value, "42");
  EXPECT_NE(ms[1].type.find("basic_string"), std::string::npos) << ms[1].type;
  EXPECT_EQ(ms[1].value, "two");
}

TEST_P(FailureInfoMessagesTest, AProcessListsAnotherProcesssQueue) {
  const auto got = rt().run([] {
    const troupe::pid h = hoarder();
    troupe::send(h, 42);
    troupe::send(h, std::string("two"));
    troupe::send(h, opaque{3});
    auto info = troupe::process_info(h, 2);
    auto all = troupe::process_info(h, 10);
    troupe::send(h, stop{});
    return std::make_pair(info->messages, all->messages);
  });
  expect_listing_of_three(got.first);
  ASSERT_EQ(got.second.size(), 3u);
  EXPECT_EQ(got.second[2].type, "(anonymous namespace)::opaque");
  EXPECT_EQ(got.second[2].value, "") << "not formattable: the type alone";
}

TEST_P(FailureInfoMessagesTest, APlainThreadListsAProcesssQueue) {
  rt();
  const troupe::pid h = hoarder();
  troupe::send(h, 42);
  troupe::send(h, std::string("two"));
  troupe::send(h, opaque{3});
  ASSERT_TRUE(wait_until([&] { return troupe::process_info(h)->message_queue_len == 3; }));
  const auto info = troupe::process_info(h, 2);
  ASSERT_TRUE(info);
  expect_listing_of_three(info->messages);
  EXPECT_EQ(info->message_queue_len, 3u);
  troupe::send(h, stop{});
  EXPECT_TRUE(wait_gone(h));
}

// The request travels behind what the requester sent before it, and ahead
// of what it sends after: a listing sees exactly the first.
TEST_P(FailureInfoMessagesTest, TheListingIsInOrderWithTheRequestersMessages) {
  const auto got = rt().run([] {
    const troupe::pid h = hoarder();
    for (int i = 0; i < 100; ++i) troupe::send(h, i);
    const auto info = troupe::process_info(h, 1000);
    troupe::send(h, std::string("after"));
    troupe::send(h, stop{});
    return info->messages;
  });
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i].value, std::to_string(i));
}

// Listing leaves the queue as it was, and a receive waiting with a timeout
// still times out on time (the request wakes it without consuming its wait).
TEST_P(FailureInfoMessagesTest, ListingLeavesTheQueueAndTheWaitAlone) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid h = troupe::spawn([me] {
      const auto start = std::chrono::steady_clock::now();
      const bool timed_out = troupe::receive([](stop) { return false; }, troupe::after(300ms, [] { return true; }));
      const auto waited = std::chrono::steady_clock::now() - start;
      std::vector<int> left;
      while (auto v = troupe::receive_for<int>(0ms)) left.push_back(*v);
      troupe::send(me, std::make_pair(timed_out && waited >= 300ms, left));
    });
    troupe::send(h, 1);
    troupe::send(h, 2);
    std::vector<std::string> seen;
    for (int i = 0; i < 20; ++i) {
      const auto info = troupe::process_info(h, 5);
      if (info) seen.push_back(fmt::format("{}", fmt::join(types_of(info->messages), ",")));
      troupe::sleep_for(5ms);
    }
    return std::make_pair(recv<std::pair<bool, std::vector<int>>>(), seen);
  });
  EXPECT_TRUE(got.first.first) << "the receive ended before its timeout";
  EXPECT_EQ(got.first.second, (std::vector<int>{1, 2})) << "messages lost or reordered by listing";
  for (const std::string& s : got.second) EXPECT_EQ(s, "int,int");
}

// A process in sleep_for answers, and sleeps on.
TEST_P(FailureInfoMessagesTest, ASleepingProcessAnswersAndSleepsOn) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid s = troupe::spawn([me] {
      const auto start = std::chrono::steady_clock::now();
      troupe::sleep_for(200ms);
      troupe::send(me, std::chrono::steady_clock::now() - start >= 200ms);
    });
    troupe::send(s, opaque{});
    troupe::sleep_for(20ms);
    const auto info = troupe::process_info(s, 4);
    const bool slept_on = recv<bool>();
    return std::make_pair(info ? info->messages.size() : 99u, slept_on);
  });
  EXPECT_EQ(got.first, 1u);
  EXPECT_TRUE(got.second) << "the listing cut the sleep short";
}

// A busy process that never receives answers at its next runtime call.
TEST_P(FailureInfoMessagesTest, ABusyProcessAnswersAtItsNextRuntimeCall) {
  const auto got = rt().run([] {
    std::atomic<bool> done{false};
    const troupe::pid busy = troupe::spawn([&done] {
      while (!done.load()) troupe::yield();
    });
    troupe::send(busy, 7);
    const auto info = troupe::process_info(busy, 4);
    done.store(true);
    wait_gone(busy);
    return info ? info->messages : std::vector<queued_message>{};
  });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, "7");
}

TEST_P(FailureInfoMessagesTest, AProcessListsItsOwnQueue) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), 5);
    troupe::send(troupe::self(), std::string("six"));
    const auto info = troupe::process_info(troupe::self(), 8);
    const int first = recv<int>();
    return std::make_pair(info->messages, first);
  });
  ASSERT_EQ(got.first.size(), 2u);
  EXPECT_EQ(got.first[0].value, "5");
  EXPECT_EQ(got.first[1].value, "six");
  EXPECT_EQ(got.second, 5) << "listing took the message out of the queue";
}

// A process that exits before it answers: nullopt, and the requester is not
// left waiting.
TEST_P(FailureInfoMessagesTest, AProcessThatExitsWithoutAnsweringGivesNullopt) {
  rt();
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  const troupe::pid spinner = troupe::spawn([&] {
    started.store(true);
    while (!release.load()) {
    }  // plain C++: no runtime call, so the request is never pulled
  });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    release.store(true);
  });
  const auto info = troupe::process_info(spinner, 4);
  releaser.join();
  EXPECT_FALSE(info.has_value());
  EXPECT_TRUE(wait_gone(spinner));
}

TEST_P(FailureInfoMessagesTest, ADeadPidGivesNullopt) {
  const troupe::pid dead = rt().run([] { return dead_pid(); });
  EXPECT_FALSE(troupe::process_info(dead, 4).has_value());
  const bool from_process = rt().run([dead] { return !troupe::process_info(dead, 4).has_value(); });
  EXPECT_TRUE(from_process);
}

}  // namespace
