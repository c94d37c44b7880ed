#pragma once
// The exit path's side of call monitors (troupe/detail/call_monitor.hpp).

#include "process_ext.hpp"
#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"

namespace troupe::detail {

/// `me` (whose ext is `x`, already marked exiting) is dying of `reason`:
/// every caller watching it gets its down message, sent under x's lock so
/// that a demonitor_call that finds its watch gone finds the message too.
void end_call_watches(process_ext& x, troupe::pid me, const exit_reason& reason) noexcept;

/// The dying owner of `x` takes its own watch off its target, if it is on.
void drop_own_call_watch(process_ext& x) noexcept;

}  // namespace troupe::detail
