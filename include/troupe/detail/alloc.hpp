#pragma once
// Raw memory for runtime objects (messages, closures, timers, heap blocks):
// mimalloc, which is fast when one thread allocates and another frees. Under
// AddressSanitizer and ThreadSanitizer the C allocator is used instead, so the
// sanitizer sees every block and every reuse.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TROUPE_ALLOC_VIA_LIBC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TROUPE_ALLOC_VIA_LIBC 1
#endif
#endif

#ifndef TROUPE_ALLOC_VIA_LIBC
#include <mimalloc.h>
#endif

namespace troupe::detail {

#ifndef TROUPE_ALLOC_VIA_LIBC
/// A scheduler thread's stock of small freed blocks (messages, spawn
/// closures). A message is typically freed just after the next one is
/// allocated, so mimalloc would retire and revive the same page on every
/// send; a few dozen blocks kept per size class avoid that (a round trip
/// between two processes: ~100 -> ~90 ns). Only scheduler threads have one.
struct block_cache {
  static constexpr std::size_t classes = 2;
  static constexpr std::size_t per_class = 64;
  static constexpr std::size_t max_size = 64;
  static constexpr std::size_t max_align = 16;
  void* blocks[classes][per_class];
  std::uint32_t count[classes];

  static constexpr std::size_t class_of(std::size_t size) noexcept { return size <= 32 ? 0 : 1; }
  static constexpr std::size_t size_of(std::size_t cls) noexcept { return cls == 0 ? 32 : 64; }
};

/// This thread's cache, or null (set by the scheduler loop). `__thread` with
/// the initial-exec model: one %fs-relative load, no TLS wrapper call.
inline __thread block_cache* tls_block_cache __attribute__((tls_model("initial-exec"))) = nullptr;

/// Gives every cached block back to mimalloc.
inline void flush_block_cache(block_cache& c) noexcept {
  for (std::size_t k = 0; k < block_cache::classes; ++k) {
    while (c.count[k] > 0) mi_free(c.blocks[k][--c.count[k]]);
  }
}
#endif

/// `size` bytes aligned to `align` (a power of two); throws std::bad_alloc.
inline void* allocate_raw(std::size_t size, std::size_t align = alignof(std::max_align_t)) {
#ifdef TROUPE_ALLOC_VIA_LIBC
  void* p = nullptr;
  if (posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, size ? size : 1) != 0) p = nullptr;
#else
  void* p;
  if (size <= block_cache::max_size && align <= block_cache::max_align) {
    const std::size_t k = block_cache::class_of(size);
    if (block_cache* c = tls_block_cache; c && c->count[k] > 0) return c->blocks[k][--c->count[k]];
    p = mi_malloc(block_cache::size_of(k));  // a full class-sized block, so it can be cached
  } else {
    p = align <= alignof(std::max_align_t) ? mi_malloc(size) : mi_malloc_aligned(size, align);
  }
#endif
  if (!p) throw std::bad_alloc();
  return p;
}

/// Frees what allocate_raw returned.
inline void free_raw(void* p) noexcept {
#ifdef TROUPE_ALLOC_VIA_LIBC
  std::free(p);
#else
  mi_free(p);
#endif
}

/// Frees what allocate_raw(size, align) returned; small blocks may be kept
/// for reuse by this thread.
inline void free_raw(void* p, std::size_t size, std::size_t align) noexcept {
#ifndef TROUPE_ALLOC_VIA_LIBC
  if (size <= block_cache::max_size && align <= block_cache::max_align) {
    const std::size_t k = block_cache::class_of(size);
    if (block_cache* c = tls_block_cache; c && c->count[k] < block_cache::per_class) {
      c->blocks[k][c->count[k]++] = p;
      return;
    }
  }
#else
  (void)size;
  (void)align;
#endif
  free_raw(p);
}

}  // namespace troupe::detail
