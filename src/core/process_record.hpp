#pragma once
// The process record: everything a process is apart from its stack. It is the
// whole cost of a process that has no stack, so it is kept small; records live
// in the process table and are reused, never freed, while the runtime lives.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "eh_state.hpp"
#include "fiber_switch.hpp"
#include "mailbox.hpp"
#include "troupe/detail/forced_exit.hpp"
#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"
#include "troupe/process.hpp"

namespace troupe::detail {

class scheduler;
class process_heap;
struct process_ext;
struct shared_stack;
struct timer_node;

enum class pstate : std::uint32_t {
  free,           // slot unused
  runnable,       // in a run queue (or about to be)
  running,        // on a scheduler
  waiting_msg,    // parked in receive (the mailbox word holds the wake-up)
  waiting_timer,  // parked in sleep_for: only its timer (or a signal) wakes it
  resting,        // a message handler waiting with no stack: its body runs afresh on the next message
  exiting,
};

/// Why a process switched away from its stack.
enum class switch_reason : std::uint8_t { yield, wait_msg, wait_timer, rest, exit, stack_overflow, abandon };

/// How far a process is on its way out after the runtime decided it must end
/// (an exit signal it does not trap, shutdown, exit/1, max_heap_size).
enum class doom : std::uint8_t {
  none,
  pending,  // decided, not raised yet: it was unwinding, or in a call that must not throw
  raised,   // forced_exit thrown; the process is unwinding (or swallowed it)
};

/// Signals: asynchronous requests checked at every runtime call.
enum signal_bits : std::uint32_t {
  sig_shutdown = 1u << 0,  // the runtime is stopping
  sig_exit = 1u << 1,      // exit signals wait in the process's ext
  sig_doomed = 1u << 2,    // the process must end (never cleared): keeps every runtime call on the slow path
  sig_listing = 1u << 3,   // process_info(p, n) waits in the mailbox for an answer
  sig_blocking_done = 1u << 4,  // the blocking pool ran its troupe::blocking call
  // Its wait's timer fired: set before the timer claims the process, so that
  // a process still switching into that wait (the claim fails) sees it once
  // parked, in after_switch, and wakes itself.
  sig_timer_wake = 1u << 5,
};



inline constexpr std::uint8_t preempt_deferred = 0x80;
inline constexpr std::uint8_t no_preempt_depth = 0x7f;

struct stack_slot {
  char* lo = nullptr;   // lowest usable byte (the guard page is just below)
  std::uint32_t size = 0;  // usable bytes
  std::uint8_t size_class = 0;
  bool guarded = true;  // false: past the mapping budget, watched by a canary
};

struct alignas(64) process {
  // -- line 1: what senders and wakers touch, plus fields the owner sets once
  // per life. The owner writes nothing here per message, so a busy receiver
  // does not pull this line away from the cores sending to it. --
  mailbox mbox;                          // 8 bytes
  std::atomic<std::uint32_t> generation{0};
  std::atomic<pstate> state{pstate::free};
  std::atomic<std::uint32_t> wait_seq{0};  // identifies the current wait, for its timer
  std::atomic<std::uint32_t> mbox_counted{0};  // the backlog the owner last wrote into mbox
  std::uint32_t index = 0;
  std::atomic<std::uint32_t> stack_request{0};  // bytes asked for at spawn (atomic for process_info)
  stack_slot stack;
  closure* body = nullptr;
  // Links, monitors, name, pending exit signals: made on first use, then
  // kept with the slot (reset, not freed, when the process exits), so other
  // threads can reach it without racing with its release.
  std::atomic<process_ext*> ext{nullptr};
  // -- lines 2 and 3: owned by the process and its scheduler --
  alignas(64) mpsc_node saved;           // .next heads the messages already pulled from mbox
  std::atomic<mpsc_node*>* saved_tail = &saved.next;
  fcontext_t ctx = nullptr;              // null until first run
  eh_state eh;                           // its exception-handling state while switched out
  std::atomic<mpsc_node*> handling{nullptr};  // messages whose handlers run (see node_guard)
  scheduler* sched = nullptr;
  process_heap* heap = nullptr;          // created on first use
  timer_node* wait_timer = nullptr;
  process* next_free = nullptr;          // link in a free list, or in a shared stack's waiters
  // The stack it takes turns on, if it has none of its own (set once per
  // life; atomic for process_info).
  std::atomic<shared_stack*> share{nullptr};
  char* frames = nullptr;                // its live frames, while another sharer's are on the stack
  std::atomic<std::uint64_t> reductions{0};  // written by the owner, read by process_info
  std::atomic<std::uint32_t> saved_count{0};  // messages on the saved list
  std::int32_t budget = 0;
  // Checked at every runtime call, so it lives with what the owner touches;
  // signals are rare, and their senders can afford the miss.
  std::atomic<std::uint32_t> signals{0};
  std::atomic<bool> trap_exit{false};
  switch_reason reason = switch_reason::yield;
  bool crash_noted = false;  // ext->crash_message is set (cleared by the next receive)
  doom doomed = doom::none;   // owner only
  bool finishing = false;     // its body is done: it only cleans up on the way out
  bool rest_requested = false;  // owner only: its body returns to rest, not to exit (detail::rest_on_return)
  std::uint8_t doomed_slices = 0;  // slices ended with a doom pending (see charge_quietly)
  // Owner only: troupe::no_preempt_scope's open (low 7 bits) and whether a
  // safe point inside them wanted to yield (preempt_deferred). One byte: the
  // record has no other room.
  std::uint8_t no_preempt = 0;
  std::uint16_t forced_alive = 0;  // its forced_exit objects in existence
  bool has_suspend_hooks = false;  // owner only: work queued for its next switch (suspend_hooks.hpp)
#ifdef TROUPE_TSAN
  void* tsan_fiber = nullptr;
#endif

  [[nodiscard]] troupe::pid pid() const noexcept {
    return troupe::pid(index, generation.load(std::memory_order_relaxed));
  }
};
#ifndef TROUPE_TSAN
static_assert(sizeof(process) <= 192, "keep the process record within three cache lines");
#else
static_assert(sizeof(process) <= 256, "ThreadSanitizer's fiber handle may cost a fourth line");
#endif
static_assert(offsetof(process, saved) == 64, "senders' fields fill the first cache line alone");

}  // namespace troupe::detail
