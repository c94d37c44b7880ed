// Everything the runtime allocates with operator new is freed when it is
// destroyed. Counted by replacing the global operator new/delete in the test
// binary (not under AddressSanitizer, whose own allocator and LeakSanitizer
// do this job there).

#include <cstdlib>
#include <new>
#include <vector>

#include "test_support.hpp"

#if !defined(__SANITIZE_ADDRESS__)

namespace {
std::atomic<long> live_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (!p) return;
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void* operator new(std::size_t n, std::align_val_t a) {
  void* p = nullptr;
  const std::size_t align = std::max(static_cast<std::size_t>(a), sizeof(void*));
  if (posix_memalign(&p, align, n ? n : 1) != 0) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void operator delete(void* p, std::align_val_t) noexcept {
  if (!p) return;
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t a) noexcept { operator delete(p, a); }

namespace {

using namespace troupe_test;

class AllocTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(AllocTest);

// One runtime's life, using what allocates on the runtime's side: processes,
// messages, timers, per-process heaps, links, monitors, names.
void one_runtime_life(unsigned schedulers) {
  troupe::runtime r({.schedulers = schedulers});
  r.run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ps;
    for (int i = 0; i < 50; ++i) {
      ps.push_back(troupe::spawn([root, i] {
        troupe::heap()->deallocate(troupe::heap()->allocate(64), 64);
        if (i == 0) troupe::register_name("alloc-test-named", troupe::self());
        troupe::send(root, i);
        troupe::receive([](int) {});
      }));
    }
    for (int i = 0; i < 50; ++i) recv<int>();
    troupe::link(ps[1]);
    troupe::unlink(ps[1]);
    const troupe::monitor_ref m = troupe::monitor(ps[2]);
    troupe::demonitor(m);
    troupe::send_after(root, 1ms, std::string("timer"));
    recv<std::string>();
    (void)troupe::send_after(root, 1h, std::string("pending at shutdown"));
    for (int i = 0; i < 25; ++i) troupe::send(ps[i], 0);  // the others are still alive at shutdown
  });
}

TEST_P(AllocTest, ADestroyedRuntimeHasFreedEverythingItAllocated) {
  (void)troupe::logger();
  one_runtime_life(schedulers());  // first time: one-time allocations (statics)
  const long before = live_allocations.load();
  one_runtime_life(schedulers());
  const long after = live_allocations.load();
  EXPECT_EQ(after - before, 0) << "allocations left over after a runtime was destroyed";
}

}  // namespace

#endif  // !__SANITIZE_ADDRESS__
