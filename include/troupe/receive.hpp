#pragma once
// troupe/receive.hpp — selective receive.
//
//   troupe::receive(
//       [](int n) { ... },                                   // by type
//       troupe::when([](const job& j) { return j.urgent; },  // by type and guard
//                    [](job j) { ... }),
//       troupe::after(100ms, [] { ... }));                   // timeout
//
// The first message in the mailbox that any clause accepts is removed and its
// handler runs; messages no clause accepts stay where they are, in order.

#include <chrono>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "troupe/detail/handler_traits.hpp"
#include "troupe/detail/message_node.hpp"

namespace troupe {

/// A clause that accepts a message of the handler's argument type only when
/// `guard(const T&)` returns true. Guards must not have side effects: within one
/// receive a message is tested once.
template <class G, class F>
struct guarded_clause {
  G guard;
  F handler;
};
template <class G, class F>
guarded_clause<std::decay_t<G>, std::decay_t<F>> when(G&& guard, F&& handler) {
  return {std::forward<G>(guard), std::forward<F>(handler)};
}

/// The timeout clause of a receive: runs `handler()` when no message matched
/// within `timeout`. `after(0ms, ...)` polls without waiting.
template <class F>
struct after_clause {
  std::chrono::nanoseconds timeout;
  F handler;
};
template <class Rep, class Period, class F>
after_clause<std::decay_t<F>> after(std::chrono::duration<Rep, Period> timeout, F&& handler) {
  return {std::chrono::duration_cast<std::chrono::nanoseconds>(timeout), std::forward<F>(handler)};
}

namespace detail {

/// Receive state over the calling process's mailbox. Messages already pulled
/// from the mailbox form the process's "saved" list; `link` is the link to the
/// next message this receive has not tested yet, `tail` the process's pointer
/// to the list's last link.
struct recv_cursor {
  void* proc;
  std::atomic<mpsc_node*>* link;
  std::atomic<mpsc_node*>** tail;
  std::atomic<std::uint32_t>* saved_count;  // for process_info
  std::atomic<mpsc_node*>* handling;        // messages whose handlers are running
};
recv_cursor recv_begin();
/// Pulls newly arrived messages onto the saved list; the first of them, or nullptr.
message_node* recv_pull(recv_cursor& c) noexcept;
/// Parks until a new message arrives (true) or the deadline passes (false).
/// deadline_ns: absolute steady-clock time; -1 waits forever, 0 polls.
bool recv_wait(recv_cursor& c, std::int64_t deadline_ns);

/// The next message to test, or nullptr if there is none yet.
inline message_node* recv_peek(recv_cursor& c) noexcept {
  if (mpsc_node* n = c.link->load(std::memory_order_relaxed)) return static_cast<message_node*>(n);
  return recv_pull(c);
}
inline void recv_skip(recv_cursor& c) noexcept { c.link = &c.link->load(std::memory_order_relaxed)->next; }
/// Unlinks the message at the cursor; the caller owns it.
inline message_node* recv_take(recv_cursor& c) noexcept {
  auto* m = static_cast<message_node*>(c.link->load(std::memory_order_relaxed));
  mpsc_node* const next = m->next.load(std::memory_order_relaxed);
  // A long saved list is a chain of cache misses; start the one after next.
  if (next) __builtin_prefetch(next->next.load(std::memory_order_relaxed));
  c.link->store(next, std::memory_order_relaxed);
  if (*c.tail == &m->next) *c.tail = c.link;
  c.saved_count->store(c.saved_count->load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  return m;
}
std::int64_t deadline_after(std::chrono::nanoseconds timeout) noexcept;

template <class C>
struct is_after : std::false_type {};
template <class F>
struct is_after<after_clause<F>> : std::true_type {};

template <class C>
struct clause_traits {  // a plain handler
  using handler_type = C;
  using msg = typename handler_traits<C>::msg_type;
  using result = typename handler_traits<C>::result_type;
};
template <class G, class F>
struct clause_traits<guarded_clause<G, F>> {
  using handler_type = F;
  using msg = typename handler_traits<F>::msg_type;
  using result = typename handler_traits<F>::result_type;
};
template <class F>
struct clause_traits<after_clause<F>> {
  using result = std::invoke_result_t<F&>;
};

template <class R>
struct result_box {
  std::optional<R> value;
  bool done() const noexcept { return value.has_value(); }
  template <class F, class... A>
  void run(F& f, A&&... a) {
    value.emplace(std::invoke(f, std::forward<A>(a)...));
  }
  R take() { return std::move(*value); }
};
template <>
struct result_box<void> {
  bool finished = false;
  bool done() const noexcept { return finished; }
  template <class F, class... A>
  void run(F& f, A&&... a) {
    std::invoke(f, std::forward<A>(a)...);
    finished = true;
  }
  void take() noexcept {}
};

template <class C>
const auto& guard_of(const C&) noexcept {
  static constexpr auto always = [](const auto&) { return true; };
  return always;
}
template <class G, class F>
const G& guard_of(const guarded_clause<G, F>& c) noexcept {
  return c.guard;
}
template <class C>
C& handler_of(C& c) noexcept {
  return c;
}
template <class G, class F>
F& handler_of(guarded_clause<G, F>& c) noexcept {
  return c.handler;
}

template <class R, class C>
bool try_clause(C& clause, message_node* m, recv_cursor& cur, result_box<R>& box) {
  if constexpr (is_after<C>::value) {
    return false;
  } else {
    using T = typename clause_traits<C>::msg;
    using Arg = typename handler_traits<typename clause_traits<C>::handler_type>::arg_type;
    if (m->type != type_of<T>()) return false;
    if (!guard_of(clause)(std::as_const(payload<T>(m)))) return false;
    node_guard owner(recv_take(cur), cur.handling);
    try {
      box.run(handler_of(clause), static_cast<Arg&&>(payload<T>(m)));
    } catch (...) {
      note_crash_message(m);  // for the crash report, should it escape the process
      throw;
    }
    return true;
  }
}

template <class... Cs>
using receive_result_t = std::common_type_t<typename clause_traits<Cs>::result...>;

template <class R, class... Cs>
R receive_impl(Cs&... cs) {
  constexpr std::size_t n_after = (std::size_t{is_after<Cs>::value} + ... + 0);
  static_assert(n_after <= 1, "troupe::receive: at most one after() clause");
  std::int64_t deadline = -1;
  if constexpr (n_after == 1) {
    (
        [&] {
          if constexpr (is_after<Cs>::value) deadline = deadline_after(cs.timeout);
        }(),
        ...);
  }
  recv_cursor cur = recv_begin();
  result_box<R> box;
  for (;;) {
    while (message_node* m = recv_peek(cur)) {
      if ((try_clause<R>(cs, m, cur, box) || ...)) return box.take();
      recv_skip(cur);
    }
    if (!recv_wait(cur, deadline)) break;
  }
  if constexpr (n_after == 1) {
    (
        [&] {
          if constexpr (is_after<Cs>::value) box.run(cs.handler);
        }(),
        ...);
  }
  return box.take();
}

}  // namespace detail

/// Selective receive. Each clause is a handler taking one message type (by
/// value, reference or rvalue reference), a `when(guard, handler)`, or one
/// `after(timeout, handler)`. Takes the first message in the mailbox that some
/// clause accepts (clauses are tried in order for each message) and returns its
/// handler's result; waits without spinning if there is none. Must be called
/// from inside a process (std::logic_error otherwise). Costs 1 reduction.
template <class... Cs>
  requires(sizeof...(Cs) > 0)
auto receive(Cs&&... clauses) {
  using R = detail::receive_result_t<std::decay_t<Cs>...>;
  return detail::receive_impl<R>(clauses...);
}

/// Waits for the first message of type T and returns it.
template <class T>
T receive() {
  return receive([](T&& v) -> T { return std::move(v); });
}

/// Waits at most `timeout` for a message of type T.
template <class T, class Rep, class Period>
std::optional<T> receive_for(std::chrono::duration<Rep, Period> timeout) {
  return receive([](T&& v) -> std::optional<T> { return std::optional<T>(std::move(v)); },
                 after(timeout, [] { return std::optional<T>(); }));
}

}  // namespace troupe
