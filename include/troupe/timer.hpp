#pragma once
// troupe/timer.hpp — send_after, cancel_timer, sleep_for.
//
// Timers live in a heap per scheduler (no thread per timer); a million pending
// timers cost a million small nodes and nothing else.

#include <chrono>
#include <cstdint>
#include <utility>

#include "troupe/detail/message_node.hpp"
#include "troupe/pid.hpp"

namespace troupe {

namespace detail {
struct timer_node;
void timer_retain(timer_node*) noexcept;
void timer_release(timer_node*) noexcept;
}  // namespace detail

/// Handle to a pending `send_after`. Copyable; the timer itself does not depend
/// on the handle (dropping every handle does not cancel it).
class timer_ref {
 public:
  timer_ref() noexcept = default;
  explicit timer_ref(detail::timer_node* n) noexcept : n_(n) {}  // adopts one reference
  timer_ref(const timer_ref& o) noexcept : n_(o.n_) {
    if (n_) detail::timer_retain(n_);
  }
  timer_ref(timer_ref&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  timer_ref& operator=(timer_ref o) noexcept {
    std::swap(n_, o.n_);
    return *this;
  }
  ~timer_ref() {
    if (n_) detail::timer_release(n_);
  }
  explicit operator bool() const noexcept { return n_ != nullptr; }
  detail::timer_node* node() const noexcept { return n_; }

 private:
  detail::timer_node* n_ = nullptr;
};

namespace detail {
timer_ref start_send_timer(pid to, std::int64_t deadline_ns, message_node* m);
void sleep_until_ns(std::int64_t deadline_ns);
std::int64_t deadline_after(std::chrono::nanoseconds timeout) noexcept;
}  // namespace detail

/// Sends `msg` to `to` after `delay` (Erlang's erlang:send_after/3). The message
/// is built now and owned by the timer until it fires. Callable from a process
/// or from any thread while a runtime exists.
template <class Rep, class Period, class T>
timer_ref send_after(pid to, std::chrono::duration<Rep, Period> delay, T&& msg) {
  using V = std::remove_cvref_t<T>;
  static_assert(!std::is_pointer_v<V>, "troupe::send_after: raw pointers cannot be messages");
  static_assert(detail::sendable_v<V>, "troupe::send_after: a message must be a move-constructible value type");
  return detail::start_send_timer(to, detail::deadline_after(std::chrono::duration_cast<std::chrono::nanoseconds>(delay)),
                                  detail::make_message<V>(std::forward<T>(msg)));
}

/// Cancels a pending timer. Returns true if it was cancelled before firing,
/// false if it had already fired or been cancelled.
bool cancel_timer(const timer_ref& t) noexcept;

/// Suspends the calling process for `d` without touching its mailbox.
/// Outside a process, sleeps the calling thread.
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  detail::sleep_until_ns(detail::deadline_after(std::chrono::duration_cast<std::chrono::nanoseconds>(d)));
}

}  // namespace troupe
