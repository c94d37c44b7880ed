#pragma once
// The mailbox: one word. Senders push onto a lock-free stack (one
// compare-exchange, never blocks, never takes a lock); the owner takes the
// whole stack with one exchange and reverses it, so per-sender order holds.
//
// The word also says whether the owner is parked waiting for a message: a
// sender whose push replaces the `blocked` mark has woken the owner and must
// schedule it. The push and the wake-up check are one atomic step, so a
// wake-up cannot be lost (after CAF's lifo_inbox). And its top 16 bits count
// the messages not yet taken (saturating), which senders use to slow down
// when a receiver falls behind and process_info reports, at no extra cost.

#include <atomic>
#include <cstdint>

#include "troupe/detail/message_node.hpp"

namespace troupe::detail {

struct mailbox {
  using word = std::uintptr_t;
  static constexpr unsigned count_shift = 48;  // user-space pointers fit in 47 bits
  static constexpr word pointer_mask = (word{1} << count_shift) - 1;
  static constexpr word max_count = 0xffff;
  static constexpr word blocked = 1;

  std::atomic<word> head{0};

  static mpsc_node* top(word w) noexcept { return reinterpret_cast<mpsc_node*>(w & pointer_mask); }
  static word count(word w) noexcept { return w >> count_shift; }

  /// Any thread. Returns the number of messages that were waiting before this
  /// one, or -1 if the owner was parked: then the caller woke it.
  long push(mpsc_node* n) noexcept {
    word old = head.load(std::memory_order_relaxed);
    for (;;) {
      const word c = count(old);
      n->next.store(old == blocked ? nullptr : top(old), std::memory_order_relaxed);
      const word next = reinterpret_cast<word>(n) | ((c < max_count ? c + 1 : c) << count_shift);
      if (head.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return old == blocked ? -1 : static_cast<long>(c);
      }
    }
  }

  /// Owner only, while running: everything pushed so far, newest first.
  mpsc_node* take_all() noexcept {
    if (head.load(std::memory_order_relaxed) == 0) return nullptr;
    return top(head.exchange(0, std::memory_order_acq_rel));
  }

  /// Owner's scheduler, after the owner switched out to wait. True if it is
  /// now parked; false if messages arrived (it should keep running).
  bool try_block() noexcept {
    word expected = 0;
    return head.compare_exchange_strong(expected, blocked, std::memory_order_acq_rel);
  }

  /// A waker that is not a sender (a timer, a signal). True if it took the
  /// parked owner and must schedule it.
  bool try_unblock() noexcept {
    word expected = blocked;
    return head.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }

  /// Owner only: anything waiting to be taken?
  [[nodiscard]] bool has_messages() const noexcept {
    const word h = head.load(std::memory_order_acquire);
    return h != 0 && h != blocked;
  }

  /// Any thread: messages pushed and not yet taken (approximate, saturating).
  [[nodiscard]] std::size_t waiting() const noexcept {
    const word h = head.load(std::memory_order_relaxed);
    return h == blocked ? 0 : count(h);
  }
};

}  // namespace troupe::detail
