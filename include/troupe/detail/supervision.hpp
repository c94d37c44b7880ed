#pragma once
// What supervisor and dynamic_supervisor share: stopping a child by its
// policy, the restart window, and OTP's supervisor report.

#include <chrono>
#include <deque>
#include <string_view>

#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"
#include "troupe/supervisor.hpp"

namespace troupe::detail {

/// The policy a child gets when its spec names none (OTP's defaults).
shutdown_policy default_shutdown(child_type t) noexcept;

/// Stops a linked child of the calling (trapping) supervisor: monitor,
/// unlink, `shutdown` (or `kill` at once), kill after the timeout; waits for
/// it to be gone and drops its stale exit message. Reports a shutdown_error
/// if it ended otherwise than asked.
void shut_down_child(pid child, const shutdown_policy& policy, std::string_view id, restart_type restart,
                     child_type type);

/// More than `max` restarts within `period` is too many.
class restart_window {
 public:
  restart_window(int max, std::chrono::milliseconds period) : max_(max), period_(period) {}
  /// Counts one; false when that makes too many.
  bool add();

 private:
  int max_;
  std::chrono::milliseconds period_;
  std::deque<std::chrono::steady_clock::time_point> at_;
};

/// OTP's supervisor report (error level).
void report_supervisor(std::string_view context, const exit_reason& reason, pid child, std::string_view id,
                       restart_type restart, child_type type) noexcept;

}  // namespace troupe::detail
