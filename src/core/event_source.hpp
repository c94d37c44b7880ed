#pragma once
// Events from outside the runtime (the net layer's socket readiness) that
// the schedulers poll themselves, as Go's schedulers poll its netpoller: a
// scheduler whose queue runs dry looks at the source without waiting, the
// first to park waits in it instead of on its futex, and the watchdog looks
// when no scheduler has for a while. So an event's handler runs on the
// thread that then runs the process it wakes: no thread of the source's own
// to hand it over from, and nothing polled while the runtime is idle except
// the one wait.

#include <atomic>
#include <cstdint>
#include <thread>

namespace troupe::detail {

std::int64_t now_ns() noexcept;  // scheduler.cpp

class event_source {
 public:
  virtual ~event_source() = default;
  /// Handles what is ready now, without waiting. True if it handled anything.
  virtual bool poll() noexcept = 0;
  /// Waits until something is ready, interrupt() is called or `timeout_ns`
  /// passes (< 0: no timeout), and handles what is ready.
  virtual void wait(std::int64_t timeout_ns) noexcept = 0;
  /// Ends a wait() under way, or makes the next one return at once. Any thread.
  virtual void interrupt() noexcept = 0;
};

/// A runtime's place for one event source: attached by the layer that makes
/// it, detached before it is destroyed, used by the schedulers meanwhile.
/// One thread at a time is in the source, to poll it or to wait in it:
/// Asio's io_context, polled by one thread while another waits in it, left
/// the waiter asleep on a condition variable instead of in epoll_wait.
class event_slot {
 public:
  void attach(event_source* e) noexcept { source_.store(e, std::memory_order_seq_cst); }

  /// After this, no thread is in the source or will enter it.
  void detach() noexcept {
    event_source* e = source_.exchange(nullptr, std::memory_order_seq_cst);
    if (!e) return;
    while (users_.load(std::memory_order_seq_cst) != 0) {
      e->interrupt();
      std::this_thread::yield();
    }
  }

  [[nodiscard]] bool attached() const noexcept { return source_.load(std::memory_order_relaxed) != nullptr; }

  /// Takes the source for `who`; false if none is attached or another
  /// thread is in it (then that thread handles what is ready).
  bool enter(const void* who) noexcept {
    if (!attached()) return false;
    const void* none = nullptr;
    return holder_.compare_exchange_strong(none, who, std::memory_order_seq_cst);
  }
  void leave() noexcept { holder_.store(nullptr, std::memory_order_seq_cst); }
  /// Whether some thread is in the source now.
  [[nodiscard]] bool held() const noexcept { return holder_.load(std::memory_order_seq_cst) != nullptr; }

  /// Polls without waiting if no other thread is in the source; true if
  /// anything was handled.
  bool poll(const void* who, std::int64_t now) noexcept {
    if (!enter(who)) return false;
    last_poll_.store(now, std::memory_order_relaxed);
    bool any = false;
    use([&](event_source& e) { any = e.poll(); });
    leave();
    return any;
  }

  /// Polls if nobody has for `stale_ns` (the watchdog's look at a busy runtime).
  void poll_if_stale(const void* who, std::int64_t now, std::int64_t stale_ns) noexcept {
    if (now - last_poll_.load(std::memory_order_relaxed) >= stale_ns && !held()) poll(who, now);
  }

  /// Waits in the source (entered first); false if none is attached.
  bool wait(std::int64_t timeout_ns) noexcept {
    return use([&](event_source& e) {
      e.wait(timeout_ns);
      last_poll_.store(now_ns(), std::memory_order_relaxed);
    });
  }

  /// Ends `who`'s wait if it is in the source (a scheduler's unpark).
  void interrupt_if_in(const void* who) noexcept {
    if (holder_.load(std::memory_order_seq_cst) == who) use([](event_source& e) { e.interrupt(); });
  }

 private:
  template <class F>
  bool use(F&& f) noexcept {
    users_.fetch_add(1, std::memory_order_seq_cst);
    event_source* e = source_.load(std::memory_order_seq_cst);
    if (e) f(*e);
    users_.fetch_sub(1, std::memory_order_release);
    return e != nullptr;
  }

  std::atomic<event_source*> source_{nullptr};
  std::atomic<int> users_{0};
  std::atomic<const void*> holder_{nullptr};
  std::atomic<std::int64_t> last_poll_{0};
};

}  // namespace troupe::detail
