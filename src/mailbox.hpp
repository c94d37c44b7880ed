#pragma once
// The mailbox: Vyukov's intrusive multi-producer single-consumer queue.
// Push is one exchange and one store, never blocks and never takes a lock; an
// empty mailbox is three pointers. Only the owning process pops.

#include <atomic>

#include "troupe/detail/message_node.hpp"

namespace troupe::detail {

struct mailbox {
  std::atomic<mpsc_node*> head{&stub};  // producers swing this
  mpsc_node stub;
  mpsc_node* tail = &stub;  // consumer side

  void reset() noexcept {
    stub.next.store(nullptr, std::memory_order_relaxed);
    head.store(&stub, std::memory_order_relaxed);
    tail = &stub;
  }

  /// Any thread. seq_cst so that the push is ordered before the caller's
  /// following look at the receiver's state (the no-lost-wake-up handshake).
  void push(mpsc_node* n) noexcept {
    n->next.store(nullptr, std::memory_order_relaxed);
    mpsc_node* prev = head.exchange(n, std::memory_order_seq_cst);
    prev->next.store(n, std::memory_order_release);
  }

  /// Consumer only. nullptr when empty, or when a producer is between its two
  /// steps (maybe_nonempty() then stays true until it finishes).
  mpsc_node* pop() noexcept {
    mpsc_node* t = tail;
    mpsc_node* next = t->next.load(std::memory_order_acquire);
    if (t == &stub) {
      if (!next) return nullptr;
      tail = next;
      t = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next) {
      tail = next;
      return t;
    }
    if (t != head.load(std::memory_order_acquire)) return nullptr;
    push(&stub);
    next = t->next.load(std::memory_order_acquire);
    if (next) {
      tail = next;
      return t;
    }
    return nullptr;
  }

  /// Consumer side (the owner, or its scheduler on its behalf). False only if
  /// the queue was empty: the tail is the stub, nothing follows it, and no
  /// producer has swung the head. Looking at the head alone is not enough: the
  /// stub can be re-queued behind a message whose link is still being written.
  bool maybe_nonempty() const noexcept {
    return head.load(std::memory_order_seq_cst) != &stub || tail != &stub ||
           stub.next.load(std::memory_order_acquire) != nullptr;
  }
};

}  // namespace troupe::detail
