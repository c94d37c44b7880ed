#pragma once
// The runtime's shared state: process table, stacks, schedulers, the global
// run queue and the idle/wake-up protocol.

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
#include "scheduler.hpp"
#include "shared_stacks.hpp"
#include "stack_pool.hpp"
#include "troupe/runtime.hpp"

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

  void process_started() noexcept { live_.fetch_add(1, std::memory_order_relaxed); }
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
  global_queue global_q;

  std::atomic<int> nidle{0};
  std::atomic<int> nspinning{0};
  std::mutex idle_mu;
  std::vector<scheduler*> idle_list;

  std::atomic<std::uint64_t> next_ref{1};  // monitor references

  /// Registered names (see registry.cpp).
  void unregister_name(const std::string& name, troupe::pid owner) noexcept;
  std::mutex names_mu;
  std::unordered_map<std::string, troupe::pid> names;

  std::atomic<bool> stopping{false};
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

/// Takes a parked process (in receive or sleep_for) for waking; true if this
/// caller must now schedule it.
bool claim_wait(process* p) noexcept;

/// Handles `p`'s pending signals (the slow path of check_signals): throws
/// forced_exit if it must exit, turns trapped exit signals into messages.
void act_on_signals(process* p);

/// Queues an exit signal for `target` and wakes it if it is parked.
void post_exit_signal(troupe::pid target, troupe::pid from, const exit_reason& reason, bool from_link);

/// Everything that follows a process's death: links, monitors, name, the
/// crash report. Runs as the process's last act (or, after a stack overflow,
/// on its scheduler).
void exit_process(process* p, const exit_reason& reason) noexcept;

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

/// Puts a message straight into `p`'s own mailbox (no reductions charged).
void push_to_self(process* p, message_node* m) noexcept;

/// Acts on pending signals (may throw forced_exit to unwind the process).
inline void check_signals(process* p) {
  if (p->signals.load(std::memory_order_relaxed) != 0) [[unlikely]]
    act_on_signals(p);
}

/// Charges reductions to `p` without switching: a spent slice ends at its
/// next runtime call.
inline void charge_later(process* p, int n) noexcept {
  p->reductions.store(p->reductions.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(n),
                      std::memory_order_relaxed);
  p->budget -= n;
}

/// Charges reductions to `p`, yielding when its slice is spent, and acts on
/// pending signals. Every runtime call made by a process goes through here.
inline void charge(process* p, int n) {
  charge_later(p, n);
  if (p->budget <= 0) [[unlikely]]
    switch_out(p, switch_reason::yield);
  check_signals(p);
}

}  // namespace troupe::detail
