#pragma once
// The runtime's shared state: process table, stacks, schedulers, the global
// run queue and the idle/wake-up protocol.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "global_queue.hpp"
#include "process_table.hpp"
#include "event_source.hpp"
#include "runtime_services.hpp"
#include "scheduler.hpp"
#include "shared_stacks.hpp"
#include "stack_pool.hpp"
#include "troupe/runtime.hpp"
#include "blocking_pool.hpp"
#include "watchdog.hpp"

namespace troupe::detail {

class runtime_impl {
 public:
  explicit runtime_impl(const runtime_options& opts);
  ~runtime_impl();

  /// Queues `p` from outside any scheduler, waking one if needed.
  void inject(process* p);
  /// After work was queued where other schedulers can take it: wake an idle
  /// one if nobody is already looking for work.
  void notify_work() noexcept;
  void wake_one() noexcept;

  /// Wakes `p` if it waits for a message or timer (after a signal was set).
  void wake_for_signal(process* p);

  /// Counts a process about to start; false (and nothing counted) when
  /// max_processes are alive.
  bool admit_process() noexcept {
    const auto limit = static_cast<std::int64_t>(std::min<std::size_t>(opts.max_processes, INT64_MAX));
    if (live_.fetch_add(1, std::memory_order_relaxed) < limit) return true;
    process_exited();
    return false;
  }
  void process_exited() noexcept;
  [[nodiscard]] std::size_t live() const noexcept {
    return static_cast<std::size_t>(live_.load(std::memory_order_acquire));
  }
  void wait_idle();
  void shutdown();
  /// Live processes with a stack of their own (approximate while they change).
  [[nodiscard]] std::int64_t dedicated_stacks_in_use() const noexcept;

  runtime_options opts;
  process_table table;
  stack_pool stacks;
  shared_stacks sharing;
  std::vector<std::unique_ptr<scheduler>> scheds;
  // Threads that stand in for schedulers held by a process that does not
  // yield, or lent to a blocking call (src/preempt/watchdog.hpp). Made at
  // start, their threads on first use.
  std::vector<std::unique_ptr<scheduler>> spares;
  global_queue global_q;

  watchdog dog{*this};  // after scheds: it sizes itself by them at start
  blocking_pool blocking{*this};
  event_slot events;  // polled by the schedulers (src/net's sockets; see event_source.hpp)
  runtime_services services;  // the layers' (src/net's poller), stopped after the processes

  std::atomic<int> nidle{0};
  std::atomic<int> nspinning{0};
  std::mutex idle_mu;
  std::vector<scheduler*> idle_list;


  /// Registered names (see registry.cpp).
  void unregister_name(const std::string& name, troupe::pid owner) noexcept;
  std::mutex names_mu;
  std::unordered_map<std::string, troupe::pid> names;

  std::atomic<bool> stopping{false};
  std::atomic<unsigned> next_timer_owner{0};  // spreads plain threads' timers
  std::atomic<bool> quit{false};
  std::int64_t spin_ns = 50'000;

 private:
  std::atomic<std::int64_t> live_{0};
  std::mutex live_mu_;
  std::condition_variable live_cv_;
  bool stopped_ = false;
};

/// The runtime, while one exists.
extern std::atomic<runtime_impl*> the_runtime;

/// Brackets a spawn or a timer started from a thread that is not a scheduler.
/// Once shutdown has begun they are refused (std::logic_error): otherwise a
/// plain thread that keeps spawning would keep shutdown from ending, and
/// what it started after the last sweep would never run nor be freed.
/// The count of such calls in flight is global: it is raised before the
/// runtime is looked at, so the runtime cannot be destroyed under one.
class outside_call {
 public:
  explicit outside_call(const char* what) {
    in_flight.fetch_add(1, std::memory_order_seq_cst);
    rt_ = the_runtime.load(std::memory_order_seq_cst);
    if (!rt_ || rt_->stopping.load(std::memory_order_seq_cst)) {
      in_flight.fetch_sub(1, std::memory_order_seq_cst);
      refuse(what, rt_ != nullptr);
    }
  }
  ~outside_call() { in_flight.fetch_sub(1, std::memory_order_seq_cst); }
  outside_call(const outside_call&) = delete;
  outside_call& operator=(const outside_call&) = delete;

  [[nodiscard]] runtime_impl& runtime() const noexcept { return *rt_; }
  /// Waits until no call is in flight (shutdown, and the runtime's end).
  static void drain() noexcept;

 private:
  [[noreturn]] static void refuse(const char* what, bool stopping);
  static std::atomic<int> in_flight;
  runtime_impl* rt_;
};

/// For tests: the index of a scheduler thread whose start fails as if the
/// system refused it (-1: none).
extern std::atomic<int> fail_scheduler_start;

/// Takes a parked process (in receive or sleep_for) for waking; true if this
/// caller must now schedule it.
bool claim_wait(process* p) noexcept;

/// Handles `p`'s pending signals (the slow path of check_signals): turns
/// trapped exit signals into messages, and decides when the process must end.
/// With `may_throw` it raises that end as forced_exit to unwind the process,
/// unless it is unwinding already; without, it only notes it (for calls made
/// from destructors: send, exit/2, ...). A process that swallowed its
/// forced_exit and came back is ended here without unwinding (abandon).
void act_on_signals(process* p, bool may_throw);

/// Ends the running process `p` from its own stack without unwinding it any
/// further: its links and monitors hear the doom reason, its heap, mailbox and
/// stack are reclaimed; objects it still owns elsewhere leak. Logs `why`.
[[noreturn]] void abandon(process* p, const char* why) noexcept;

/// Decides that `p` must end with `reason` (the first decision stands).
/// `reported`: the process's own failure, which gets a crash report.
void doom_process(process* p, exit_reason reason, bool reported) noexcept;

/// Queues signal `m` in `target`'s mailbox, sets `bit` and wakes the target
/// if it waits (in receive or sleep_for), so that it acts on the signal at
/// its next runtime call.
void post_signal(troupe::pid target, message_node* m, signal_bits bit);

/// Queues an exit signal for `target` and wakes it if it is parked.
void post_exit_signal(troupe::pid target, troupe::pid from, const exit_reason& reason, bool from_link);

/// Everything that follows a process's death: links, monitors, name, the
/// crash report. Runs as the process's last act (or, after a stack overflow,
/// on its scheduler).
/// `report`: the process failed by its own doing (an exception, exit/1, a
/// stack overflow): a crash report is logged unless the reason is quiet.
/// A process ended by an exit signal logs nothing, as in OTP.
void exit_process(process* p, const exit_reason& reason, bool report) noexcept;

/// Sends without charging anyone reductions (and so without ever switching):
/// for the runtime's own messages, possibly under a lock. Returns what
/// mailbox::push returned (0 if `to` is dead).
long post(troupe::pid to, message_node* m) noexcept;

/// Moves newly arrived messages to the end of `p`'s saved list (the owner
/// only); returns the first of them.
message_node* pull_mailbox(process* p) noexcept;

/// An exit signal met in the mailbox: returns the exit message to keep in
/// its place (trapped), or nullptr (it waits for act_on_signals, or it is
/// void because the link is gone). Consumes `envelope`.
message_node* take_signal(process* p, message_node* envelope) noexcept;

/// Cancels and lets go the timer `p` kept from its last wait with a deadline
/// (see arm_wake in timers.cpp), if any.
void drop_wait_timer(process* p) noexcept;

/// Hands the messages in `s`'s outbox (see outbox.hpp) to their receiver: at
/// every switch. (Calls that must see what the caller sent, process_info and
/// a process's exit, use detail::hand_over_sends.)
void hand_over_outbox(scheduler* s) noexcept;

/// Puts a message straight into `p`'s own mailbox (no reductions charged).
void push_to_self(process* p, message_node* m) noexcept;

/// Acts on pending signals (may throw forced_exit to unwind the process).
inline void check_signals(process* p) {
  if (p->signals.load(std::memory_order_relaxed) != 0) [[unlikely]]
    act_on_signals(p, /*may_throw=*/true);
}

/// Charges reductions to `p` without switching: a spent slice ends at its
/// next runtime call.
inline void charge_later(process* p, int n) noexcept {
  p->reductions.store(p->reductions.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(n),
                      std::memory_order_relaxed);
  p->budget -= n;
}

/// Charges reductions to `p`, yielding when its slice is spent, and acts on
/// pending signals. The calls a process waits or yields in (receive,
/// sleep_for, yield, consume_reductions) go through here: they may throw
/// forced_exit.
inline void charge(process* p, int n) {
  charge_later(p, n);
  if (p->budget <= 0) [[unlikely]]
    switch_out(p, switch_reason::yield);
  check_signals(p);
}

/// Lets `p` wait `ns` (a sender's punishment: see deliver) without acting on
/// signals, so that it may be called where a throw may not (a destructor's
/// send); a doomed or finishing process does not wait.
void pause_quietly(process* p, std::int64_t ns) noexcept;

/// The end of a slice of a doomed process in a call that must not throw.
void doomed_slice_end(process* p) noexcept;

/// charge, for calls that are made from destructors (send, exit/2, unlink,
/// demonitor, spawn, ...): never throws. An exit decided here is raised at
/// the process's next receive, sleep_for or yield; a process that makes none
/// for several slices is abandoned.
inline void charge_quietly(process* p, int n) noexcept {
  charge_later(p, n);
  if (p->budget <= 0) [[unlikely]] {
    if (p->doomed != doom::none) doomed_slice_end(p);
    switch_out(p, switch_reason::yield);
  }
  if (p->signals.load(std::memory_order_relaxed) != 0) [[unlikely]]
    act_on_signals(p, /*may_throw=*/false);
}

}  // namespace troupe::detail
