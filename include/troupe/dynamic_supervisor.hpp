#pragma once
// troupe/dynamic_supervisor.hpp — OTP's simple_one_for_one (Elixir's
// DynamicSupervisor): children of one start function, started on demand
// with extra arguments, restarted with the same ones.
//
//   auto sessions = troupe::dynamic_supervisor<std::string>::start_link(
//       [](std::string user) { return session::start_link(std::move(user)); }).value();
//   troupe::pid s = sessions.start_child("ada").value();

#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "troupe/detail/supervision.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/supervisor.hpp"

namespace troupe {

/// A dynamic supervisor's settings: what every child is (restart, shutdown,
/// type), the restart intensity (as supervisor_flags), and the most children
/// it runs at once (start_child past it fails with `max_children`).
struct dynamic_options {
  restart_type restart = restart_type::permanent;
  std::optional<shutdown_policy> shutdown;
  child_type type = child_type::worker;
  int max_restarts = 3;
  std::chrono::milliseconds max_seconds = std::chrono::seconds(5);
  std::size_t max_children = std::numeric_limits<std::size_t>::max();
  server_options server{};
};

namespace detail {

template <class... Args>
struct dyn_start_req {
  std::tuple<Args...> args;
};
struct dyn_terminate_req {
  pid child;
};
struct dyn_which_req {};
struct dyn_count_req {};

template <class... Args>
class dynamic_supervisor_server : public gen_server<dynamic_supervisor_server<Args...>> {
  using base = gen_server<dynamic_supervisor_server<Args...>>;

 public:
  using start_fn = std::function<start_result<pid>(Args...)>;
  dynamic_supervisor_server(start_fn f, dynamic_options o)
      : start_(std::move(f)), opts_(std::move(o)), restarts_(opts_.max_restarts, opts_.max_seconds) {
    trap_exit(true);
  }

  start_result<pid> handle_call(dyn_start_req<Args...> req) {
    if (children_.size() >= opts_.max_children)
      return {start_status::error, pid{}, exit_reason::user("max_children")};
    start_result<pid> r = start(req.args);
    if (r) children_.emplace(r.handle(), std::move(req.args));
    return r;
  }

  child_result handle_call(dyn_terminate_req req) {
    auto it = children_.find(req.child);
    if (it == children_.end()) return child_result::not_found;
    children_.erase(it);
    shut_down_child(req.child, policy(), "undefined", opts_.restart, opts_.type);
    return child_result::ok;
  }

  std::vector<pid> handle_call(dyn_which_req) {
    std::vector<pid> out;
    out.reserve(children_.size());
    for (const auto& [p, a] : children_) out.push_back(p);
    return out;
  }

  child_counts handle_call(dyn_count_req) {
    const std::size_t n = children_.size();
    return {n, n, opts_.type == child_type::supervisor ? n : 0, opts_.type == child_type::worker ? n : 0};
  }

  next_action handle_info(exit_message e) {
    auto it = children_.find(e.from);
    if (it == children_.end()) return base::noreply();
    if (!e.reason.is_quiet()) report_supervisor("child_terminated", e.reason, e.from, "undefined", opts_.restart, opts_.type);
    std::tuple<Args...> args = std::move(it->second);
    children_.erase(it);
    const bool again = opts_.restart == restart_type::permanent ||
                       (opts_.restart == restart_type::transient && !e.reason.is_quiet());
    while (again) {
      if (!restarts_.add()) {
        report_supervisor("shutdown", exit_reason::user("reached_max_restart_intensity"), e.from, "undefined",
                          opts_.restart, opts_.type);
        return base::stop(exit_reason::shutdown());
      }
      start_result<pid> r = start(args);
      if (r) {
        children_.emplace(r.handle(), std::move(args));
        break;
      }
      if (r.status() == start_status::ignore) break;
      report_supervisor("start_error", r.reason(), pid{}, "undefined", opts_.restart, opts_.type);
    }
    return base::noreply();
  }

  void terminate(const exit_reason&) {
    // No order among dynamic children (OTP stops them all at once); one by one here.
    auto all = std::move(children_);
    for (const auto& [p, a] : all) shut_down_child(p, policy(), "undefined", opts_.restart, opts_.type);
  }

 private:
  shutdown_policy policy() const { return opts_.shutdown ? *opts_.shutdown : default_shutdown(opts_.type); }

  start_result<pid> start(const std::tuple<Args...>& args) {
    try {
      return std::apply(start_, args);
    } catch (...) {
      if (handling_forced_exit()) throw;
      return {start_status::error, pid{}, reason_from_current_exception()};
    }
  }

  start_fn start_;
  dynamic_options opts_;
  restart_window restarts_;
  std::unordered_map<pid, std::tuple<Args...>> children_;
};

}  // namespace detail

/// A handle on a running dynamic supervisor whose children start with
/// `Args...` (copied, and kept for restarts). Each member is a call to it.
template <class... Args>
class dynamic_supervisor {
  using server_t = detail::dynamic_supervisor_server<Args...>;

 public:
  using start_fn = std::function<start_result<troupe::pid>(Args...)>;

  dynamic_supervisor() = default;
  explicit dynamic_supervisor(troupe::pid p) noexcept : pid_(p) {}

  /// Starts one linked to the caller, with no children yet. `start` runs in
  /// the supervisor and must start_link the child.
  static start_result<dynamic_supervisor> start_link(start_fn start, dynamic_options opts = {}) {
    if (!start) return {start_status::error, {}, exit_reason::user("{start_spec,\"no start function\"}")};
    if (opts.max_restarts < 0 || opts.max_seconds.count() <= 0)
      return {start_status::error, {}, exit_reason::user("{start_spec,\"invalid restart intensity\"}")};
    const server_options so = opts.server;
    auto r = server_t::start_link(so, std::move(start), std::move(opts));
    return {r.status(), dynamic_supervisor(r.ok() ? r.handle().pid() : troupe::pid{}), r.reason(), r.holder()};
  }

  /// Starts a child with `args`; `{error,max_children}` past the limit.
  start_result<troupe::pid> start_child(Args... args) const {
    return call(ref(), detail::dyn_start_req<Args...>{std::tuple<Args...>(std::move(args)...)}, infinity);
  }
  /// Stops a child by pid: ok, or not_found.
  child_result terminate_child(troupe::pid child) const { return call(ref(), detail::dyn_terminate_req{child}, infinity); }
  [[nodiscard]] std::vector<troupe::pid> which_children() const { return call(ref(), detail::dyn_which_req{}, infinity); }
  [[nodiscard]] child_counts count_children() const { return call(ref(), detail::dyn_count_req{}, infinity); }

  [[nodiscard]] troupe::pid pid() const noexcept { return pid_; }
  explicit operator bool() const noexcept { return static_cast<bool>(pid_); }

 private:
  [[nodiscard]] troupe::server<server_t> ref() const noexcept { return troupe::server<server_t>(pid_); }
  troupe::pid pid_;
};

}  // namespace troupe

template <class... Args>
struct fmt::formatter<troupe::dynamic_supervisor<Args...>> : fmt::formatter<troupe::pid> {
  template <class Ctx>
  auto format(const troupe::dynamic_supervisor<Args...>& s, Ctx& ctx) const {
    return fmt::formatter<troupe::pid>::format(s.pid(), ctx);
  }
};
