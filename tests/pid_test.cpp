// Process identifiers: formatting, the null pid, self(), and stale pids.

#include <fmt/format.h>

#include <functional>
#include <regex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

// ---------------------------------------------------------------- value type

TEST(Pid, FormatsErlangStyle) {
  EXPECT_EQ(fmt::format("{}", troupe::pid(42, 1)), "<0.42.1>");
  EXPECT_EQ(fmt::format("{}", troupe::pid(7, 123456)), "<0.7.123456>");
  // The generation's top 8 bits are the runtime's creation: only the serial prints.
  EXPECT_EQ(fmt::format("{}", troupe::pid(4294967295u, 4294967295u)), "<0.4294967295.16777215>");
  EXPECT_EQ(fmt::format("[{}]", troupe::pid(3, 9)), "[<0.3.9>]");
}

// The formatter accepts the string format specs (it inherits their parser), so
// it must apply them too.
TEST(Pid, FormatSpecsApply) {
  EXPECT_EQ(fmt::format("{:>9}", troupe::pid(1, 1)), "  <0.1.1>");
  EXPECT_EQ(fmt::format("{:<9}|", troupe::pid(1, 1)), "<0.1.1>  |");
  EXPECT_EQ(fmt::format("{:*^11}", troupe::pid(1, 1)), "**<0.1.1>**");
}

TEST(Pid, NullPid) {
  constexpr troupe::pid null;
  static_assert(!null);
  EXPECT_FALSE(static_cast<bool>(null));
  EXPECT_EQ(null.index(), 0u);
  EXPECT_EQ(null.generation(), 0u);
  EXPECT_EQ(null, troupe::pid(0, 0));
  EXPECT_EQ(fmt::format("{}", null), "<0.0.0>");
  // Only the generation makes a pid non-null.
  EXPECT_TRUE(static_cast<bool>(troupe::pid(0, 1)));
  EXPECT_FALSE(static_cast<bool>(troupe::pid(5, 0)));
}

TEST(Pid, BitsRoundTripAndComparisons) {
  const troupe::pid a(17, 3);
  EXPECT_EQ(a.bits(), (std::uint64_t{3} << 32) | 17u);
  EXPECT_EQ(troupe::pid::from_bits(a.bits()), a);
  EXPECT_EQ(troupe::pid::from_bits(0), troupe::pid{});

  EXPECT_NE(troupe::pid(1, 1), troupe::pid(1, 2));  // same slot, other incarnation
  EXPECT_NE(troupe::pid(1, 1), troupe::pid(2, 1));
  EXPECT_LT(troupe::pid(5, 1), troupe::pid(4, 2));  // ordered by bits(): generation first
  EXPECT_LT(troupe::pid(4, 1), troupe::pid(5, 1));

  std::unordered_set<troupe::pid> set{troupe::pid(1, 1), troupe::pid(1, 2), troupe::pid(1, 1)};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(std::hash<troupe::pid>{}(troupe::pid(9, 9)), std::hash<troupe::pid>{}(troupe::pid(9, 9)));
}

// ---------------------------------------------------------------- in a runtime

class PidTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(PidTest);

TEST_P(PidTest, SelfOutsideAProcessIsNull) {
  rt();  // a runtime exists, but this thread is not a process
  EXPECT_FALSE(troupe::in_process());
  EXPECT_EQ(troupe::self(), troupe::pid{});
}

TEST_P(PidTest, SelfInsideEqualsThePidSpawnReturned) {
  struct seen {
    troupe::pid spawned, child_self, root_self;
    bool child_in_process = false;
  };
  const seen s = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid child = troupe::spawn([root] {
      troupe::send(root, std::make_pair(troupe::self(), troupe::in_process()));
    });
    auto [child_self, in_proc] = recv<std::pair<troupe::pid, bool>>();
    return seen{child, child_self, root, in_proc};
  });
  EXPECT_TRUE(static_cast<bool>(s.spawned));
  EXPECT_EQ(s.child_self, s.spawned);
  EXPECT_TRUE(s.child_in_process);
  EXPECT_TRUE(static_cast<bool>(s.root_self));
  EXPECT_NE(s.root_self, s.spawned);
  EXPECT_NE(s.root_self.index(), 0u);  // index 0 is never a process's
  EXPECT_NE(s.root_self.generation(), 0u);
  const std::string text = fmt::format("{}", s.spawned);
  EXPECT_TRUE(std::regex_match(text, std::regex(R"(<0\.[1-9][0-9]*\.[1-9][0-9]*>)"))) << text;
  EXPECT_EQ(text, fmt::format("<0.{}.{}>", s.spawned.index(), s.spawned.serial()));
}

TEST_P(PidTest, LiveProcessesHaveDistinctPids) {
  constexpr int n = live_processes(2000);
  const auto pids = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> v;
    for (int i = 0; i < n; ++i) {
      v.push_back(troupe::spawn([root] {
        troupe::send(root, troupe::self());
        recv<int>();  // stay alive until released
      }));
    }
    std::set<troupe::pid> reported;
    for (int i = 0; i < n; ++i) reported.insert(recv<troupe::pid>());
    for (troupe::pid p : v) troupe::send(p, 0);
    return std::make_pair(v, reported);
  });
  const std::set<troupe::pid> spawned(pids.first.begin(), pids.first.end());
  EXPECT_EQ(spawned.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(pids.second, spawned);
  std::set<std::uint32_t> indices;
  for (troupe::pid p : spawned) indices.insert(p.index());
  EXPECT_EQ(indices.size(), static_cast<std::size_t>(n)) << "two live processes share a slot";
}

// A process exits; a new process takes its slot (same index, new generation).
// Messages sent to the old pid afterwards, and messages left unread in the old
// process's mailbox, must not reach the new process.
TEST_P(PidTest, StalePidDoesNotReachNewProcessInReusedSlot) {
  struct outcome {
    troupe::pid old_pid, new_pid;
    int tries = 0;
    bool found = false;
    bool got_stale = false;
  };
  const outcome out = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] {
      troupe::yield();  // resume with a whole slice: no preemption before the exit below
      const troupe::pid old = troupe::self();
      // Left unread in this mailbox when this process exits.
      troupe::send(old, 111);
      troupe::send(old, 222);
      // The successor is queued to run here right after this process exits,
      // so the freed slot is the first one it gets.
      troupe::spawn([root, old] {
        outcome o;
        o.old_pid = old;
        std::vector<troupe::pid> others;
        // A candidate reports whether the first message it gets is an int
        // (something meant for the old process) or the string probe.
        auto candidate = [root] {
          const bool stale = troupe::receive([](int) { return true; }, [](std::string) { return false; });
          troupe::send(root, std::make_pair(troupe::self(), stale));
        };
        for (o.tries = 1; o.tries <= 1000; ++o.tries) {
          const troupe::pid c = troupe::spawn(candidate);
          if (c.index() == old.index()) {
            o.found = true;
            o.new_pid = c;
            break;
          }
          others.push_back(c);  // kept alive so the next spawn takes another slot
        }
        if (o.found) {
          troupe::send(old, 333);  // to the stale pid: must be dropped
          troupe::send(o.new_pid, std::string("probe"));
        }
        for (troupe::pid p : others) troupe::send(p, std::string("bye"));
        troupe::send(root, o);
      });
    });
    outcome o = recv<outcome>();
    if (o.found) {
      // The reused slot's process answers about its first message.
      for (;;) {
        auto [who, stale] = recv<std::pair<troupe::pid, bool>>();
        if (who == o.new_pid) {
          o.got_stale = stale;
          break;
        }
      }
    }
    return o;
  });
  ASSERT_TRUE(out.found) << "no slot reuse within " << out.tries - 1 << " spawns";
  EXPECT_EQ(out.new_pid.index(), out.old_pid.index());
  EXPECT_NE(out.new_pid.generation(), out.old_pid.generation());
  EXPECT_NE(out.new_pid, out.old_pid);
  EXPECT_FALSE(out.got_stale) << "a message for " << fmt::format("{}", out.old_pid) << " reached "
                              << fmt::format("{}", out.new_pid);
}

TEST_P(PidTest, SendingToNullOrUnknownPidIsANoOpThatFreesTheMessage) {
  rt();
  troupe::send(troupe::pid{}, tracked(1));
  troupe::send(troupe::pid(123456, 1), tracked(2));  // index never used
  troupe::send(troupe::pid(4294967295u, 7), tracked(3));
  EXPECT_EQ(tracked::live.load(), tracked_base());
  // The same from inside a process.
  const long during = rt().run([] {
    troupe::send(troupe::pid{}, tracked(4));
    troupe::send(troupe::pid(4000000, 1), tracked(5));
    return tracked::live.load();
  });
  EXPECT_EQ(during, tracked_base());
}

TEST_P(PidTest, SendingToAnExitedProcessFreesTheMessage) {
  const troupe::pid gone = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] { troupe::send(root, troupe::self()); });
    return recv<troupe::pid>();
  });
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  troupe::send(gone, tracked(7));  // from a plain thread
  EXPECT_EQ(tracked::live.load(), tracked_base());
  const long during = rt().run([gone] {
    troupe::send(gone, tracked(8));  // from a process
    return tracked::live.load();
  });
  EXPECT_EQ(during, tracked_base());
}

}  // namespace
