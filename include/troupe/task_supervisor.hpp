#pragma once
// troupe/task_supervisor.hpp — Elixir's Task.Supervisor: tasks started as
// children of a supervisor, so that a tree can stop them, and so that a task
// whose crash must not take its caller down still has an owner.
//
//   auto tasks = troupe::task::supervisor::start_link().value();   // in the tree
//   auto t = tasks.async_nolink([] { return fetch(url); });
//   try {
//     page = troupe::task::await(t);       // the value, or what fetch threw
//   } catch (const std::exception& e) { ... }  // the caller lives on
//
// Tasks are temporary children (never restarted), stopped with `shutdown`
// and 5 s of grace when the supervisor stops, as Elixir's. await, yield and
// shutdown from troupe/task.hpp work on the tasks it starts.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "troupe/dynamic_supervisor.hpp"
#include "troupe/task.hpp"

namespace troupe {

namespace task_detail {

/// A task's function, type-erased and copyable (a dynamic supervisor's
/// child arguments are), run once.
struct job {
  std::shared_ptr<void> fn;
  void (*run)(void*) = nullptr;
  void operator()() const { run(fn.get()); }
};

template <class F>
job make_job(F&& f) {
  using B = std::decay_t<F>;
  return job{std::make_shared<B>(std::forward<F>(f)), [](void* b) { (*static_cast<B*>(b))(); }};
}

}  // namespace task_detail

namespace task {

/// A task supervisor's settings.
struct supervisor_options {
  /// The most tasks running at once; starting one more fails (async and
  /// async_nolink throw call_error with the reason `max_children`).
  std::size_t max_children = std::numeric_limits<std::size_t>::max();
  /// How a task is stopped when the supervisor stops or terminate_child is
  /// asked; default `shutdown`, then a kill after 5 s.
  std::optional<shutdown_policy> shutdown;
  server_options server{};
};

/// A handle on a running task supervisor. Each member is a call to it.
class supervisor {
 public:
  supervisor() = default;
  explicit supervisor(troupe::pid p) noexcept : dyn_(p) {}

  /// Starts one linked to the caller (put it in a tree as a child whose
  /// start function returns this).
  static start_result<supervisor> start_link(supervisor_options o = {}) {
    dynamic_options d;
    d.restart = restart_type::temporary;
    d.shutdown = o.shutdown;
    d.max_children = o.max_children;
    d.server = o.server;
    auto r = dynamic_supervisor<task_detail::job>::start_link(
        [](task_detail::job j) { return start_result<troupe::pid>(start_status::ok, spawn_link(std::move(j))); },
        std::move(d));
    return {r.status(), supervisor(r.handle().pid()), r.reason(), r.holder()};
  }

  /// Runs `f()` as a child of the supervisor, linked to the caller and
  /// monitored by it: Elixir's Task.Supervisor.async.
  template <class F>
  auto async(F&& f) const {
    const troupe::pid owner = self();
    const std::uint64_t id = detail::new_ref();
    return start_task<task_detail::result_of<F>>(
        id, [owner, b = task_detail::body(owner, id, true, std::forward<F>(f))]() mutable {
          link(owner);  // dead already: the task ends (noproc) before it runs
          b();
        });
  }

  /// Runs `f()` as a child of the supervisor, monitored by the caller only:
  /// its crash does not end the caller, and await rethrows its exception.
  template <class F>
  auto async_nolink(F&& f) const {
    const std::uint64_t id = detail::new_ref();
    return start_task<task_detail::result_of<F>>(id, task_detail::body(self(), id, false, std::forward<F>(f)));
  }

  /// Runs `f()` as a child with no owner and no result: its crash is only
  /// reported. ok with the task's pid, or an error (max_children).
  template <class F>
  start_result<troupe::pid> start_child(F&& f) const {
    return dyn_.start_child(task_detail::make_job(std::forward<F>(f)));
  }

  /// The tasks running now.
  [[nodiscard]] std::vector<troupe::pid> children() const { return dyn_.which_children(); }
  /// Stops one task as the supervisor would: ok, or not_found.
  child_result terminate_child(troupe::pid task) const { return dyn_.terminate_child(task); }

  [[nodiscard]] troupe::pid pid() const noexcept { return dyn_.pid(); }
  explicit operator bool() const noexcept { return static_cast<bool>(dyn_); }

 private:
  // The result's id is made before the task starts, so a task that ends
  // before the caller's monitor is set still reaches it, ahead of the
  // monitor's noproc.
  template <class T, class B>
  async_task<T> start_task(std::uint64_t id, B&& b) const {
    const start_result<troupe::pid> r = dyn_.start_child(task_detail::make_job(std::forward<B>(b)));
    if (!r.ok()) throw call_error(r.reason(), pid(), "task::supervisor::async");
    const troupe::pid p = r.handle();
    return task_access::make<T>(p, monitor(p), id);
  }

  dynamic_supervisor<task_detail::job> dyn_;
};

}  // namespace task

}  // namespace troupe
