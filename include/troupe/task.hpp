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
// task.

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "troupe/gen_server.hpp"
#include "troupe/links.hpp"
#include "troupe/process.hpp"
#include "troupe/receive.hpp"

namespace troupe {

namespace detail {

template <class T>
struct task_result {
  monitor_ref ref;
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
  [[nodiscard]] monitor_ref ref() const noexcept { return ref_; }
  explicit operator bool() const noexcept { return static_cast<bool>(ref_); }

 private:
  friend struct task_access;
  async_task(pid p, monitor_ref r) noexcept : pid_(p), ref_(r) {}
  pid pid_;
  monitor_ref ref_;
};

struct task_access {
  template <class T>
  static async_task<T> make(pid p, monitor_ref r) noexcept {
    return async_task<T>(p, r);
  }
  template <class T>
  static void clear(async_task<T>& t) noexcept {
    t.ref_ = monitor_ref();
  }
};

namespace task_detail {

template <class F>
auto start(F&& f, bool link) {
  using T = std::invoke_result_t<std::decay_t<F>&>;
  using M = detail::task_result<T>;
  const pid owner = self();
  // The monitor is set before the task runs; the task learns its reference
  // from its first message.
  spawn_options opts;
  opts.link = link;
  auto [p, ref] = spawn_monitor(opts, [owner, link, fn = std::forward<F>(f)]() mutable {
    const monitor_ref r = receive([](monitor_ref m) { return m; });
    try {
      if constexpr (std::is_void_v<T>) {
        fn();
        send(owner, M{r, detail::no_value{}, nullptr});
      } else {
        send(owner, M{r, fn(), nullptr});
      }
    } catch (const detail::forced_exit&) {
      throw;
    } catch (...) {
      if (link) unlink(owner);  // the awaiter gets the exception; the link must not kill it first
      send(owner, M{r, std::nullopt, std::current_exception()});
      throw;
    }
  });
  send(p, ref);
  return task_access::make<T>(p, ref);
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
  auto got = receive(
      when([ref](const M& m) { return m.ref == ref; }, [](M&& m) { return std::optional<std::optional<M>>(std::move(m)); }),
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
  std::optional<M> got = receive(when([ref](const M& m) { return m.ref == ref; }, [](M&& m) { return std::optional<M>(std::move(m)); }),
                                 after(std::chrono::nanoseconds(0), [] { return std::optional<M>(); }));
  demonitor(ref, /*flush=*/true);
  task_access::clear(t);
  if (!got || got->error) return std::nullopt;
  return std::move(got->value);
}

}  // namespace task

}  // namespace troupe
