#pragma once
// Process stacks: carved from large mappings, a guard page under each, pages
// committed only when touched, and recycled through per-scheduler caches so a
// steady stream of spawns touches no new memory.
//
// Guard pages: on Linux >= 6.13 MADV_GUARD_INSTALL marks a guard page without
// splitting the mapping, so every stack gets one at no cost in mappings. On
// older kernels a PROT_NONE page splits the mapping in two; with the default
// limit of 65,530 mappings per process we then guard the first
// `mprotect_guard_budget` stacks only (see docs/design.md).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "process_record.hpp"

namespace troupe::detail {

class stack_pool {
 public:
  static constexpr std::size_t page = 4096;
  static constexpr std::size_t min_slot = 16 * 1024;
  static constexpr std::size_t max_pooled_slot = 1024 * 1024;
  static constexpr std::size_t n_classes = 7;  // 16K .. 1M
  static constexpr std::uint8_t dedicated = 0xff;
  static constexpr std::size_t mprotect_guard_budget = 16384;

  /// Free stacks kept by one scheduler.
  struct cache {
    std::array<std::vector<char*>, n_classes> free;
  };

  stack_pool();
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  /// A stack with at least `request` bytes of address space (guard included).
  /// Throws std::system_error when no memory can be mapped.
  stack_slot acquire(std::size_t request, cache& c);
  /// A stack of its own mapping for a request above max_pooled_slot, always
  /// with a guard page: throws std::system_error when it cannot be mapped or
  /// guarded (near vm.max_map_count). Taken at spawn, so spawn says so.
  stack_slot acquire_dedicated(std::size_t request);
  static bool is_dedicated(std::size_t request) noexcept { return std::max(request, min_slot) > max_pooled_slot; }
  void release(const stack_slot& s, cache& c) noexcept;
  /// Releases a dedicated stack that no scheduler took (no cache needed).
  void release_unstarted(const stack_slot& s) noexcept;
  /// Returns a cache's stacks to the shared lists (when a scheduler stops).
  void drain(cache& c) noexcept;

  /// The address space a stack of `request` bytes gets (guard page included).
  static std::size_t reserved_size(std::size_t request) noexcept;

  /// True when guard pages cost no mappings (MADV_GUARD_INSTALL works).
  [[nodiscard]] bool cheap_guards() const noexcept { return cheap_guards_; }

 private:
  static std::size_t class_size(std::size_t k) noexcept { return min_slot << k; }
  void carve(std::size_t k, cache& c);
  bool install_guard(char* guard_page) noexcept;
  bool install_guards(char* first_slot, std::size_t slot, std::size_t n) noexcept;

  // Free lists hold slot bases, with bit 0 set for a slot without a guard page.
  static constexpr std::uintptr_t unguarded_tag = 1;
  static char* tag(char* base, bool guarded) noexcept {
    return reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(base) | (guarded ? 0 : unguarded_tag));
  }

  static constexpr std::size_t carve_batch = 64;

  bool cheap_guards_ = false;
  int self_pidfd_ = -1;
  std::mutex mu_;
  std::array<std::vector<char*>, n_classes> free_;
  std::array<std::pair<char*, char*>, n_classes> chunk_{};  // [next, end) of the current chunk
  std::vector<std::pair<void*, std::size_t>> mappings_;
  std::size_t mprotect_guards_ = 0;
};

}  // namespace troupe::detail
