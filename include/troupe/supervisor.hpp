#pragma once
// troupe/supervisor.hpp — OTP's supervisor: starts children in order, watches
// them, restarts what crashed by a strategy, and gives up (escalates) when
// restarts come too fast.
//
//   std::vector<troupe::child_spec> children{
//       troupe::worker("cache", [] { return cache::start_link(); }),
//       troupe::worker("api", [] { return api::start_link(8080); }),
//   };
//   auto sup = troupe::supervisor::start_link({.strategy = troupe::one_for_one}, children);
//
// See docs/behaviours.md for the rules and where troupe differs from OTP.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "troupe/gen_server.hpp"
#include "troupe/pid.hpp"
#include "troupe/start_result.hpp"

namespace troupe {

/// When a child is restarted: always (permanent), only after an abnormal
/// exit — not normal, shutdown or {shutdown,_} — (transient), never (temporary).
enum class restart_type : unsigned char { permanent, transient, temporary };

enum class child_type : unsigned char { worker, supervisor };

/// How a child is stopped: killed at once (brutal_kill), or sent `shutdown`
/// and killed if it is not gone after `timeout` (infinity: never killed).
struct shutdown_policy {
  bool brutal = false;
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);

  static shutdown_policy brutal_kill() noexcept { return {true, std::chrono::nanoseconds(0)}; }
  static shutdown_policy after(std::chrono::nanoseconds t) noexcept { return {false, t}; }
  static shutdown_policy never_kill() noexcept { return {false, infinity}; }
};

/// One child (OTP's child specification). `start` runs in the supervisor
/// and must start the child linked to it (a start_link) and say how that
/// went. `shutdown` defaults as OTP's: 5 s for a worker, infinity for a
/// supervisor.
struct child_spec {
  std::string id;
  std::function<start_result<pid>()> start;
  restart_type restart = restart_type::permanent;
  std::optional<shutdown_policy> shutdown;
  child_type type = child_type::worker;
};

/// A worker child spec.
child_spec worker(std::string id, std::function<start_result<pid>()> start,
                  restart_type restart = restart_type::permanent);
/// A child spec for a supervisor child (shutdown: infinity).
child_spec supervisor_child(std::string id, std::function<start_result<pid>()> start,
                            restart_type restart = restart_type::permanent);

enum class strategy : unsigned char {
  one_for_one,   // restart the child that died
  one_for_all,   // stop the others (reverse order), restart all (in order)
  rest_for_one,  // stop those started after it, restart it and them
};
inline constexpr strategy one_for_one = strategy::one_for_one;
inline constexpr strategy one_for_all = strategy::one_for_all;
inline constexpr strategy rest_for_one = strategy::rest_for_one;

/// The supervisor's flags. More than `max_restarts` restarts within
/// `max_seconds` and the supervisor stops its children and exits with
/// `shutdown`. The default is Elixir's, 3 in 5 s (OTP's is 1 in 5 s).
struct supervisor_flags {
  troupe::strategy strategy = troupe::strategy::one_for_one;
  int max_restarts = 3;
  std::chrono::milliseconds max_seconds = std::chrono::seconds(5);
};

/// One row of which_children.
struct child_info {
  std::string id;
  pid child;  // null when not running
  child_type type = child_type::worker;
};

/// count_children's answer.
struct child_counts {
  std::size_t specs = 0, active = 0, supervisors = 0, workers = 0;
};

/// What terminate_child and delete_child answer.
enum class child_result : unsigned char { ok, not_found, running };

namespace detail {
class supervisor_server;
}

/// A supervisor's functions (OTP's supervisor module). `sup` is a
/// supervisor's pid; each function is a call to it.
class supervisor {
 public:
  /// Starts a supervisor linked to the caller; its children start in order
  /// before this returns. An invalid spec (an empty or duplicate id, no start
  /// function, max_restarts < 0, max_seconds <= 0) is an error result that
  /// says what is wrong; so is a child that fails to start (the children
  /// already started are stopped first): {shutdown,{failed_to_start_child,Id,Reason}}.
  static start_result<pid> start_link(supervisor_flags flags, std::vector<child_spec> children,
                                      const server_options& options = {});
  /// Adds and starts a child: already_present if its id is taken by a child
  /// that is not running, already_started (holder: its pid) if running.
  static start_result<pid> start_child(pid sup, child_spec spec);
  /// Stops a child (by its shutdown policy); it stays in the specs.
  static child_result terminate_child(pid sup, const std::string& id);
  /// Starts a stopped child again: `running` if it runs, `not_found`.
  static start_result<pid> restart_child(pid sup, const std::string& id);
  /// Removes a stopped child's spec: `running` if it runs, `not_found`.
  static child_result delete_child(pid sup, const std::string& id);
  static std::vector<child_info> which_children(pid sup);
  static child_counts count_children(pid sup);
};

}  // namespace troupe
