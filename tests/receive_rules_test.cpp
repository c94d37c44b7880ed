// The receive clause rules that compile: function names as handlers, const
// clauses, and the catch-all (any_message): what it takes, in which order
// against other clauses, guards on it, exit and down messages as ordinary
// messages. (What must not compile is in tests/compile_fail/.)

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class ReceiveRulesTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(ReceiveRulesTest);
class AnyMessageTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(AnyMessageTest);

struct unexpected {
  int n;
};

int twice(int n) { return 2 * n; }
int length_of(const std::string& s) { return static_cast<int>(s.size()); }

TEST_P(ReceiveRulesTest, FunctionNamesAreHandlers) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), std::string("four"));
    troupe::send(troupe::self(), 21);
    const int a = troupe::receive(twice, length_of);
    const int b = troupe::receive(twice, length_of);
    return std::make_pair(a, b);
  });
  EXPECT_EQ(got, std::make_pair(4, 42));
}

TEST_P(ReceiveRulesTest, ConstClausesWork) {
  const int got = rt().run([] {
    const auto positive = troupe::when([](int i) { return i > 0; }, [](int i) { return i; });
    const auto soon = troupe::after(0ms, [] { return -1; });
    troupe::send(troupe::self(), -5);
    troupe::send(troupe::self(), 5);
    const int first = troupe::receive(positive, soon);
    const int second = troupe::receive(positive, soon);  // -5 does not pass the guard
    EXPECT_EQ(second, -1);
    EXPECT_EQ(recv<int>(), -5);
    return first;
  });
  EXPECT_EQ(got, 5);
}

// A process that logs and drops what it does not expect, as `Other -> ...`.
TEST_P(AnyMessageTest, UnexpectedMessageIsTakenAndDropped) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), unexpected{7});
    std::string name;
    bool is_unexpected = false;
    int n = 0;
    troupe::receive([](int) {}, [&](troupe::any_message& m) {
      name = m.type_name();
      is_unexpected = m.is<unexpected>() && !m.is<int>();
      n = m.get<unexpected>().n;
    });
    return std::make_tuple(name, is_unexpected, n, no_message_of<unexpected>());
  });
  const auto& [name, is_unexpected, n, gone] = got;
  EXPECT_EQ(name, "(anonymous namespace)::unexpected");
  EXPECT_TRUE(is_unexpected);
  EXPECT_EQ(n, 7);
  EXPECT_TRUE(gone) << "the catch-all took the message out of the mailbox";
}

TEST_P(AnyMessageTest, DescribesFormattableValuesOnly) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), 42);
    troupe::send(troupe::self(), unexpected{1});
    auto describe = [] { return troupe::receive([](const troupe::any_message& m) { return m.describe(); }); };
    const std::string a = describe();
    const std::string b = describe();
    return std::make_pair(a, b);
  });
  EXPECT_EQ(got.first, "42");
  EXPECT_EQ(got.second, "") << "unexpected has no formatter";
}

TEST_P(AnyMessageTest, AccessByType) {
  rt().run([] {
    troupe::send(troupe::self(), std::string("moved out"));
    const std::string kept = troupe::receive([](troupe::any_message& m) {
      EXPECT_EQ(m.as<int>(), nullptr);
      EXPECT_NE(m.as<const std::string>(), nullptr);
      EXPECT_TRUE(m.type() == typeid(std::string));
      EXPECT_THROW((void)m.get<int>(), troupe::bad_message_access);
      return std::move(m.get<std::string>());
    });
    EXPECT_EQ(kept, "moved out");
  });
}

TEST_P(AnyMessageTest, BadAccessNamesBothTypes) {
  const std::string what = rt().run([] {
    troupe::send(troupe::self(), 1.5);
    return troupe::receive([](const troupe::any_message& m) -> std::string {
      try {
        (void)m.get<std::vector<int>>();
      } catch (const std::bad_cast& e) {
        return e.what();
      }
      return "no exception";
    });
  });
  EXPECT_NE(what.find("is a double, not a std::vector<int"), std::string::npos) << what;
}

// Clauses are tried in order for each message: a catch-all placed last gets
// a message only when no earlier clause accepts it.
TEST_P(AnyMessageTest, EarlierMatchingClauseWinsOverTheCatchAll) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), 1);
    troupe::send(troupe::self(), std::string("a"));
    std::vector<std::string> seen;
    for (int i = 0; i < 2; ++i) {
      troupe::receive([&](int n) { seen.push_back("int " + std::to_string(n)); },
                      [&](const troupe::any_message& m) { seen.push_back("other " + m.describe()); });
    }
    return seen;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"int 1", "other a"}));
}

// Like Erlang's `Other`, the catch-all accepts every message, so the oldest
// message goes first whatever clause takes it: an unexpected one ahead of an
// expected one is taken by the catch-all, not skipped.
TEST_P(AnyMessageTest, TheOldestMessageGoesFirst) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), std::string("early"));
    troupe::send(troupe::self(), 2);
    std::vector<std::string> seen;
    for (int i = 0; i < 2; ++i) {
      troupe::receive([&](int n) { seen.push_back("int " + std::to_string(n)); },
                      [&](const troupe::any_message& m) { seen.push_back("other " + m.describe()); });
    }
    return seen;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"other early", "int 2"}));
}

// A catch-all first would take everything: later clauses never see a message.
TEST_P(AnyMessageTest, ACatchAllFirstShadowsLaterClauses) {
  const int ints = rt().run([] {
    troupe::send(troupe::self(), 3);
    int seen_as_int = 0;
    troupe::receive([](const troupe::any_message&) {}, [&](int) { ++seen_as_int; });
    return seen_as_int;
  });
  EXPECT_EQ(ints, 0);
}

TEST_P(AnyMessageTest, GuardedCatchAll) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), 1.0);
    troupe::send(troupe::self(), unexpected{2});
    troupe::send(troupe::self(), 3.0);
    // Takes only messages that are not doubles, so both doubles stay.
    const int n = troupe::receive(
        troupe::when([](const troupe::any_message& m) { return !m.is<double>(); },
                     [](troupe::any_message& m) { return m.get<unexpected>().n; }),
        troupe::after(0ms, [] { return -1; }));
    const int none_left = troupe::receive(
        troupe::when([](const troupe::any_message& m) { return !m.is<double>(); },
                     [](troupe::any_message&) { return 1; }),
        troupe::after(0ms, [] { return 0; }));
    return std::make_tuple(n, none_left, drain<double>());
  });
  const auto& [n, none_left, doubles] = got;
  EXPECT_EQ(n, 2);
  EXPECT_EQ(none_left, 0);
  EXPECT_EQ(doubles, (std::vector<double>{1.0, 3.0}));
}

// A catch-all's message is freed like any other: when the handler returns,
// and when it throws.
TEST_P(AnyMessageTest, TheMessageIsFreedAfterTheHandler) {
  rt().run([] {
    troupe::send(troupe::self(), tracked(1));
    troupe::send(troupe::self(), tracked(2));
    troupe::receive([](const troupe::any_message& m) { EXPECT_EQ(m.get<tracked>().value, 1); });
    EXPECT_THROW(troupe::receive([](const troupe::any_message&) { throw std::runtime_error("handler failed"); }),
                 std::runtime_error);
  });
  // TearDown checks that no tracked message is left.
}

// For a process that traps exits, exit_message and down_message are
// ordinary messages, and the catch-all sees them as such.
TEST_P(AnyMessageTest, SeesExitAndDownMessages) {
  log_capture logs;  // the linked child's crash report
  const auto got = rt().run([] {
    troupe::trap_exit(true);
    const troupe::pid linked = troupe::spawn_link([] { throw std::runtime_error("linked child failed"); });
    auto [watched, ref] = troupe::spawn_monitor([] {});
    std::vector<std::string> types;
    bool exit_ok = false;
    bool down_ok = false;
    while (types.size() < 2) {
      troupe::receive([&](troupe::any_message& m) {
        types.push_back(m.type_name());
        if (auto* e = m.as<troupe::exit_message>()) exit_ok = e->from == linked && m.describe().starts_with("{'EXIT',");
        if (auto* d = m.as<troupe::down_message>()) down_ok = d->ref == ref && d->who == watched;
      });
    }
    troupe::trap_exit(false);
    return std::make_tuple(types, exit_ok, down_ok);
  });
  const auto& [types, exit_ok, down_ok] = got;
  EXPECT_EQ(std::count(types.begin(), types.end(), "troupe::exit_message"), 1) << ::testing::PrintToString(types);
  EXPECT_EQ(std::count(types.begin(), types.end(), "troupe::down_message"), 1) << ::testing::PrintToString(types);
  EXPECT_TRUE(exit_ok);
  EXPECT_TRUE(down_ok);
}

}  // namespace
