// The per-process heap: troupe::heap() and troupe::heap_bytes().

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory_resource>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class HeapTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(HeapTest);

TEST_P(HeapTest, AllocationsAreCountedAndDeallocationsUncounted) {
  const auto got = rt().run([] {
    std::vector<std::size_t> b;
    b.push_back(troupe::heap_bytes());
    std::pmr::memory_resource* h = troupe::heap();
    void* p1 = h->allocate(1000);
    b.push_back(troupe::heap_bytes());
    void* p2 = h->allocate(24, 64);
    b.push_back(troupe::heap_bytes());
    std::memset(p1, 0xab, 1000);
    std::memset(p2, 0xcd, 24);
    const bool aligned = reinterpret_cast<std::uintptr_t>(p2) % 64 == 0;
    h->deallocate(p1, 1000);
    b.push_back(troupe::heap_bytes());
    h->deallocate(p2, 24, 64);
    b.push_back(troupe::heap_bytes());
    return std::make_pair(b, aligned);
  });
  EXPECT_EQ(got.first, (std::vector<std::size_t>{0, 1000, 1024, 24, 0}));
  EXPECT_TRUE(got.second) << "alignment not honoured";
}

TEST_P(HeapTest, OneHeapPerProcess) {
  const auto got = rt().run([] {
    const troupe::pid root = troupe::self();
    std::pmr::memory_resource* mine = troupe::heap();
    const bool stable = troupe::heap() == mine;
    void* p = mine->allocate(4096);
    troupe::spawn([root] {
      // A new process starts with an empty heap of its own.
      const std::size_t before = troupe::heap_bytes();
      troupe::heap()->deallocate(troupe::heap()->allocate(100), 100);
      troupe::send(root, std::make_pair(reinterpret_cast<std::uintptr_t>(troupe::heap()), before));
    });
    const auto [other, other_before] = recv<std::pair<std::uintptr_t, std::size_t>>();
    const std::size_t mine_after = troupe::heap_bytes();
    mine->deallocate(p, 4096);
    return std::make_tuple(stable, other != reinterpret_cast<std::uintptr_t>(mine), other_before, mine_after);
  });
  EXPECT_TRUE(std::get<0>(got)) << "heap() changed within one process";
  EXPECT_TRUE(std::get<1>(got)) << "two processes share a heap";
  EXPECT_EQ(std::get<2>(got), 0u);
  EXPECT_EQ(std::get<3>(got), 4096u) << "another process's allocations were counted here";
}

TEST_P(HeapTest, PmrContainersUseTheHeap) {
  const auto got = rt().run([] {
    std::size_t peak = 0;
    std::string joined;
    {
      std::pmr::vector<std::pmr::string> v(troupe::heap());
      for (int i = 0; i < 1000; ++i) v.emplace_back("a fairly long string, not in the small buffer #" + std::to_string(i));
      peak = troupe::heap_bytes();
      joined = std::string(v[0]) + "|" + std::string(v[999]);
    }
    return std::make_tuple(peak, joined, troupe::heap_bytes());
  });
  EXPECT_GE(std::get<0>(got), 1000u * 48) << "vector and strings allocate from the process heap";
  EXPECT_EQ(std::get<1>(got),
            "a fairly long string, not in the small buffer #0|a fairly long string, not in the small buffer #999");
  EXPECT_EQ(std::get<2>(got), 0u);
}

TEST_P(HeapTest, HeapDataSurvivesYieldsAndMovesBetweenSchedulers) {
  constexpr int n = 20;
  const int ok = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int k = 0; k < n; ++k) {
      troupe::spawn([root, k] {
        std::pmr::vector<int> v(troupe::heap());
        for (int i = 0; i < 10'000; ++i) v.push_back(i * k);
        const std::size_t bytes = troupe::heap_bytes();
        for (int i = 0; i < 200; ++i) {
          troupe::yield();
          if (i % 50 == 0) troupe::sleep_for(1ms);
        }
        bool good = troupe::heap_bytes() == bytes;
        for (int i = 0; i < 10'000; ++i) good = good && v[i] == i * k;
        troupe::send(root, good);
      });
    }
    int good = 0;
    for (int k = 0; k < n; ++k) good += recv<bool>();
    return good;
  });
  EXPECT_EQ(ok, n);
}

TEST_P(HeapTest, OutsideAProcessItIsTheDefaultResource) {
  rt();
  EXPECT_EQ(troupe::heap(), std::pmr::new_delete_resource());
  EXPECT_EQ(troupe::heap_bytes(), 0u);
}

// Under AddressSanitizer the heap's blocks come from the C allocator, whose
// quarantine keeps up to 256 MiB of freed memory resident: resident memory
// then says little, and LeakSanitizer checks for leaks at exit instead.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool rss_meaningful = false;
#else
constexpr bool rss_meaningful = true;
#endif

std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

// Processes allocate from their heaps, touch the memory, and exit without
// freeing it (normally, by an exception, or unwound at shutdown). If the
// heap were not freed, resident memory would grow by all of it.
TEST_P(HeapTest, HeapIsFreedWhenTheProcessExits) {
  constexpr int rounds = 64;
  constexpr std::size_t block = 16u << 20;  // 64 x 16 MiB = 1 GiB if leaked
  log_capture quiet;                        // the crashing rounds are reported
  troupe::runtime* const r = &rt();
  const std::size_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  const int done = r->run([r] {
    const troupe::pid root = troupe::self();
    int ok = 0;
    for (int i = 0; i < rounds; ++i) {
      troupe::spawn([root, i] {
        auto* p = static_cast<char*>(troupe::heap()->allocate(block));
        for (std::size_t off = 0; off < block; off += 4096) p[off] = 1;  // commit every page
        const bool counted = troupe::heap_bytes() >= block;
        troupe::send(root, counted);
        if (i % 4 == 3) throw std::runtime_error("exit by exception");
        // else: exit normally, without deallocating
      });
      ok += recv<bool>();
      // Let it finish exiting before the next one allocates.
      process_wait_until([r] { return r->process_count() == 1; });
    }
    return ok;
  });
  EXPECT_EQ(done, rounds);
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  const std::size_t after = resident_bytes();
  const std::size_t growth = after > before ? after - before : 0;
  if (rss_meaningful) {
    EXPECT_LT(growth, rounds * block / 2) << "resident memory grew by " << (growth >> 20) << " MiB";
  }
}

// Processes blocked while holding heap memory are unwound at shutdown; their
// heaps are freed too. Repeated over several runtimes, a leak would add up.
TEST_P(HeapTest, HeapOfAProcessUnwoundAtShutdownIsFreed) {
  constexpr int runtimes = 6;
  constexpr int per_runtime = 8;
  constexpr std::size_t block = 16u << 20;  // 6 x 8 x 16 MiB = 768 MiB if leaked
  std::size_t before = 0;
  for (int round = 0; round < runtimes; ++round) {
    rt();
    std::atomic<int> ready{0};
    for (int i = 0; i < per_runtime; ++i) {
      troupe::spawn([&ready] {
        auto* p = static_cast<char*>(troupe::heap()->allocate(block));
        for (std::size_t off = 0; off < block; off += 4096) p[off] = 1;
        ready.fetch_add(1);
        troupe::receive([](int) {});  // never comes
      });
    }
    ASSERT_TRUE(wait_until([&] { return ready.load() == per_runtime; }));
    stop_runtime();
    if (round == 0) before = resident_bytes();  // after the first round: caches are warm
  }
  const std::size_t after = resident_bytes();
  const std::size_t growth = after > before ? after - before : 0;
  if (rss_meaningful) {
    EXPECT_LT(growth, (runtimes - 1) * per_runtime * block / 2) << "resident memory grew by " << (growth >> 20) << " MiB";
  }
}

}  // namespace
