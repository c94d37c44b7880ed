#pragma once
// troupe/receive.hpp — selective receive.
//
//   troupe::receive(
//       [](int n) { ... },                                   // by type
//       troupe::when([](const job& j) { return j.urgent; },  // by type and guard
//                    [](job j) { ... }),
//       troupe::after(100ms, [] { ... }),                    // timeout
//       [](const troupe::any_message& m) { ... });           // anything else
//
// The first message in the mailbox that any clause accepts is removed and its
// handler runs; messages no clause accepts stay where they are, in order.
// A clause that breaks the rules below gets one static_assert saying which.

#include <chrono>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "troupe/any_message.hpp"
#include "troupe/detail/handler_traits.hpp"
#include "troupe/detail/message_node.hpp"
#include "troupe/detail/saturating_ns.hpp"

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
/// within `timeout`. `after(0ms, ...)` polls without waiting; a timeout too
/// long to represent in nanoseconds (about 292 years) waits forever.
template <class F>
struct after_clause {
  std::chrono::nanoseconds timeout;
  F handler;
};
template <class Rep, class Period, class F>
after_clause<std::decay_t<F>> after(std::chrono::duration<Rep, Period> timeout, F&& handler) {
  return {detail::saturating_ns(timeout), std::forward<F>(handler)};
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

// Clause types are taken decayed: a function name is a function pointer, a
// const clause the same clause.
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

/// What is wrong with a receive, or `ok`; receive states the first problem
/// in one static_assert and instantiates nothing else.
enum class receive_error {
  ok,
  not_a_clause,
  generic_handler,
  no_parameter,
  several_parameters,
  unsendable_parameter,
  any_message_by_value,
  guard_signature,
  after_arguments,
  several_afters,
  no_common_result,
};

template <class F>
constexpr receive_error handler_error() noexcept {
  using tr = handler_traits<F>;
  if constexpr (tr::kind == handler_kind::ambiguous) return receive_error::generic_handler;
  else if constexpr (tr::kind == handler_kind::not_callable) return receive_error::not_a_clause;
  else if constexpr (tr::arity == 0) return receive_error::no_parameter;
  else if constexpr (tr::arity > 1) return receive_error::several_parameters;
  else if constexpr (std::is_same_v<typename tr::msg_type, any_message>)
    return std::is_reference_v<typename tr::arg_type> ? receive_error::ok : receive_error::any_message_by_value;
  else if constexpr (message_error_of<typename tr::msg_type>() != message_error::ok)
    return receive_error::unsendable_parameter;
  else return receive_error::ok;
}

template <class C>
struct clause_checker {
  static constexpr receive_error error() noexcept { return handler_error<C>(); }
};
template <class G, class F>
struct clause_checker<guarded_clause<G, F>> {
  static constexpr receive_error error() noexcept {
    if constexpr (handler_error<F>() != receive_error::ok) {
      return handler_error<F>();
    } else {
      using T = typename handler_traits<F>::msg_type;
      return std::is_invocable_r_v<bool, const G&, const T&> ? receive_error::ok : receive_error::guard_signature;
    }
  }
};
template <class F>
struct clause_checker<after_clause<F>> {
  static constexpr receive_error error() noexcept {
    return std::is_invocable_v<F&> ? receive_error::ok : receive_error::after_arguments;
  }
};

template <class... Rs>
concept have_common_type = requires { typename std::common_type<Rs...>::type; };

template <class... Cs>
constexpr receive_error receive_error_of() noexcept {
  constexpr receive_error first = [] {
    receive_error e = receive_error::ok;
    ((e = e == receive_error::ok ? clause_checker<Cs>::error() : e), ...);
    return e;
  }();
  // Each check below is made only if those before it passed: the result
  // types exist only when every clause is well-formed.
  if constexpr (first != receive_error::ok) {
    return first;
  } else if constexpr ((std::size_t{is_after<Cs>::value} + ... + 0) > 1) {
    return receive_error::several_afters;
  } else if constexpr (!have_common_type<typename clause_traits<Cs>::result...>) {
    return receive_error::no_common_result;
  } else {
    return receive_error::ok;
  }
}

template <class... Cs>
using receive_result_t = std::common_type_t<typename clause_traits<Cs>::result...>;

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
template <class G, class F>
const F& handler_of(const guarded_clause<G, F>& c) noexcept {
  return c.handler;
}

// Runs the clause's handler on the message at the cursor, which it takes.
template <class Arg, class R, class C, class V>
void run_clause(C& clause, recv_cursor& cur, result_box<R>& box, V& value) {
  message_node* const m = recv_take(cur);
  node_guard owner(m, cur.handling);
  try {
    box.run(handler_of(clause), static_cast<Arg&&>(value));
  } catch (...) {
    note_crash_message(m);  // for the crash report, should it escape the process
    throw;
  }
}

template <class R, class C>
bool try_clause(C& clause, message_node* m, recv_cursor& cur, result_box<R>& box) {
  using D = std::remove_cv_t<C>;
  if constexpr (is_after<D>::value) {
    return false;
  } else {
    using T = typename clause_traits<D>::msg;
    using Arg = typename handler_traits<typename clause_traits<D>::handler_type>::arg_type;
    if constexpr (std::is_same_v<T, any_message>) {
      any_message any = any_message_access::wrap(m);
      if (!guard_of(clause)(std::as_const(any))) return false;
      run_clause<Arg>(clause, cur, box, any);
    } else {
      if (m->type != type_of<T>()) return false;
      if (!guard_of(clause)(std::as_const(payload<T>(m)))) return false;
      run_clause<Arg>(clause, cur, box, payload<T>(m));
    }
    return true;
  }
}

template <class R, class... Cs>
R receive_impl(Cs&... cs) {
  constexpr std::size_t n_after = (std::size_t{is_after<std::remove_cv_t<Cs>>::value} + ... + 0);
  std::int64_t deadline = -1;
  if constexpr (n_after == 1) {
    (
        [&] {
          if constexpr (is_after<std::remove_cv_t<Cs>>::value) deadline = deadline_after(cs.timeout);
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
          if constexpr (is_after<std::remove_cv_t<Cs>>::value) box.run(cs.handler);
        }(),
        ...);
  }
  return box.take();
}

}  // namespace detail

/// Selective receive. Each clause is
/// - a handler with one parameter, the message type it accepts (by value,
///   reference or rvalue reference): a lambda with one non-template
///   operator(), a function or function pointer;
/// - a handler taking `any_message&` or `const any_message&`: accepts every
///   message (the catch-all, see any_message.hpp);
/// - `when(guard, handler)`: accepts a message of the handler's type (or any,
///   for an any_message handler) when `guard(const T&)` returns true;
/// - at most one `after(timeout, handler)`, handler taking no arguments.
/// Generic lambdas and overload sets (`overloaded{...}`) are not clauses:
/// receive cannot tell which message types they accept; write one lambda per
/// type. The handlers' results must have a common type, which receive returns.
///
/// Takes the first message in the mailbox that some clause accepts (clauses
/// are tried in order for each message) and returns its handler's result;
/// waits without spinning if there is none. Must be called from inside a
/// process (std::logic_error otherwise). Costs 1 reduction.
template <class... Cs>
  requires(sizeof...(Cs) > 0)
auto receive(Cs&&... clauses) {
  constexpr detail::receive_error why = detail::receive_error_of<std::decay_t<Cs>...>();
  using E = detail::receive_error;
  static_assert(why != E::not_a_clause,
                "troupe::receive: each clause must be a handler (a lambda or function taking the message), "
                "when(guard, handler) or after(timeout, handler)");
  static_assert(why != E::generic_handler,
                "troupe::receive: a handler must take one concrete message type; a generic lambda (auto "
                "parameter) or an overload set (overloaded{...}) cannot be matched against messages: write "
                "one lambda per message type, or take const troupe::any_message& to accept every message");
  static_assert(why != E::no_parameter,
                "troupe::receive: a handler must take the message as its one parameter (only an "
                "after(timeout, handler) handler takes none)");
  static_assert(why != E::several_parameters,
                "troupe::receive: a handler must take exactly one parameter, the message (to receive several "
                "values, send them as one struct or std::tuple)");
  static_assert(why != E::unsendable_parameter,
                "troupe::receive: a handler's parameter must be a type that can be sent (no pointers, arrays or "
                "views such as std::string_view, a noexcept destructor): no message would ever match it");
  static_assert(why != E::any_message_by_value,
                "troupe::receive: take troupe::any_message by reference (any_message& or const any_message&)");
  static_assert(why != E::guard_signature,
                "troupe::receive: a when() guard must be callable as const with a const T& of the handler's "
                "message type and return bool");
  static_assert(why != E::after_arguments, "troupe::receive: an after() handler takes no arguments");
  static_assert(why != E::several_afters, "troupe::receive: at most one after() clause");
  static_assert(why != E::no_common_result,
                "troupe::receive: the handlers' results must have a common type, which receive returns "
                "(make them return the same type, or all return void)");
  if constexpr (why == E::ok) {
    using R = detail::receive_result_t<std::decay_t<Cs>...>;
    return detail::receive_impl<R>(clauses...);
  }
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
