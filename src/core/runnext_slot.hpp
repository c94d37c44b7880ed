#pragma once
// A scheduler's run-next slot: the process the running one just woke, to run
// next on the same thread (a message round trip stays on one core). Its owner
// uses it on every round trip, so the owner's side takes no atomic
// read-modify-write; a spare thread standing in for a held scheduler
// (src/preempt) takes the process from it through an asymmetric Dekker
// handshake (asymmetric_fence.hpp) instead of leaving it behind the hog.

#include <atomic>

#include "asymmetric_fence.hpp"
#include "cpu_relax.hpp"

namespace troupe::detail {

struct process;

class runnext_slot {
 public:
  /// Owner: puts `p` in the slot (nullptr empties it); returns what was there.
  process* exchange(process* p) noexcept {
    for (;;) {
      owner_in_.store(true, std::memory_order_relaxed);
      light_fence();
      if (!thief_in_.load(std::memory_order_acquire)) [[likely]]
        break;
      // Out of the thief's way until it is done (waiting in here would
      // keep a thief that tries again and again out for good).
      owner_in_.store(false, std::memory_order_relaxed);
      while (thief_in_.load(std::memory_order_acquire)) cpu_relax();
    }
    process* old = p_.load(std::memory_order_relaxed);
    p_.store(p, std::memory_order_relaxed);
    owner_in_.store(false, std::memory_order_release);
    return old;
  }

  /// Owner: empties the slot; what was there, or nullptr.
  process* take() noexcept {
    // Only the owner fills it: empty stays empty.
    if (p_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return exchange(nullptr);
  }

  /// Any other thread: empties the slot unless its owner is using it (or
  /// another thread is at it); what was there, or nullptr. A system call
  /// each: for a scheduler whose thread is held.
  process* steal() noexcept {
    if (p_.load(std::memory_order_relaxed) == nullptr || owner_in_.load(std::memory_order_relaxed)) return nullptr;
    if (!heavy_fence_available()) return nullptr;
    if (thief_in_.exchange(true, std::memory_order_acquire)) return nullptr;
    heavy_fence();
    process* got = nullptr;
    if (!owner_in_.load(std::memory_order_acquire)) {
      got = p_.load(std::memory_order_relaxed);
      p_.store(nullptr, std::memory_order_relaxed);
    }
    thief_in_.store(false, std::memory_order_release);
    return got;
  }

 private:
  std::atomic<process*> p_{nullptr};
  std::atomic<bool> owner_in_{false};
  std::atomic<bool> thief_in_{false};
};

}  // namespace troupe::detail
