// The run-next slot's handshake (src/core/runnext_slot.hpp): an owner that
// fills and empties the slot with plain stores, and a thief that takes from
// it at the same time, never both get the same process, and nothing put in
// is lost.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "../src/core/runnext_slot.hpp"

namespace {

using troupe::detail::process;
using troupe::detail::runnext_slot;

TEST(RunnextSlotTest, OwnerAndThiefNeverTakeTheSameProcess) {
  if (!troupe::detail::heavy_fence_available()) GTEST_SKIP() << "no expedited membarrier: the slot is never stolen from";
  constexpr int items = 1'000'000;
  // Fake processes: only their addresses are used.
  std::vector<char> storage(items + 1);
  auto item = [&](int i) { return reinterpret_cast<process*>(&storage[static_cast<std::size_t>(i) + 1]); };
  std::vector<std::atomic<int>> taken(items);
  runnext_slot slot;
  std::atomic<bool> done{false};
  std::atomic<int> stolen{0};

  std::atomic<bool> thief_started{false};
  std::thread thief([&] {
    thief_started.store(true);
    while (!done.load(std::memory_order_acquire)) {
      if (process* p = slot.steal()) {
        taken[static_cast<std::size_t>(reinterpret_cast<char*>(p) - &storage[1])].fetch_add(1);
        stolen.fetch_add(1);
      }
    }
  });
  auto owner_took = [&](process* p) {
    if (p) taken[static_cast<std::size_t>(reinterpret_cast<char*>(p) - &storage[1])].fetch_add(1);
  };
  while (!thief_started.load()) std::this_thread::yield();
  // Until the thief has been in often enough to have raced the owner.
  int n = 0;
  for (; n < items && (n < 1000 || stolen.load(std::memory_order_relaxed) < 5000); ++n) {
    const int i = n;
    owner_took(slot.exchange(item(i)));  // a wake displaces what was there
    if (i % 3 == 0) owner_took(slot.take());  // the loop runs it
    // On a loaded machine the thief may share one core with the owner: let
    // it run now and then.
    if (i % 1024 == 0) std::this_thread::yield();
  }
  owner_took(slot.take());
  done.store(true, std::memory_order_release);
  thief.join();
  owner_took(slot.take());

  int missing = 0, twice = 0;
  for (int i = 0; i < n; ++i) {
    missing += taken[static_cast<std::size_t>(i)].load() == 0;
    twice += taken[static_cast<std::size_t>(i)].load() > 1;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(twice, 0);
  EXPECT_GT(stolen.load(), 0) << "the thief never got in: the test did not test the race";
}

TEST(RunnextSlotTest, TakeOfAnEmptySlotIsEmpty) {
  runnext_slot slot;
  EXPECT_EQ(slot.take(), nullptr);
  EXPECT_EQ(slot.steal(), nullptr);
}

}  // namespace
