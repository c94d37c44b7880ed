#pragma once
// troupe/timer.hpp — send_after, cancel_timer, sleep_for.
//
// Timers live in a heap per scheduler (no thread per timer); a million pending
// timers cost a million small nodes and nothing else.

#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "troupe/detail/message_node.hpp"
#include "troupe/detail/saturating_ns.hpp"
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
/// or from any thread while a runtime exists. A message must meet send's rules
/// (no pointers, arrays or views; a noexcept destructor). A delay too long to
/// represent in nanoseconds (about 292 years) means never; a negative one, now.
template <class Rep, class Period, class T>
timer_ref send_after(pid to, std::chrono::duration<Rep, Period> delay, T&& msg) {
  using V = std::remove_cvref_t<T>;
  // The rules of send (see there), one static_assert each.
  constexpr detail::message_error why = detail::message_error_of<V, T&&>();
  static_assert(why != detail::message_error::pointer,
                "troupe::send_after: raw pointers cannot be messages (the receiver must own what it gets; send a "
                "value, e.g. std::string instead of const char*, or a std::unique_ptr)");
  static_assert(why != detail::message_error::array,
                "troupe::send_after: arrays cannot be messages (for a string literal send std::string; for an array, "
                "std::array or std::vector)");
  static_assert(why != detail::message_error::non_owning,
                "troupe::send_after: a message must own its data, and this type only refers to data the sender owns "
                "(std::string_view, std::span, std::reference_wrapper, or a troupe::is_non_owning type): "
                "send an owning copy, e.g. std::string or std::vector");
  static_assert(why != detail::message_error::not_movable,
                "troupe::send_after: a message must be move-constructible (it is moved into the receiver's mailbox)");
  static_assert(why != detail::message_error::throwing_destructor,
                "troupe::send_after: a message's destructor must be noexcept (the runtime destroys messages where an "
                "exception cannot go anywhere)");
  static_assert(why != detail::message_error::not_constructible,
                "troupe::send_after: the message cannot be copied from this argument; std::move it in");
  if constexpr (why == detail::message_error::ok) {
    return detail::start_send_timer(to, detail::deadline_after(detail::saturating_ns(delay)),
                                    detail::make_message<V>(detail::owned(std::forward<T>(msg))));
  } else {
    return {};
  }
}

/// Cancels a pending timer. Returns true if it was cancelled before firing,
/// false if it had already fired or been cancelled.
bool cancel_timer(const timer_ref& t) noexcept;

/// Suspends the calling process for `d` without touching its mailbox.
/// Outside a process, sleeps the calling thread. A duration too long to
/// represent in nanoseconds sleeps forever (an exit signal still ends it).
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  detail::sleep_until_ns(detail::deadline_after(detail::saturating_ns(d)));
}

}  // namespace troupe
