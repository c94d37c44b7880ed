#pragma once
// Shared stacks: past runtime_options::dedicated_stacks live processes, new
// ones take turns on a small set of stacks. A process waiting on a shared
// stack keeps only its live frames (the bytes between its saved context and
// the top of the stack, a few hundred for a process blocked in receive),
// copied to the heap when another sharer needs the stack, and copied back to
// the same addresses, so pointers into them stay valid, when it runs again.
//
// Why: a process with a stack of its own pays at least one 4 KiB page, and on
// a VM a fresh page costs microseconds to fault in. A million processes that
// spawn and block would cost a million page faults; on shared stacks they
// cost their records and their frames, packed in the heap.
//
// The price is a copy out and a copy in whenever a sharer resumes after
// another ran on its stack, so a runtime holding fewer live processes than
// the budget never shares.

#include <atomic>
#include <cstddef>
#include <memory>

#include "process_record.hpp"
#include "stack_pool.hpp"

namespace troupe::detail {

struct shared_stack {
  std::atomic<bool> locked{false};
  bool busy = false;             // a sharer runs here, or is being switched in or out
  process* resident = nullptr;   // whose frames the stack holds
  process* waiters_head = nullptr;  // runnable sharers waiting for `busy` to clear (linked by next_free)
  process* waiters_tail = nullptr;
  stack_slot stack;

  void lock() noexcept;
  void unlock() noexcept { locked.store(false, std::memory_order_release); }
};

class shared_stacks {
 public:
  /// `count` stacks of `bytes` each, taken from `pool` on first use.
  shared_stacks(stack_pool& pool, std::size_t count, std::size_t bytes);
  ~shared_stacks();
  shared_stacks(const shared_stacks&) = delete;
  shared_stacks& operator=(const shared_stacks&) = delete;

  /// The stack a new process asking for `request` bytes shares, or nullptr
  /// when it needs a larger one. Takes stacks from the pool through `cache`
  /// (throws what stack_pool::acquire throws).
  shared_stack* bind(std::size_t request, stack_pool::cache& cache);

  /// Makes `p`'s frames the ones on its stack, copying out the resident's.
  /// False when another sharer runs there now: `p` then waits in the stack's
  /// queue, and the release() that frees the stack hands it back.
  static bool claim(process* p) noexcept;

  /// `p` stopped running on its stack (its context is saved, or it ended:
  /// `ended`). Returns a waiting sharer to make runnable, if any.
  static process* release(process* p, bool ended) noexcept;

  /// Frees `p`'s copied-out frames, if it died with some (runtime shutdown).
  static void forget(process* p) noexcept;

 private:
  stack_pool& pool_;
  const std::size_t count_;
  const std::size_t bytes_;
  std::unique_ptr<shared_stack[]> stacks_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace troupe::detail
