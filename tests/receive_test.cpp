// Selective receive: skipped messages keep their order, guards, clause order,
// handler results, timeouts (after / receive_for), polling, nested receive.

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class ReceiveTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(ReceiveTest);

// Everything left in the mailbox, in order, as ints or strings (polls).
std::vector<std::variant<int, std::string>> drain_ints_and_strings() {
  std::vector<std::variant<int, std::string>> out;
  for (;;) {
    const bool more = troupe::receive([&](int i) { return out.emplace_back(i), true; },
                                      [&](std::string s) { return out.emplace_back(std::move(s)), true; },
                                      troupe::after(0ms, [] { return false; }));
    if (!more) return out;
  }
}

TEST_P(ReceiveTest, SelectiveReceiveKeepsSkippedMessagesInOrder) {
  constexpr int n = 500;
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid sender = troupe::spawn([root] {
      for (int i = 0; i < n; ++i) {
        troupe::send(root, i);
        troupe::send(root, "s" + std::to_string(i));
      }
    });
    (void)sender;
    // All strings first (while the sender may still be sending)...
    std::vector<std::string> strings;
    for (int i = 0; i < n; ++i) strings.push_back(recv<std::string>());
    // ...then the ints, which waited in the mailbox in their original order.
    std::vector<int> ints;
    for (int i = 0; i < n; ++i) ints.push_back(recv<int>());
    const bool empty = drain_ints_and_strings().empty();
    return std::make_tuple(strings, ints, empty);
  });
  const auto& [strings, ints, empty] = got;
  ASSERT_EQ(strings.size(), static_cast<std::size_t>(n));
  ASSERT_EQ(ints.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(strings[i], "s" + std::to_string(i));
    EXPECT_EQ(ints[i], i);
  }
  EXPECT_TRUE(empty);
}

TEST_P(ReceiveTest, TakingFromTheMiddleLeavesTheRestInOrder) {
  const auto rest = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send(me, 1);
    troupe::send(me, std::string("a"));
    troupe::send(me, 2);
    troupe::send(me, std::string("b"));
    troupe::send(me, 3);
    EXPECT_EQ(recv<std::string>(), "a");
    EXPECT_EQ(recv<std::string>(), "b");  // the last string: the tail of the skipped list moves
    troupe::send(me, std::string("c"));   // appended after the skipped ints
    troupe::send(me, 4);
    EXPECT_EQ(recv<int>(), 1);
    return drain_ints_and_strings();
  });
  using V = std::variant<int, std::string>;
  EXPECT_EQ(rest, (std::vector<V>{V(2), V(3), V(std::string("c")), V(4)}));
}

TEST_P(ReceiveTest, GuardsSelectMatchingMessagesOnly) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    for (int i = 1; i <= 10; ++i) troupe::send(me, i);
    const int first_even = troupe::receive(troupe::when([](int x) { return x % 2 == 0; }, [](int x) { return x; }));
    const int above_five = troupe::receive(troupe::when([](const int& x) { return x > 5; }, [](int&& x) { return x; }));
    // A guard that matches nothing times out and takes nothing.
    const int none = troupe::receive(troupe::when([](int x) { return x > 100; }, [](int x) { return x; }),
                                     troupe::after(10ms, [] { return -1; }));
    std::vector<int> rest;
    while (auto v = troupe::receive_for<int>(0ms)) rest.push_back(*v);
    return std::make_tuple(first_even, above_five, none, rest);
  });
  EXPECT_EQ(std::get<0>(got), 2);
  EXPECT_EQ(std::get<1>(got), 6);
  EXPECT_EQ(std::get<2>(got), -1);
  EXPECT_EQ(std::get<3>(got), (std::vector<int>{1, 3, 4, 5, 7, 8, 9, 10}));
}

TEST_P(ReceiveTest, GuardedMessageWaitsForALaterMatch) {
  const int got = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] {
      for (int i = 0; i < 50; ++i) {
        troupe::send(root, i);
        troupe::sleep_for(1ms);  // the receiver waits between non-matching messages
      }
      troupe::send(root, 1000);
    });
    return troupe::receive(troupe::when([](int x) { return x >= 1000; }, [](int x) { return x; }),
                           troupe::after(hang_timeout, [] { return -1; }));
  });
  EXPECT_EQ(got, 1000);
}

// The first message in the mailbox that any clause accepts wins, whatever the
// order of the clauses; for one message, clauses are tried in order.
TEST_P(ReceiveTest, MailboxOrderFirstThenClauseOrder) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send(me, std::string("first"));
    troupe::send(me, 7);
    const std::string a = troupe::receive([](int i) { return "int " + std::to_string(i); },
                                          [](std::string s) { return "string " + s; });
    troupe::send(me, 5);
    troupe::send(me, -5);
    auto pos_or_any = [] {
      return troupe::receive(troupe::when([](int x) { return x > 0; }, [](int) { return std::string("positive"); }),
                             [](int) { return std::string("any"); });
    };
    const std::string b = pos_or_any();  // 7: both clauses accept it, the first wins
    const std::string c = pos_or_any();  // 5
    const std::string d = pos_or_any();  // -5: only the second clause
    return std::vector<std::string>{a, b, c, d};
  });
  EXPECT_EQ(got, (std::vector<std::string>{"string first", "positive", "positive", "any"}));
}

TEST_P(ReceiveTest, HandlerResultIsReturned) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send(me, 20);
    troupe::send(me, std::string("abc"));
    const long a = troupe::receive([](int x) -> long { return x * 2L; }, [](std::string) -> long { return -1; });
    // Common type of the clauses: int and double give double.
    const auto b = troupe::receive([](int) { return 1; }, [](const std::string& s) { return s.size() + 0.5; });
    static_assert(std::is_same_v<decltype(b), const double>);
    // A void receive.
    troupe::send(me, 3);
    int seen = 0;
    troupe::receive([&](int x) { seen = x; });
    return std::make_tuple(a, b, seen);
  });
  EXPECT_EQ(std::get<0>(got), 40);
  EXPECT_DOUBLE_EQ(std::get<1>(got), 3.5);
  EXPECT_EQ(std::get<2>(got), 3);
}

TEST_P(ReceiveTest, HandlersMayTakeByValueConstRefLvalueRefOrRvalueRef) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    for (const char* s : {"v", "c", "l", "r"}) troupe::send(me, std::string(s));
    std::string out;
    troupe::receive([&](std::string s) { out += s; });
    troupe::receive([&](const std::string& s) { out += s; });
    troupe::receive([&](std::string& s) { out += s; });
    troupe::receive([&](std::string&& s) { out += std::move(s); });
    return out;
  });
  EXPECT_EQ(got, "vclr");
}

TEST_P(ReceiveTest, AfterFiresWhenNothingMatchesAndLeavesTheMailboxAlone) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send(me, std::string("x"));
    troupe::send(me, std::string("y"));
    const auto t0 = steady::now();
    const int r = troupe::receive([](int i) { return i; }, troupe::after(50ms, [] { return -1; }));
    const auto waited = steady::now() - t0;
    return std::make_tuple(r, waited, drain_ints_and_strings());
  });
  EXPECT_EQ(std::get<0>(got), -1);
  EXPECT_GE(std::get<1>(got), 50ms) << "the timeout fired early";
  using V = std::variant<int, std::string>;
  EXPECT_EQ(std::get<2>(got), (std::vector<V>{V(std::string("x")), V(std::string("y"))}));
}

TEST_P(ReceiveTest, ReceiveForTimesOutWithNulloptAndKeepsUnmatchedMessages) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    for (int i = 0; i < 5; ++i) troupe::send(me, std::string(1, static_cast<char>('a' + i)));
    const auto t0 = steady::now();
    const std::optional<int> r = troupe::receive_for<int>(50ms);
    const auto waited = steady::now() - t0;
    std::string rest;
    while (auto s = troupe::receive_for<std::string>(0ms)) rest += *s;
    return std::make_tuple(r.has_value(), waited, rest);
  });
  EXPECT_FALSE(std::get<0>(got));
  EXPECT_GE(std::get<1>(got), 50ms);
  EXPECT_EQ(std::get<2>(got), "abcde");
}

// Non-matching messages arriving during the wait neither end it nor extend it.
TEST_P(ReceiveTest, TimeoutExpiresWhileNonMatchingMessagesKeepArriving) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid chatter = troupe::spawn([root] {
      const auto until = steady::now() + hang_timeout;
      while (steady::now() < until) {
        troupe::send(root, std::string("noise"));
        troupe::sleep_for(2ms);
        if (!no_message_of<int>()) return;  // told to stop
      }
    });
    const auto t0 = steady::now();
    const std::optional<int> r = troupe::receive_for<int>(100ms);
    const auto waited = steady::now() - t0;
    troupe::send(chatter, 0);
    return std::make_pair(r.has_value(), waited);
  });
  EXPECT_FALSE(got.first);
  EXPECT_GE(got.second, 100ms);
  EXPECT_LT(got.second, hang_timeout) << "the timeout never fired while noise kept arriving";
}

TEST_P(ReceiveTest, MatchArrivingBeforeTheTimeoutWins) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] {
      troupe::sleep_for(20ms);
      troupe::send(root, 42);
    });
    return troupe::receive([](int i) { return i; }, troupe::after(hang_timeout, [] { return -1; }));
  });
  EXPECT_EQ(got, 42);
}

TEST_P(ReceiveTest, AfterZeroPollsWithoutWaiting) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    // Empty mailbox: the timeout clause at once.
    const int empty = troupe::receive([](int i) { return i; }, troupe::after(0ms, [] { return -1; }));
    // A match present: the match, not the timeout.
    troupe::send(me, 5);
    const int present = troupe::receive([](int i) { return i; }, troupe::after(0ms, [] { return -1; }));
    // Only non-matching messages: the timeout, and they stay.
    troupe::send(me, std::string("keep"));
    const int unmatched = troupe::receive([](int i) { return i; }, troupe::after(0ms, [] { return -1; }));
    const std::optional<int> none = troupe::receive_for<int>(0ms);
    const std::optional<int> negative = troupe::receive_for<int>(-5ms);
    return std::make_tuple(empty, present, unmatched, none.has_value(), negative.has_value(),
                           drain_ints_and_strings().size());
  });
  EXPECT_EQ(got, std::make_tuple(-1, 5, -1, false, false, std::size_t{1}));
}

TEST_P(ReceiveTest, OnlyAnAfterClauseWaitsAndReturnsItsResult) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), 1);  // no clause takes it
    const auto t0 = steady::now();
    const int r = troupe::receive(troupe::after(30ms, [] { return 9; }));
    return std::make_tuple(r, steady::now() - t0, recv<int>());
  });
  EXPECT_EQ(std::get<0>(got), 9);
  EXPECT_GE(std::get<1>(got), 30ms);
  EXPECT_EQ(std::get<2>(got), 1);
}

TEST_P(ReceiveTest, NestedReceiveInsideAHandler) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send(me, 1);
    troupe::send(me, std::string("outer"));
    troupe::send(me, 2);
    // The outer receive takes the string from the middle; the nested one
    // starts again from the head of the mailbox and takes 1.
    const std::string r = troupe::receive([](std::string s) { return s + ":" + std::to_string(recv<int>()); });
    const int next = recv<int>();
    const bool empty = drain_ints_and_strings().empty();
    return std::make_tuple(r, next, empty);
  });
  EXPECT_EQ(got, std::make_tuple(std::string("outer:1"), 2, true));
}

TEST_P(ReceiveTest, NestedReceiveWaitsForALaterMessage) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid helper = troupe::spawn([root] {
      recv<std::string>();  // "now"
      troupe::sleep_for(10ms);
      troupe::send(root, std::string("late"));
      troupe::send(root, 77);
    });
    troupe::send(root, std::string("start"));
    return troupe::receive([&](std::string s) {
      troupe::send(helper, std::string("now"));
      // Waits inside the handler, selectively: the string "late" is skipped.
      const int inner = troupe::receive([](int i) { return i; }, troupe::after(hang_timeout, [] { return -1; }));
      return s + ":" + std::to_string(inner) + ":" + recv<std::string>();
    });
  });
  EXPECT_EQ(got, "start:77:late");
}

TEST_P(ReceiveTest, ExceptionInAHandlerFreesItsMessageAndKeepsTheRest) {
  const auto got = rt().run([] {
    const troupe::pid me = troupe::self();
    troupe::send(me, tracked(1));
    troupe::send(me, tracked(2));
    bool threw = false;
    try {
      troupe::receive([](tracked t) {
        if (t.value == 1) throw std::runtime_error("handler failed");
      });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    const long live_after_throw = tracked::live.load();
    const int next = recv<tracked>().value;
    return std::make_tuple(threw, live_after_throw, next);
  });
  EXPECT_TRUE(std::get<0>(got));
  EXPECT_EQ(std::get<1>(got), tracked_base() + 1);  // only tracked(2) left
  EXPECT_EQ(std::get<2>(got), 2);
}

TEST_P(ReceiveTest, ManyProcessesTimeOutIndependently) {
  constexpr int n = 1'000;
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int i = 0; i < n; ++i) {
      troupe::spawn([root, i] {
        const auto timeout = std::chrono::milliseconds(1 + i % 40);
        const auto t0 = steady::now();
        const bool timed_out = !troupe::receive_for<int>(timeout).has_value();
        const bool not_early = steady::now() - t0 >= timeout;
        troupe::send(root, std::make_pair(timed_out, not_early));
      });
    }
    int timed_out = 0, not_early = 0;
    for (int i = 0; i < n; ++i) {
      auto [t, e] = recv<std::pair<bool, bool>>();
      timed_out += t;
      not_early += e;
    }
    return std::make_pair(timed_out, not_early);
  });
  EXPECT_EQ(got.first, n);
  EXPECT_EQ(got.second, n);
}

TEST_P(ReceiveTest, ReceiveOutsideAProcessThrowsLogicError) {
  rt();
  EXPECT_THROW(troupe::receive<int>(), std::logic_error);
  EXPECT_THROW((void)troupe::receive_for<int>(10ms), std::logic_error);
  EXPECT_THROW(troupe::receive([](int) {}, troupe::after(0ms, [] {})), std::logic_error);
}

}  // namespace
