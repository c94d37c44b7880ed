#pragma once
// The mailbox: one word. Senders push onto a lock-free stack (one
// compare-exchange, never blocks, never takes a lock); the owner takes the
// whole stack with one exchange and reverses it, so per-sender order holds.
// The same word says whether the owner is parked waiting for a message: a
// sender whose push replaces the `blocked` mark has woken the owner and must
// schedule it. The push and the wake-up check are one atomic step, so a
// wake-up cannot be lost (after CAF's lifo_inbox).

#include <atomic>

#include "troupe/detail/message_node.hpp"

namespace troupe::detail {

struct mailbox {
  static mpsc_node* blocked() noexcept { return reinterpret_cast<mpsc_node*>(std::uintptr_t{1}); }

  std::atomic<mpsc_node*> head{nullptr};

  /// Any thread. Returns true if the owner was parked: the caller woke it.
  bool push(mpsc_node* n) noexcept {
    mpsc_node* old = head.load(std::memory_order_relaxed);
    for (;;) {
      n->next.store(old == blocked() ? nullptr : old, std::memory_order_relaxed);
      if (head.compare_exchange_weak(old, n, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return old == blocked();
      }
    }
  }

  /// Owner only, while running: everything pushed so far, newest first.
  mpsc_node* take_all() noexcept {
    if (head.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return head.exchange(nullptr, std::memory_order_acq_rel);
  }

  /// Owner's scheduler, after the owner switched out to wait. True if it is
  /// now parked; false if messages arrived (it should keep running).
  bool try_block() noexcept {
    mpsc_node* expected = nullptr;
    return head.compare_exchange_strong(expected, blocked(), std::memory_order_acq_rel);
  }

  /// A waker that is not a sender (a timer, a signal). True if it took the
  /// parked owner and must schedule it.
  bool try_unblock() noexcept {
    mpsc_node* expected = blocked();
    return head.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
  }

  /// Owner only: anything waiting to be taken?
  [[nodiscard]] bool has_messages() const noexcept {
    mpsc_node* h = head.load(std::memory_order_acquire);
    return h != nullptr && h != blocked();
  }
};

}  // namespace troupe::detail
