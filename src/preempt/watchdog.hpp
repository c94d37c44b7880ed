#pragma once
// The watchdog: one runtime thread that ends slices (as Go's sysmon does).
// Schedulers publish when each slice starts (scheduler::slice_seq); a
// scheduler whose process has run for a whole slice gets its thread's
// troupe_preempt_flag set, which the process's next safe point sees (code
// built with troupe_preemptible, or troupe_safe_point() by hand). A process
// that holds on past runtime_options::long_schedule without reaching one is
// logged and counted (OTP's long_schedule), and a spare thread stands in
// for its scheduler: it takes the processes queued there, and the operating
// system time-slices the holder against it until the holder yields; it also
// fires the held scheduler's due timers. So it
// does for a scheduler lent to a wait of the runtime's own (scheduler_loan).
// See docs/scheduling.md.
//
// It ticks every half slice while some process has held its scheduler
// across a tick, slows to a millisecond when none has for a while, and
// sleeps without a timeout while every scheduler is parked: an idle runtime
// costs it nothing.

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "parker.hpp"

namespace troupe::detail {

class runtime_impl;
class scheduler;

class watchdog {
 public:
  explicit watchdog(runtime_impl& rt);
  void start();
  /// Stops and joins the thread (after the schedulers have stopped).
  void stop() noexcept;
  /// A scheduler stopped being parked: the watchdog may be asleep for good.
  void scheduler_woke() noexcept {
    if (asleep_.load(std::memory_order_seq_cst)) parker_.unpark();
  }
  /// Asks every running process to yield at its next safe point (shutdown).
  void preempt_all() noexcept;


 private:
  struct observed {
    std::uint32_t seq = 0;
    std::int64_t since = 0;  // when this slice was first seen running
    bool flagged = false;
    bool noted_long = false;
    std::int64_t cpu_at_flag = -1;  // its thread's CPU time when it was asked to yield
  };
  void loop();
  template <class F>
  void for_each_thread(F&& f);
  [[nodiscard]] int spares_standing_in() const noexcept;
  void balance_spares(int held) noexcept;
  static void mark_held(scheduler& s, bool held) noexcept;
  static std::int64_t thread_cpu_ns(const scheduler& s) noexcept;
  void note_long_schedule(scheduler& s, std::uint32_t seq, std::int64_t held_ns) noexcept;

  runtime_impl& rt_;
  std::vector<observed> seen_;
  std::int64_t slice_ns_ = 0;
  std::int64_t long_ns_ = 0;
  parker parker_;
  std::atomic<bool> asleep_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace troupe::detail
