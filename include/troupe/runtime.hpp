#pragma once
// troupe/runtime.hpp — starting and stopping the runtime.

#include <cstddef>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "troupe/detail/forced_exit.hpp"
#include "troupe/links.hpp"
#include "troupe/process.hpp"

namespace troupe {

/// Settings of a runtime.
struct runtime_options {
  /// Scheduler threads; 0 means one per core (std::thread::hardware_concurrency).
  unsigned schedulers = 0;
  /// Size of the process table: the most processes alive at once. Costs only
  /// address space until used.
  std::size_t max_processes = std::size_t{1} << 24;
  /// Idle schedulers spin this long looking for work before they park.
  std::chrono::microseconds spin_before_park{50};
  /// Live processes that get a stack of their own. Processes started while
  /// this many have one (and asking for no more than the default stack size)
  /// take turns on `shared_stacks` stacks instead, for life: while one waits,
  /// its live frames (a few hundred bytes for a process blocked in receive)
  /// are kept in the heap, and they are copied back when it runs again after
  /// another sharer. That makes an idle process cost about 1 KiB instead of a
  /// 4 KiB stack page, at the price of two copies per such switch. See
  /// docs/design.md. SIZE_MAX: never share.
  std::size_t dedicated_stacks = 65536;
  /// How many stacks the sharers spread over (made on first use).
  std::size_t shared_stacks = 256;
  /// How long a process runs before the watchdog asks it to yield at its
  /// next safe point (code built with troupe_preemptible, or
  /// troupe_safe_point()). Runtime calls also end a slice after a budget of
  /// reductions, whichever comes first. See docs/scheduling.md.
  std::chrono::microseconds time_slice{200};
  /// A process that has held its scheduler this long without reaching a safe
  /// point is logged (once per episode) and counted in process_info's
  /// long_schedules, as OTP's system_monitor long_schedule reports, and a
  /// spare thread takes the processes queued behind it. Sanitizer builds,
  /// where a slice of reductions alone can last longer than 5 ms, default to
  /// 100 ms.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::chrono::milliseconds long_schedule{100};
#else
  std::chrono::milliseconds long_schedule{5};
#endif
  /// Threads that may stand in for schedulers whose thread is held (by a
  /// process past long_schedule, or in troupe::blocking), so that the
  /// processes queued behind it run meanwhile. Started when first needed.
  unsigned spare_threads = 16;
  /// Threads troupe::blocking runs calls on, at most (started when needed).
  /// A call made while all are busy waits for one.
  unsigned blocking_threads = 64;
};

namespace detail {
class runtime_impl;
}

/// The runtime: scheduler threads, process table, stacks and timers. One
/// runtime exists at a time in a program (like one BEAM per OS process); the
/// free functions (spawn, send, ...) act on it. Destroying it shuts down
/// cleanly: every process still alive is ended (a process blocked in receive is
/// unwound, its destructors run), then the schedulers stop and all memory is
/// returned. A process that loops without ever calling into the runtime
/// (send, receive, yield, consume_reductions, ...) cannot be stopped.
class runtime {
 public:
  /// Throws std::logic_error if a runtime exists already, std::system_error
  /// if the scheduler threads cannot be started (none is left running).
  explicit runtime(runtime_options opts = {});
  /// Shuts down (see above). Destroying the runtime from inside one of its
  /// processes cannot work (shutdown waits for every process): it throws
  /// std::logic_error and the runtime keeps running.
  ~runtime() noexcept(false);
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Number of scheduler threads.
  [[nodiscard]] unsigned schedulers() const noexcept;
  /// Processes currently alive.
  [[nodiscard]] std::size_t process_count() const noexcept;

  /// Blocks the calling thread until no process is alive. Throws
  /// std::logic_error when called from a process (it would wait for itself).
  void wait_idle();

  /// Runs `f(args...)` in a new process and blocks the calling (non-process)
  /// thread until it returns; returns its result or rethrows its exception
  /// (a process_error with the reason if it was ended by an exit signal).
  /// Throws std::logic_error when called from a process (it would block a
  /// scheduler thread; spawn and receive instead).
  template <class F, class... Args>
  auto run(F&& f, Args&&... args) -> std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...> {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    if (in_process()) throw std::logic_error("troupe::runtime::run: called from inside a process");
    // Shared, because the process may still be leaving set_value() when the
    // caller wakes and returns.
    auto done = std::make_shared<std::promise<R>>();
    auto result = done->get_future();
    spawn(
        [done](auto&& fn, auto&&... a) {
          try {
            // What the body sent is in its receivers' mailboxes by the time
            // run returns.
            if constexpr (std::is_void_v<R>) {
              std::invoke(fn, std::move(a)...);
              detail::hand_over_sends();
              done->set_value();
            } else {
              R r = std::invoke(fn, std::move(a)...);
              detail::hand_over_sends();
              done->set_value(std::forward<R>(r));
            }
          } catch (...) {
            detail::hand_over_sends();
            if (!detail::handling_forced_exit()) {
              done->set_exception(std::current_exception());
              return;
            }
            // Ended by an exit signal or exit/1: the caller gets the reason,
            // and the process still exits with it (its links and monitors
            // see it). A forced exit passes over named handlers, so its
            // reason is read by raising it once more, as an ordinary throw.
            try {
              std::rethrow_exception(std::current_exception());
            } catch (const detail::forced_exit& e) {
              done->set_exception(std::make_exception_ptr(process_error(e.reason)));
            }
            throw;
          }
        },
        std::forward<F>(f), std::forward<Args>(args)...);
    return result.get();
  }

 private:
  std::unique_ptr<detail::runtime_impl> impl_;
};

}  // namespace troupe
