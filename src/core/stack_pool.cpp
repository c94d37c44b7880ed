#include "stack_pool.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <system_error>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace troupe::detail {

namespace {

constexpr std::size_t chunk_bytes = 64u << 20;
constexpr std::size_t cache_limit = 512;

void* map_reserve(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(),
                            "troupe: mapping process stacks (out of memory, or at vm.max_map_count mappings)");
  }
  // Transparent huge pages would commit 2 MiB where a process touches 4 KiB.
  ::madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

bool probe_cheap_guards() {
  void* p = ::mmap(nullptr, 2 * stack_pool::page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  const bool ok = ::madvise(p, stack_pool::page, MADV_GUARD_INSTALL) == 0;
  ::munmap(p, 2 * stack_pool::page);
  return ok;
}

std::size_t class_of(std::size_t bytes) noexcept {
  if (bytes <= stack_pool::min_slot) return 0;
  return static_cast<std::size_t>(std::bit_width((bytes - 1) / stack_pool::min_slot));
}

}  // namespace

std::size_t stack_pool::reserved_size(std::size_t request) noexcept {
  const std::size_t want = std::max(request, min_slot);
  if (want > max_pooled_slot) return (want + page - 1) / page * page;
  return class_size(class_of(want));
}

stack_pool::stack_pool() : cheap_guards_(probe_cheap_guards()) {
  // process_madvise() installs a whole batch of guard pages in one system call.
  if (cheap_guards_) self_pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
}

namespace {
// ASan does not clear shadow memory on munmap: frames that never returned
// would leave their redzones poisoned for whatever is mapped there next.
void unmap(void* p, std::size_t n) noexcept {
#ifdef TROUPE_ASAN
  __asan_unpoison_memory_region(p, n);
#endif
  ::munmap(p, n);
}
}  // namespace

stack_pool::~stack_pool() {
  for (auto& [p, n] : mappings_) unmap(p, n);
  if (self_pidfd_ >= 0) ::close(self_pidfd_);
}

bool stack_pool::install_guards(char* first_slot, std::size_t slot, std::size_t n) noexcept {
  iovec iov[carve_batch];
  for (std::size_t i = 0; i < n; ++i) iov[i] = {first_slot + i * slot, page};
  if (self_pidfd_ >= 0 &&
      ::syscall(SYS_process_madvise, self_pidfd_, iov, n, MADV_GUARD_INSTALL, 0u) == static_cast<long>(n * page)) {
    return true;
  }
  bool all = true;
  for (std::size_t i = 0; i < n; ++i) all = install_guard(first_slot + i * slot) && all;
  return all;
}

bool stack_pool::install_guard(char* guard_page) noexcept {
  if (cheap_guards_) return ::madvise(guard_page, page, MADV_GUARD_INSTALL) == 0;
  if (mprotect_guards_ < mprotect_guard_budget && ::mprotect(guard_page, page, PROT_NONE) == 0) {
    ++mprotect_guards_;
    return true;
  }
  return false;
}

stack_slot stack_pool::acquire(std::size_t request, cache& c) {
  const std::size_t want = std::max(request, min_slot);
  if (want > max_pooled_slot) return acquire_dedicated(request);
  const std::size_t k = class_of(want);
  auto& mine = c.free[k];
  if (mine.empty()) carve(k, c);
  const std::uintptr_t tagged = reinterpret_cast<std::uintptr_t>(mine.back());
  mine.pop_back();
  char* base = reinterpret_cast<char*>(tagged & ~unguarded_tag);
  return {base + page, static_cast<std::uint32_t>(class_size(k) - page), static_cast<std::uint8_t>(k),
          (tagged & unguarded_tag) == 0};
}

stack_slot stack_pool::acquire_dedicated(std::size_t request) {
  const std::size_t bytes = (std::max(request, min_slot) + page - 1) / page * page;
  char* base = static_cast<char*>(map_reserve(bytes));
  // A big stack is rare: an mprotect guard's split mapping is fine, and it
  // does not count against the pooled stacks' budget. But it is never left
  // without one: big frames would run off it into whatever lies below.
  const bool guarded = cheap_guards_ ? ::madvise(base, page, MADV_GUARD_INSTALL) == 0
                                     : ::mprotect(base, page, PROT_NONE) == 0;
  if (!guarded) {
    const int err = errno;
    unmap(base, bytes);
    throw std::system_error(err, std::generic_category(),
                            "troupe: no guard page for a process stack (too many memory mappings: vm.max_map_count)");
  }
  return {base + page, static_cast<std::uint32_t>(bytes - page), dedicated};
}

void stack_pool::carve(std::size_t k, cache& c) {
  auto& mine = c.free[k];
  const std::size_t slot = class_size(k);
  char* fresh = nullptr;
  std::size_t n_fresh = 0;
  {
    std::lock_guard lock(mu_);
    auto& shared = free_[k];
    if (!shared.empty()) {
      const std::size_t n = std::min(carve_batch, shared.size());
      mine.insert(mine.end(), shared.end() - static_cast<std::ptrdiff_t>(n), shared.end());
      shared.resize(shared.size() - n);
      return;
    }
    auto& [next, end] = chunk_[k];
    if (static_cast<std::size_t>(end - next) < slot) {
      const std::size_t bytes = std::max(chunk_bytes, slot);
      next = static_cast<char*>(map_reserve(bytes));
      end = next + bytes;
      mappings_.emplace_back(next, bytes);
    }
    n_fresh = std::min(carve_batch, static_cast<std::size_t>(end - next) / slot);
    fresh = next;
    next += n_fresh * slot;
    if (!cheap_guards_) {
      // The mprotect budget is shared state: install under the lock.
      for (std::size_t i = n_fresh; i-- > 0;) mine.push_back(tag(fresh + i * slot, install_guard(fresh + i * slot)));
      return;
    }
  }
  const bool guarded = install_guards(fresh, slot, n_fresh);
  for (std::size_t i = n_fresh; i-- > 0;) mine.push_back(tag(fresh + i * slot, guarded));
}

void stack_pool::release(const stack_slot& s, cache& c) noexcept {
  char* base = s.lo - page;
  if (s.size_class == dedicated) {
    unmap(base, s.size + page);
    return;
  }
  auto& mine = c.free[s.size_class];
  mine.push_back(tag(base, s.guarded));
  if (mine.size() <= cache_limit) return;
  std::lock_guard lock(mu_);
  auto& shared = free_[s.size_class];
  const auto half = static_cast<std::ptrdiff_t>(mine.size() / 2);
  shared.insert(shared.end(), mine.begin(), mine.begin() + half);
  mine.erase(mine.begin(), mine.begin() + half);
}

void stack_pool::release_unstarted(const stack_slot& s) noexcept { unmap(s.lo - page, s.size + page); }

void stack_pool::drain(cache& c) noexcept {
  std::lock_guard lock(mu_);
  for (std::size_t k = 0; k < n_classes; ++k) {
    free_[k].insert(free_[k].end(), c.free[k].begin(), c.free[k].end());
    c.free[k].clear();
  }
}

}  // namespace troupe::detail
