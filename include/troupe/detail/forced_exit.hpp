#pragma once
// The runtime's internal "this process must end" exception.

#include "troupe/exit_reason.hpp"

namespace troupe::detail {

/// Thrown inside a process to end it with `reason` (an exit signal, exit/1,
/// shutdown). Not a std::exception, so ordinary handlers do not swallow it.
struct forced_exit {
  exit_reason reason;
};

}  // namespace troupe::detail
