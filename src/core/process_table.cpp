#include "process_table.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <system_error>

namespace troupe::detail {

process_table::process_table(std::size_t capacity, std::size_t caches, std::uint32_t creation)
    : // Records move between a scheduler's cache and the shared list in
      // batches; a small table gets small batches. Free records sitting in
      // the caches are extra slots: the limit on live processes is counted
      // by the runtime, so the table can never look full before it.
      batch_(std::clamp<std::size_t>(capacity / 256, 1, 256)),
      cache_limit_(4 * batch_),
      creation_(creation) {
  capacity_ = capacity + 1 + caches * cache_limit_;
  // Address space only: pages are committed when a record is first used.
  void* mem = ::mmap(nullptr, capacity_ * sizeof(process), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "troupe: reserving the process table");
  records_ = static_cast<process*>(mem);
}

process_table::~process_table() {
  const std::uint32_t n = high_water_.load();
  for (std::uint32_t i = 1; i < n; ++i) records_[i].~process();
  ::munmap(records_, capacity_ * sizeof(process));
}

process* process_table::acquire(record_cache* cache) {
  process* p = nullptr;
  if (cache && cache->head) {
    p = cache->head;
    cache->head = p->next_free;
    --cache->count;
  } else {
    p = refill(cache);
  }
  p->next_free = nullptr;
  return p;
}

process* process_table::refill(record_cache* cache) {
  std::lock_guard lock(mu_);
  if (global_free_) {
    process* p = global_free_;
    global_free_ = p->next_free;
    --global_count_;
    // Move a batch into the cache so the next spawns skip the lock.
    for (std::size_t k = 1; cache && k < batch_ && global_free_; ++k) {
      process* q = global_free_;
      global_free_ = q->next_free;
      --global_count_;
      q->next_free = cache->head;
      cache->head = q;
      ++cache->count;
    }
    return p;
  }
  // Carve never-used slots, and construct them before the high-water mark
  // shows them to lookups and to for_each_slot (process_info, shutdown).
  // Under the lock: carving is rare (a batch at a time), and the records'
  // first page faults do not run in parallel anyway.
  const std::uint32_t first = high_water_.load(std::memory_order_relaxed);
  const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(cache ? batch_ : 1, capacity_ - first));
  if (want == 0) {
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            "troupe: process table full (raise runtime_options::max_processes)");
  }
  for (std::uint32_t i = first; i < first + want; ++i) {
    process* r = ::new (records_ + i) process();
    r->index = i;
    r->generation.store((creation_ << serial_bits) | 1, std::memory_order_relaxed);
    if (i != first) {
      r->next_free = cache->head;
      cache->head = r;
      ++cache->count;
    }
  }
  high_water_.store(first + want, std::memory_order_release);
  return records_ + first;
}

void process_table::release(process* p, record_cache* cache) noexcept {
  if (cache) {
    p->next_free = cache->head;
    cache->head = p;
    if (++cache->count <= cache_limit_) return;
    // Too many: hand a batch back to the shared list for other schedulers.
    process* chain = nullptr;
    process* last = nullptr;
    for (std::size_t k = 0; k < batch_; ++k) {
      process* q = cache->head;
      cache->head = q->next_free;
      q->next_free = chain;
      if (!last) last = q;
      chain = q;
    }
    cache->count -= batch_;
    std::lock_guard lock(mu_);
    last->next_free = global_free_;
    global_free_ = chain;
    global_count_ += batch_;
    return;
  }
  std::lock_guard lock(mu_);
  p->next_free = global_free_;
  global_free_ = p;
  ++global_count_;
}

}  // namespace troupe::detail
