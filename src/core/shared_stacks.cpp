#include "shared_stacks.hpp"

#include <cstring>
#include <utility>

#include "cpu_relax.hpp"
#include "troupe/detail/alloc.hpp"

namespace troupe::detail {

namespace {

char* top_of(const shared_stack& s) noexcept { return s.stack.lo + s.stack.size; }

// Everything below a switched-out process's saved context is dead: the
// context is the stack pointer after jump_fcontext pushed its registers, and
// the code that called it is not a leaf, so it keeps nothing in a red zone.
void save_frames(process* r, char* top) noexcept {
  char* from = static_cast<char*>(r->ctx);
  const auto n = static_cast<std::size_t>(top - from);
#ifdef TROUPE_ASAN
  // The copy reads the redzones of live frames; restore_frames unpoisons
  // the stack anyway.
  __asan_unpoison_memory_region(from, n);
#endif
  r->frames = static_cast<char*>(allocate_raw(n));  // out of memory here ends the program
  std::memcpy(r->frames, from, n);
}

void restore_frames(process* p, const shared_stack& s) noexcept {
  char* to = static_cast<char*>(p->ctx);
  char* top = top_of(s);
#ifdef TROUPE_ASAN
  // The redzones poisoned there belong to the previous resident's frames.
  __asan_unpoison_memory_region(s.stack.lo, s.stack.size);
#endif
  std::memcpy(to, p->frames, static_cast<std::size_t>(top - to));
  free_raw(std::exchange(p->frames, nullptr));
}

}  // namespace

void shared_stack::lock() noexcept {
  while (locked.exchange(true, std::memory_order_acquire)) {
    while (locked.load(std::memory_order_relaxed)) cpu_relax();
  }
}

shared_stacks::shared_stacks(stack_pool& pool, std::size_t count, std::size_t bytes)
    : pool_(pool), count_(count ? count : 1), bytes_(bytes), stacks_(new shared_stack[count_]) {}

// The stacks go back with the pool's mappings.
shared_stacks::~shared_stacks() = default;

shared_stack* shared_stacks::bind(std::size_t request, stack_pool::cache& cache) {
  if (stack_pool::reserved_size(request) > stack_pool::reserved_size(bytes_)) return nullptr;
  shared_stack& s = stacks_[next_.fetch_add(1, std::memory_order_relaxed) % count_];
  s.lock();
  if (!s.stack.lo) {
    try {
      s.stack = pool_.acquire(bytes_, cache);
    } catch (...) {
      s.unlock();
      throw;
    }
  }
  s.unlock();
  return &s;
}

bool shared_stacks::claim(process* p) noexcept {
  shared_stack& s = *p->share.load(std::memory_order_relaxed);
  s.lock();
  if (s.busy) {
    // Runnable, not running: from here on the release that frees the stack
    // may queue it on another scheduler.
    p->state.store(pstate::runnable, std::memory_order_relaxed);
    p->next_free = nullptr;
    (s.waiters_tail ? s.waiters_tail->next_free : s.waiters_head) = p;
    s.waiters_tail = p;
    s.unlock();
    return false;
  }
  s.busy = true;
  process* r = std::exchange(s.resident, p);
  s.unlock();
  // `busy` is ours: nobody else runs on, or copies to or from, the stack.
  if (r != p) {
    if (r) save_frames(r, top_of(s));
    if (p->frames) restore_frames(p, s);
  }
  return true;
}

process* shared_stacks::release(process* p, bool ended) noexcept {
  shared_stack& s = *p->share.load(std::memory_order_relaxed);
  s.lock();
  s.busy = false;
  if (ended) s.resident = nullptr;
  process* w = s.waiters_head;
  if (w) {
    s.waiters_head = w->next_free;
    if (!s.waiters_head) s.waiters_tail = nullptr;
    w->next_free = nullptr;
  }
  s.unlock();
  return w;
}

void shared_stacks::forget(process* p) noexcept {
  if (p->frames) free_raw(std::exchange(p->frames, nullptr));
}

}  // namespace troupe::detail
