#pragma once
// The mailbox: one word. Senders push onto a lock-free stack (one
// compare-exchange, never blocks, never takes a lock); the owner takes the
// whole stack with one exchange and reverses it, so per-sender order holds.
//
// The word also says whether the owner is parked waiting for a message: a
// sender whose push replaces the `blocked` mark has woken the owner and must
// schedule it. The push and the wake-up check are one atomic step, so a
// wake-up cannot be lost (after CAF's lifo_inbox).
//
// Its top 16 bits count the receiver's backlog (saturating): the owner sets
// them, when it takes a batch or parks, to the messages it holds and has not
// consumed yet; every push adds one. Senders read it for free on their push
// and slow down when a receiver falls behind (the BEAM's sender punishment):
// a count of pushes since the last take alone would read near zero right
// after a receiver took a huge batch, just when it is furthest behind.

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

  static word pointer_part(word w) noexcept { return w & pointer_mask; }
  static word with_count(word pointer, std::uint32_t n) noexcept {
    return pointer | (word{n < max_count ? n : max_count} << count_shift);
  }

  /// Any thread. Returns the receiver's backlog before this message, or -1 if
  /// the owner was parked: then the caller woke it.
  long push(mpsc_node* n) noexcept { return push_chain(n, n, 1); }

  /// push, for `n` messages linked from `newest` down to `oldest` (whose
  /// next this sets). Returns as push does.
  long push_chain(mpsc_node* newest, mpsc_node* oldest, std::uint32_t n) noexcept {
    word old = head.load(std::memory_order_relaxed);
    for (;;) {
      const word c = count(old);
      const bool parked = pointer_part(old) == blocked;
      oldest->next.store(parked ? nullptr : top(old), std::memory_order_relaxed);
      const word next = reinterpret_cast<word>(newest) | ((c + n < max_count ? c + n : max_count) << count_shift);
      if (head.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        return parked ? -1 : static_cast<long>(c);
      }
    }
  }

  /// Owner only, while running: everything pushed so far, newest first. The
  /// count becomes `unconsumed` (messages the owner already holds) plus the
  /// batch taken; `counted` carries what the count was set to last time.
  mpsc_node* take_all(std::uint32_t unconsumed, std::atomic<std::uint32_t>& counted) noexcept {
    word old = head.load(std::memory_order_relaxed);
    if (pointer_part(old) == 0) return nullptr;
    const std::uint32_t before = counted.load(std::memory_order_relaxed);
    for (;;) {
      const word c = count(old);
      const std::uint32_t batch = c > before ? static_cast<std::uint32_t>(c - before) : 0;
      const std::uint32_t now = unconsumed + batch;
      if (head.compare_exchange_weak(old, with_count(0, now), std::memory_order_acq_rel, std::memory_order_relaxed)) {
        counted.store(now < max_count ? now : static_cast<std::uint32_t>(max_count), std::memory_order_relaxed);
        return top(old);
      }
    }
  }

  /// Owner gone (exited, or the runtime stopping): everything, and a clean word.
  mpsc_node* drain() noexcept {
    const word old = head.exchange(0, std::memory_order_acq_rel);
    return pointer_part(old) == blocked ? nullptr : top(old);
  }

  /// Owner's scheduler, after the owner switched out to wait. True if it is
  /// now parked; false if messages arrived (it should keep running). The
  /// count becomes `unconsumed`: all that was pushed has been taken.
  bool try_block(std::uint32_t unconsumed, std::atomic<std::uint32_t>& counted) noexcept {
    // Unless a message came in, the word is still what the owner last wrote.
    word expected = with_count(0, counted.load(std::memory_order_relaxed));
    while (!head.compare_exchange_weak(expected, with_count(blocked, unconsumed), std::memory_order_acq_rel)) {
      if (pointer_part(expected) != 0) return false;  // a message came in
    }
    counted.store(unconsumed < max_count ? unconsumed : static_cast<std::uint32_t>(max_count), std::memory_order_relaxed);
    return true;
  }

  /// A waker that is not a sender (a timer, a signal). True if it took the
  /// parked owner and must schedule it.
  bool try_unblock() noexcept {
    word expected = head.load(std::memory_order_acquire);
    if (pointer_part(expected) != blocked) return false;
    return head.compare_exchange_strong(expected, expected & ~pointer_mask, std::memory_order_acq_rel);
  }

  /// Owner only: anything waiting to be taken?
  [[nodiscard]] bool has_messages() const noexcept {
    const word p = pointer_part(head.load(std::memory_order_acquire));
    return p != 0 && p != blocked;
  }

  /// Any thread: whether the count has reached max_count (then senders count
  /// on in the process's ext: process_ext::mbox_overflow).
  [[nodiscard]] bool saturated() const noexcept { return count(head.load(std::memory_order_relaxed)) == max_count; }

  /// Any thread: messages pushed and not yet taken (saturating), given the
  /// owner's `counted`.
  [[nodiscard]] std::size_t waiting(const std::atomic<std::uint32_t>& counted) const noexcept {
    const word c = count(head.load(std::memory_order_relaxed));
    const word before = counted.load(std::memory_order_relaxed);
    return c > before ? c - before : 0;
  }
};

}  // namespace troupe::detail
