#pragma once
// Raw memory for runtime objects (messages, closures, timers, heap blocks):
// mimalloc, which is fast when one thread allocates and another frees. Under
// AddressSanitizer the C allocator is used instead, so ASan sees every block.

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define TROUPE_ALLOC_VIA_LIBC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TROUPE_ALLOC_VIA_LIBC 1
#endif
#endif

#ifndef TROUPE_ALLOC_VIA_LIBC
#include <mimalloc.h>
#endif

namespace troupe::detail {

/// `size` bytes aligned to `align` (a power of two); throws std::bad_alloc.
inline void* allocate_raw(std::size_t size, std::size_t align = alignof(std::max_align_t)) {
#ifdef TROUPE_ALLOC_VIA_LIBC
  void* p = nullptr;
  if (posix_memalign(&p, align < sizeof(void*) ? sizeof(void*) : align, size ? size : 1) != 0) p = nullptr;
#else
  void* p = align <= alignof(std::max_align_t) ? mi_malloc(size) : mi_malloc_aligned(size, align);
#endif
  if (!p) throw std::bad_alloc();
  return p;
}

inline void free_raw(void* p) noexcept {
#ifdef TROUPE_ALLOC_VIA_LIBC
  std::free(p);
#else
  mi_free(p);
#endif
}

}  // namespace troupe::detail
