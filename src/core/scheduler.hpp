#pragma once
// A scheduler: one thread, its run queue, its timers, and the fiber switches
// into and out of the processes it runs.

#include <algorithm>
#include <atomic>
#include <climits>
#include <ctime>
#include <chrono>
#include <cstdint>
#include <thread>

#include <concurrentqueue/concurrentqueue.h>

#include "eh_state.hpp"
#include "fiber_switch.hpp"
#include "outbox.hpp"
#include "parker.hpp"
#include "process_record.hpp"
#include "process_table.hpp"
#include "run_queue.hpp"
#include "runnext_slot.hpp"
#include "small_mutex.hpp"
#include "stack_pool.hpp"
#include "timer_heap.hpp"

namespace troupe::detail {

class runtime_impl;

/// CLOCK_MONOTONIC, in nanoseconds.
std::int64_t now_ns() noexcept;

class scheduler {
 public:
  /// A `spare` runs processes only while the watchdog has it stand in for a
  /// scheduler whose thread is held (see src/preempt/watchdog.hpp).
  scheduler(runtime_impl& rt, unsigned id, bool spare = false);
  void start();
  void join();

  /// Makes `p` (just woken or spawned by the running code) the next process
  /// to run here; the one it displaces goes to the back of the queue.
  void run_next(process* p);
  /// Appends `p` to this scheduler's queue (owner thread only).
  void push_local(process* p);
  /// Arms a timer on this scheduler (owner thread only).
  void add_timer(timer_node* n);
  /// Hands a timer operation to this scheduler from another thread; `wake`
  /// when the scheduler must re-plan its sleep (a new timer, not a cancel).
  void post_timer(timer_node* n, bool wake);
  /// Cancels a timer this scheduler owns (owner thread only).
  void drop_timer(timer_node* n) noexcept;

  /// Wakes the thread if parked, or waiting in the runtime's event source
  /// (for new work, posted timers and shutdown).
  void unpark() noexcept;

  /// Run by whatever resumes after a switch on this thread: settles the
  /// process that switched away (`from` is its saved context).
  void after_switch(fcontext_t from);

  /// From the fault handler: `p` ran into its guard page. Switches to the
  /// loop, which ends it; never returns.
  [[noreturn]] void abandon_overflowed(process* p) noexcept;

  /// Frees everything still held after the thread has stopped.
  void release_leftovers() noexcept;

  runtime_impl& rt;
  const unsigned id;
  const bool spare;
  process* current = nullptr;  // the process on this thread, if any
  fcontext_t ctx = nullptr;    // this thread's loop, while a process runs
  fiber_info thread_fiber;     // this thread's own stack (for sanitizers)
  eh_state* eh = nullptr;      // this thread's C++ exception-handling state
  record_cache records;
  stack_pool::cache stacks;
  outbox out;  // the running process's messages to a receiver behind (see outbox.hpp)
  // Stacks of their own taken (+) and given back (-) on this thread; their
  // sum over schedulers is how many are in use. Written by the owner only.
  alignas(64) std::atomic<std::int64_t> own_stacks{0};  // its own line: read by every starting scheduler

  // Idle bookkeeping, guarded by runtime_impl's idle mutex.
  alignas(64) bool in_idle_list = false;

  // What the watchdog (src/preempt/watchdog.hpp) watches; written by the
  // owner at every slice start, so on a line of their own.
  alignas(64) std::atomic<std::uint32_t> slice_seq{0};  // slices started here
  std::atomic<bool> in_process{false};                  // a process runs (not the loop)
  std::atomic<process*> running{nullptr};               // the process of the current slice
  std::atomic<unsigned char*> preempt_flag{nullptr};    // this thread's troupe_preempt_flag
  std::atomic<clockid_t> cpu_clock{-1};  // this thread's CPU-time clock (set as it starts)
  // Read by every thread that looks for work, written seldom: not on the
  // line the owner writes at every switch.
  alignas(64) std::atomic<bool> held{false};  // the watchdog counts it held (or lent): spares fire its timers
  std::atomic<bool> standing_in{false};       // a spare the watchdog has at work
  std::atomic<std::uint32_t> lent{0};         // scheduler_loans open (src/preempt)
  /// Spares: put it to work (starting its thread the first time), or send
  /// it back to rest, where it hands its queue to the others (watchdog only).
  void stand_in();
  void stand_down() noexcept;
  [[nodiscard]] bool started() const noexcept { return started_.load(std::memory_order_acquire); }
  /// Fires the due timers of `held_one`, a scheduler whose thread is held,
  /// waking their processes here (a spare at work only).
  void fire_timers_of(scheduler& held_one) noexcept { held_one.fire_due(*this); }
  /// Makes the running process yield at its next safe point (any thread).
  void request_preemption() noexcept {
    if (unsigned char* f = preempt_flag.load(std::memory_order_acquire)) __atomic_store_n(f, 1, __ATOMIC_RELAXED);
  }

 private:
  friend class runtime_impl;
  void loop();
  process* next_local() noexcept;
  process* find_work();
  process* steal() noexcept;
  process* take_global() noexcept;
  void dispatch(process* p);
  bool prepare(process* p);
  process* pick_direct();
  void requeue(process* p);
  bool start_process(process* p);
  bool over_stack_budget() noexcept;
  bool enter_shared(process* p);
  void make_context(process* p);
  void leave_shared(process* p, bool ended);
  void finish(process* p) noexcept;
  // Gives back the stack of a process that is done with it (ends, or rests).
  void release_stack(process* p) noexcept;
  void finish_overflowed(process* p) noexcept;
  void finish_abandoned(process* p, const exit_reason& reason, bool report) noexcept;
  static void arm_canary(process* p) noexcept;
  static bool canary_intact(const process* p) noexcept;
  void run_timers() { fire_due(*this); }
  // Its heap's due timers, fired by `runner` (itself, or a spare standing in).
  void fire_due(scheduler& runner) noexcept;
  void fire(timer_node* n) noexcept;
  [[nodiscard]] bool timer_due() const noexcept {
    const std::int64_t due = next_due_.load(std::memory_order_acquire);
    return due != no_timer && due <= now_ns();
  }
  // Nanoseconds to the first timer (0 if due), or -1 with none.
  [[nodiscard]] std::int64_t until_first_timer() const noexcept {
    const std::int64_t due = next_due_.load(std::memory_order_acquire);
    return due == no_timer ? -1 : std::max<std::int64_t>(0, due - now_ns());
  }
  void note_next_due() noexcept {  // under timers_mu_
    next_due_.store(timers_.empty() ? no_timer : timers_.top()->deadline, std::memory_order_release);
  }
  void stop_spinning() noexcept;
  process* find_work_standing_in();
  void rest_as_spare();
  void hand_back_queue() noexcept;
  std::atomic<bool> started_{false};

  friend void switch_out(process* p, switch_reason why);

  run_queue runq_;
  process* pending_prev_ = nullptr;  // switched away from; after_switch() settles it
  runnext_slot runnext_;  // a spare may take it from a held scheduler
  std::int32_t slice_left_ = 0;
  std::uint32_t tick_ = 0;
  std::uint32_t rng_;
  std::uint32_t budget_checks_ = 0;
  std::int64_t others_stacks_ = 0;  // the other schedulers' own_stacks, as last read
  bool spinning_ = false;
  parker parker_;
  // The heap is the owner's, but a spare fires its due timers while the
  // owner's thread is held: each use takes the lock (uncontended but then),
  // and next_due_ lets the owner look without it.
  static constexpr std::int64_t no_timer = INT64_MAX;
  small_mutex timers_mu_;
  std::atomic<std::int64_t> next_due_{no_timer};
  timer_heap timers_;
  moodycamel::ConcurrentQueue<timer_node*> posted_timers_;
  std::atomic<std::uint32_t> posted_count_{0};
  std::thread thread_;
};

/// The scheduler of the calling thread, or nullptr. Not inlined: a fiber may
/// resume on another thread, and a cached thread-local address would be stale.
scheduler* current_scheduler() noexcept;

/// The process running on the calling thread, or nullptr.
inline process* current_process() noexcept {
  scheduler* s = current_scheduler();
  return s ? s->current : nullptr;
}

/// Switches from the running process `p` back to its scheduler; returns when
/// the process is resumed (possibly on another thread).
void switch_out(process* p, switch_reason why);

/// A time no earlier than now_ns() and later by less than one kernel tick
/// (CLOCK_MONOTONIC_COARSE plus its resolution), read without the TSC. For
/// deadlines of at least `coarse_enough`, where a tick late does not matter.
std::int64_t coarse_now_ns() noexcept;
inline constexpr std::chrono::nanoseconds coarse_enough = std::chrono::seconds(1);

}  // namespace troupe::detail
