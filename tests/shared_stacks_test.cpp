// Shared stacks: processes started past runtime_options::dedicated_stacks take
// turns on a few stacks, their live frames copied out to the heap and back.

#include <algorithm>
#include <array>
#include <numeric>
#include <random>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class SharedStacksTest : public RuntimeTest {
 protected:
  troupe::runtime& start_sharing(std::size_t dedicated, std::size_t shared) {
    troupe::runtime_options o = default_options();
    o.dedicated_stacks = dedicated;
    o.shared_stacks = shared;
    return start(o);
  }
};
TROUPE_INSTANTIATE_SCHEDULERS(SharedStacksTest);

struct up {};
struct go {};

TEST_P(SharedStacksTest, ProcessesPastTheBudgetShareAStack) {
  start_sharing(4, 2);
  const auto shares = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> kids;
    for (int i = 0; i < 24; ++i) {
      // One at a time, each up before the next: the budget is counted exactly.
      kids.push_back(troupe::spawn([root] {
        troupe::send(root, up{});
        recv<go>();
      }));
      recv<up>();
    }
    std::vector<bool> v;
    for (troupe::pid k : kids) v.push_back(troupe::process_info(k).value().shares_stack);
    for (troupe::pid k : kids) troupe::send(k, go{});
    return v;
  });
  // This process and the first kids fill the budget of 4.
  EXPECT_FALSE(shares.front()) << "the first process past the caller got no stack of its own";
  EXPECT_EQ(std::count(shares.begin(), shares.end(), false), 3);
  for (std::size_t i = 3; i < shares.size(); ++i) EXPECT_TRUE(shares[i]) << "process " << i;
}

// Frames of different depths, with pointers into themselves, survive being
// copied out and back many times, in random wake-up orders.
__attribute__((noinline)) std::uint64_t hold_frames(int depth, int id, int rounds, troupe::pid root) {
  std::array<std::uint64_t, 32> local{};
  std::iota(local.begin(), local.end(), std::uint64_t(id) * 1000 + depth);
  std::uint64_t* self_ref = local.data();  // a pointer into this very frame
  std::uint64_t sum = 0;
  if (depth > 0) {
    sum = hold_frames(depth - 1, id, rounds, root);
  } else {
    for (int r = 0; r < rounds; ++r) {
      const int token = recv<int>();
      troupe::send(root, std::make_pair(id, token + id));
    }
  }
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (self_ref[i] != std::uint64_t(id) * 1000 + depth + i) return ~std::uint64_t{0};
    sum += self_ref[i];
  }
  return sum;
}

std::uint64_t expected_sum(int depth, int id) {
  std::uint64_t sum = 0;
  for (int d = 0; d <= depth; ++d) {
    for (std::uint64_t i = 0; i < 32; ++i) sum += std::uint64_t(id) * 1000 + d + i;
  }
  return sum;
}

TEST_P(SharedStacksTest, FramesSurviveBeingCopiedOutAndBack) {
  start_sharing(0, 3);
  constexpr int n = 60;
  constexpr int rounds = 25;
  const auto result = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> kids;
    for (int id = 0; id < n; ++id) {
      kids.push_back(troupe::spawn([root, id] {
        troupe::send(root, std::make_pair(-1 - id, hold_frames(id % 9, id, rounds, root)));
      }));
    }
    std::mt19937 rng(7);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    long bad_replies = 0;
    for (int r = 0; r < rounds; ++r) {
      std::shuffle(order.begin(), order.end(), rng);
      for (int id : order) troupe::send(kids[id], r);
      for (int k = 0; k < n; ++k) {
        const auto [id, v] = recv<std::pair<int, int>>();
        if (v != r + id) ++bad_replies;
      }
    }
    std::vector<std::uint64_t> sums(n);
    for (int k = 0; k < n; ++k) {
      const auto [tag, sum] = recv<std::pair<int, std::uint64_t>>();
      sums.at(-1 - tag) = sum;
    }
    return std::make_pair(bad_replies, sums);
  });
  EXPECT_EQ(result.first, 0);
  for (int id = 0; id < n; ++id) EXPECT_EQ(result.second[id], expected_sum(id % 9, id)) << "process " << id;
}

// More sharers runnable at once than stacks: they queue for their stack, and
// every one of them runs to the end with its frames intact.
TEST_P(SharedStacksTest, SharersRunnableAtOnceTakeTurns) {
  start_sharing(0, 2);
  constexpr int n = 40;
  constexpr int steps = 300;
  const auto sums = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int id = 0; id < n; ++id) {
      troupe::spawn([root, id] {
        std::array<int, 16> mine{};
        for (int s = 0; s < steps; ++s) {
          for (int& x : mine) x += id;
          troupe::yield();
        }
        troupe::send(root, std::make_pair(id, std::accumulate(mine.begin(), mine.end(), 0)));
      });
    }
    std::vector<int> v(n, -1);
    for (int k = 0; k < n; ++k) {
      const auto [id, sum] = recv<std::pair<int, int>>();
      v.at(id) = sum;
    }
    return v;
  });
  for (int id = 0; id < n; ++id) EXPECT_EQ(sums[id], 16 * steps * id) << "process " << id;
}

// A sharer that throws from deep frames after being copied out and back is
// the only one to end; the others go on.
TEST_P(SharedStacksTest, AnExceptionOnASharedStackEndsOnlyItsProcess) {
  start_sharing(0, 2);
  const auto outcome = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::monitor_ref> refs;
    std::vector<troupe::pid> kids;
    for (int id = 0; id < 10; ++id) {
      auto [pid, ref] = troupe::spawn_monitor([root, id] {
        const int token = recv<int>();
        if (id == 3) throw std::runtime_error("boom on a shared stack");
        troupe::send(root, token + id);
      });
      kids.push_back(pid);
      refs.push_back(ref);
    }
    for (troupe::pid k : kids) troupe::send(k, 100);
    int replies = 0;
    for (int k = 0; k < 9; ++k) replies += recv<int>() >= 100 ? 1 : 0;
    return std::make_pair(replies, recv_down(refs[3]).reason);
  });
  EXPECT_EQ(outcome.first, 9);
  EXPECT_NE(fmt::format("{}", outcome.second).find("boom on a shared stack"), std::string::npos)
      << fmt::format("{}", outcome.second);
}

// A sharer that swallows its kill is abandoned: its stack is scrubbed and
// given back only once it is finished with. Given back first, another sharer
// took the stack and the scrub wiped that one's frames (and its own frames
// were saved after its slot was recycled: a leak, or garbage restored into
// the slot's next process).
__attribute__((noinline)) bool frames_stay_intact(int id, int rounds) {
  std::array<std::uint64_t, 64> local{};
  std::iota(local.begin(), local.end(), std::uint64_t(id) * 7919 + 1);
  const std::uint64_t expected = std::accumulate(local.begin(), local.end(), std::uint64_t{0});
  for (int r = 0; r < rounds; ++r) {
    troupe::yield();
    if (std::accumulate(local.begin(), local.end(), std::uint64_t{0}) != expected) return false;
  }
  return true;
}

TEST_P(SharedStacksTest, AnAbandonedSharerKeepsItsStackUntilItIsScrubbed) {
  log_capture quiet;  // "ended without running its remaining destructors"
  start_sharing(2, 1);
  const auto outcome = rt().run([] {
    const troupe::pid root = troupe::self();
    constexpr int workers = 8, swallowers = 16;
    for (int i = 0; i < workers; ++i)
      troupe::spawn([root, i] { troupe::send(root, frames_stay_intact(i, 3000)); });
    std::vector<std::pair<troupe::pid, troupe::monitor_ref>> doomed;
    for (int i = 0; i < swallowers; ++i) {
      doomed.push_back(troupe::spawn_monitor([root] {
        troupe::send(root, up{});
        for (;;) {
          try {
            troupe::receive([](go) {});
          } catch (...) {
          }
        }
      }));
    }
    for (int i = 0; i < swallowers; ++i) recv<up>();
    for (auto& [p, ref] : doomed) troupe::exit(p, troupe::exit_reason::kill());
    int killed = 0;
    for (auto& [p, ref] : doomed) killed += recv_down(ref).reason == troupe::exit_reason::killed();
    int intact = 0;
    for (int i = 0; i < workers; ++i) intact += recv<bool>();
    return std::make_pair(killed, intact);
  });
  EXPECT_EQ(outcome.first, 16);
  EXPECT_EQ(outcome.second, 8) << "a worker's frames changed under it";
}

}  // namespace
