#pragma once
// troupe/task.hpp — Elixir's Task: run a function in a process of its own and
// await its result.
//
//   auto t = troupe::task::async([] { return expensive(); });   // async_task<int>
//   ...
//   int v = troupe::task::await(t);          // or rethrows what expensive() threw
//
// async links the task to its caller (a crash that escapes the task's
// function is delivered to the awaiter as the exception itself, and the task
// unlinks first so the exception, not the link, decides); async_nolink
// monitors only. await, yield and shutdown are for the process that made the
// task. troupe/task_supervisor.hpp runs tasks under a supervisor.

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/detail/alias.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/links.hpp"
#include "troupe/process.hpp"
#include "troupe/receive.hpp"

namespace troupe {

namespace detail {

template <class T>
struct task_result {
  std::uint64_t id;  // the task's (made before it was spawned)
  std::optional<reply_value_t<T>> value;
  std::exception_ptr error;
};

}  // namespace detail

/// A running (or finished) task whose function returns T (Elixir's %Task{}).
template <class T>
class async_task {
 public:
  async_task() = default;
  [[nodiscard]] pid process() const noexcept { return pid_; }
  /// The caller's monitor on the task.
  [[nodiscard]] monitor_ref ref() const noexcept { return ref_; }
  explicit operator bool() const noexcept { return static_cast<bool>(ref_); }

 private:
  friend struct task_access;
  async_task(pid p, monitor_ref r, std::uint64_t id) noexcept : pid_(p), ref_(r), id_(id) {}
  pid pid_;
  monitor_ref ref_;
  std::uint64_t id_ = 0;  // tags its result
};

struct task_access {
  template <class T>
  static async_task<T> make(pid p, monitor_ref r, std::uint64_t id) noexcept {
    return async_task<T>(p, r, id);
  }
  template <class T>
  static std::uint64_t id(const async_task<T>& t) noexcept {
    return t.id_;
  }
  template <class T>
  static void clear(async_task<T>& t) noexcept {
    t.ref_ = monitor_ref();
  }
};

namespace task_detail {

template <class F>
using result_of = std::invoke_result_t<std::decay_t<F>&>;

/// A task's process body: runs `fn` and sends its owner the result tagged
/// `id`, made by the owner before the task was spawned (so the task needs no
/// word from its owner before it runs). With `link`, the task is linked to
/// its owner and unlinks before it reports an exception, so that the
/// awaiter gets the exception and the link does not kill it first.
template <class F>
auto body(pid owner, std::uint64_t id, bool link, F&& f) {
  using T = result_of<F>;
  using M = detail::task_result<T>;
  return [owner, id, link, fn = std::forward<F>(f)]() mutable {
    try {
      if constexpr (std::is_void_v<T>) {
        fn();
        send(owner, M{id, detail::no_value{}, nullptr});
      } else {
        send(owner, M{id, fn(), nullptr});
      }
    } catch (...) {
      if (detail::handling_forced_exit()) throw;
      if (link) unlink(owner);
      send(owner, M{id, std::nullopt, std::current_exception()});
      throw;
    }
  };
}

template <class F>
auto start(F&& f, bool link) {
  const std::uint64_t id = detail::new_ref();
  spawn_options opts;
  opts.link = link;
  auto [p, ref] = spawn_monitor(opts, body(self(), id, link, std::forward<F>(f)));
  return task_access::make<result_of<F>>(p, ref, id);
}

template <class T>
T unwrap(detail::task_result<T>&& r) {
  if (r.error) std::rethrow_exception(r.error);
  if constexpr (!std::is_void_v<T>) return std::move(*r.value);
}

// The task's result, or its exit reason (down), or nothing by the deadline.
template <class T>
std::optional<std::optional<detail::task_result<T>>> wait(async_task<T>& t, std::chrono::nanoseconds timeout, exit_reason& down) {
  using M = detail::task_result<T>;
  const monitor_ref ref = t.ref();
  const std::uint64_t id = task_access::id(t);
  auto got = receive(
      when([id](const M& m) { return m.id == id; }, [](M&& m) { return std::optional<std::optional<M>>(std::move(m)); }),
      when([ref](const down_message& d) { return d.ref == ref; },
           [&down](down_message&& d) {
             down = std::move(d.reason);
             return std::optional<std::optional<M>>(std::optional<M>());
           }),
      after(timeout, [] { return std::optional<std::optional<M>>(); }));
  if (got && *got) demonitor(ref, /*flush=*/true);
  return got;
}

}  // namespace task_detail

namespace task {

/// Runs `f()` in a new process linked to the caller, monitored by it.
template <class F>
auto async(F&& f) {
  return task_detail::start(std::forward<F>(f), /*link=*/true);
}

/// Runs `f()` in a new process that is only monitored: its crash does not
/// end the caller (await still rethrows its exception).
template <class F>
auto async_nolink(F&& f) {
  return task_detail::start(std::forward<F>(f), /*link=*/false);
}

/// The task's value; rethrows its exception; raises call_error(timeout)
/// after `timeout` (the task is left running, as Elixir leaves it linked),
/// and call_error(reason) if it died without a result (killed, say).
template <class T>
T await(async_task<T>& t, std::chrono::nanoseconds timeout = default_call_timeout) {
  exit_reason down;
  auto r = task_detail::wait(t, timeout, down);
  if (!r) throw call_error(exit_reason::timeout(), t.process(), "await");
  task_access::clear(t);
  if (!*r) throw call_error(std::move(down), t.process(), "await");
  return task_detail::unwrap(std::move(**r));
}

/// The result if it comes within `timeout`, else nothing (the task runs on
/// and may be asked again). Rethrows its exception; call_error if it died
/// without a result.
template <class T>
std::optional<detail::reply_value_t<T>> yield(async_task<T>& t, std::chrono::nanoseconds timeout = std::chrono::nanoseconds(0)) {
  exit_reason down;
  auto r = task_detail::wait(t, timeout, down);
  if (!r) return std::nullopt;
  task_access::clear(t);
  if (!*r) throw call_error(std::move(down), t.process(), "yield");
  if constexpr (std::is_void_v<T>) {
    task_detail::unwrap(std::move(**r));
    return detail::no_value{};
  } else {
    return task_detail::unwrap(std::move(**r));
  }
}

/// Every task's value, in order, within one `timeout` for all.
template <class T>
  requires(!std::is_void_v<T>)
std::vector<T> await_many(std::vector<async_task<T>>& tasks, std::chrono::nanoseconds timeout = default_call_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<T> out;
  out.reserve(tasks.size());
  for (async_task<T>& t : tasks) {
    const auto left = std::max(std::chrono::nanoseconds(0),
                               std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now()));
    out.push_back(await(t, left));
  }
  return out;
}

/// Stops the task (unlinks, kills it) and drops its result and monitor;
/// returns the result if it had already come.
template <class T>
std::optional<detail::reply_value_t<T>> shutdown(async_task<T>& t) {
  if (!t) return std::nullopt;
  unlink(t.process());
  exit(t.process(), exit_reason::kill());
  using M = detail::task_result<T>;
  const monitor_ref ref = t.ref();
  const std::uint64_t id = task_access::id(t);
  std::optional<M> got = receive(when([id](const M& m) { return m.id == id; }, [](M&& m) { return std::optional<M>(std::move(m)); }),
                                 after(std::chrono::nanoseconds(0), [] { return std::optional<M>(); }));
  demonitor(ref, /*flush=*/true);
  task_access::clear(t);
  if (!got || got->error) return std::nullopt;
  return std::move(got->value);
}

}  // namespace task

}  // namespace troupe
