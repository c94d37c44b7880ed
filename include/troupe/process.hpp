#pragma once
// troupe/process.hpp — the hot path: spawn, send, self, yield, reductions.
// Cheap to include; receive lives in receive.hpp, timers in timer.hpp.

#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "troupe/detail/message_node.hpp"
#include "troupe/pid.hpp"
#include "troupe/spawn_options.hpp"

namespace troupe {

class monitor_ref;

/// Reductions a process may spend before it is preempted (as on the BEAM).
inline constexpr int reductions_per_slice = 4000;

namespace detail {

/// A spawned function with its arguments, type-erased for the runtime.
struct closure {
  void (*run)(closure*);
  void (*destroy)(closure*) noexcept;
};

template <class Fn>
struct closure_impl final : closure {
  Fn fn;
  explicit closure_impl(Fn&& f) : fn(std::move(f)) {
    run = [](closure* c) { static_cast<closure_impl*>(c)->fn(); };
    destroy = [](closure* c) noexcept {
      auto* self = static_cast<closure_impl*>(c);
      self->~closure_impl();
      free_raw(self, sizeof(closure_impl), alignof(closure_impl));
    };
  }
};

template <class Fn>
closure* make_closure(Fn&& fn) {
  using C = closure_impl<std::decay_t<Fn>>;
  void* mem = allocate_raw(sizeof(C), alignof(C));
  try {
    return ::new (mem) C(std::forward<Fn>(fn));
  } catch (...) {
    free_raw(mem, sizeof(C), alignof(C));
    throw;
  }
}

// f(args...) as a closure that owns f and the arguments.
template <class F, class... Args>
closure* bind_closure(F&& f, Args&&... args) {
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "spawn: f must be callable with the given arguments");
  auto body = [fn = std::forward<F>(f), tup = std::tuple<std::decay_t<Args>...>(owned(std::forward<Args>(args))...)]() mutable {
    std::apply([&](auto&... a) { std::invoke(fn, std::move(a)...); }, tup);
  };
  return make_closure(std::move(body));
}

// Starts `c` in a new process; with `monitor`, the caller monitors it and
// the reference is stored there before the child can run.
pid spawn_closure(const spawn_options& opts, closure* c, monitor_ref* monitor = nullptr);
void deliver(pid to, message_node* m);
// Hands the messages the calling process holds back for a receiver that is
// behind (see docs/design.md, "The outbox") to that receiver now: for a
// process about to tell another thread, outside troupe, that it is done.
void hand_over_sends() noexcept;

}  // namespace detail

/// Starts a new process running `f(args...)` and returns its pid. Arguments are
/// moved (or copied) into the process. Callable from inside a process or from
/// any thread while a runtime exists; throws std::logic_error otherwise, and
/// std::system_error if no stack or process slot can be had. The process exits
/// with reason `normal` when `f` returns; an exception escaping `f` ends this
/// process only (it is logged, and the reason carries what()). Costs 10 reductions.
template <class F, class... Args>
pid spawn(const spawn_options& opts, F&& f, Args&&... args) {
  return detail::spawn_closure(opts, detail::bind_closure(std::forward<F>(f), std::forward<Args>(args)...));
}

template <class F, class... Args>
  requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>)
pid spawn(F&& f, Args&&... args) {
  return spawn(spawn_options{}, std::forward<F>(f), std::forward<Args>(args)...);
}

/// The calling process's pid; the null pid outside any process.
pid self() noexcept;

/// True when called from inside a process.
bool in_process() noexcept;

/// Sends `msg` to `to`: it is moved (or copied, from an lvalue) into a message
/// owned by the receiver from then on. Never blocks, never takes a lock.
/// Sending to a dead pid is a silent no-op, as in Erlang. Messages from one
/// sender to one receiver arrive in the order sent. Costs 1 reduction.
/// A message must own what it carries: raw pointers, arrays, views
/// (std::string_view, std::span, ... see troupe::is_non_owning) and types
/// whose destructor may throw are rejected at compile time.
template <class T>
void send(pid to, T&& msg) {
  using V = std::remove_cvref_t<T>;
  // One static_assert per rule (see troupe::is_non_owning for views); the
  // message is built only if all hold, so a broken one gives one error.
  constexpr detail::message_error why = detail::message_error_of<V, T&&>();
  static_assert(why != detail::message_error::pointer,
                "troupe::send: raw pointers cannot be messages (the receiver must own what it gets; send a value, "
                "e.g. std::string instead of const char*, or a std::unique_ptr)");
  static_assert(why != detail::message_error::array,
                "troupe::send: arrays cannot be messages (for a string literal send std::string; for an array, "
                "std::array or std::vector)");
  static_assert(why != detail::message_error::non_owning,
                "troupe::send: a message must own its data, and this type only refers to data the sender owns "
                "(std::string_view, std::span, std::reference_wrapper, or a troupe::is_non_owning type): "
                "send an owning copy, e.g. std::string or std::vector");
  static_assert(why != detail::message_error::not_movable,
                "troupe::send: a message must be move-constructible (it is moved into the receiver's mailbox)");
  static_assert(why != detail::message_error::throwing_destructor,
                "troupe::send: a message's destructor must be noexcept (the runtime destroys messages where an "
                "exception cannot go anywhere)");
  static_assert(why != detail::message_error::not_constructible,
                "troupe::send: the message cannot be copied from this argument; std::move it in");
  if constexpr (why == detail::message_error::ok) detail::deliver(to, detail::make_message<V>(detail::owned(std::forward<T>(msg))));
}

/// Gives up the rest of this slice: the process goes to the back of its run
/// queue. Use it (or consume_reductions) at safe points in long loops.
void yield();

/// Charges `n` reductions to the calling process and yields if its slice is
/// spent. A no-op outside a process.
void consume_reductions(int n = 1);

/// Total reductions the calling process has spent since it started.
std::uint64_t reductions() noexcept;

}  // namespace troupe
