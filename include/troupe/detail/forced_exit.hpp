#pragma once
// The runtime's internal "this process must end" exception.

#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"

namespace troupe::detail {

/// Thrown inside a process to end it with `reason` (an exit signal, exit/1,
/// shutdown, max_heap_size). Not a std::exception, so ordinary handlers do not
/// swallow it. Each live object is counted by the process that threw it: once
/// none is left while the process goes on, the process swallowed its exit
/// (a `catch (...)` that did not rethrow), and the runtime ends it at its next
/// runtime call without unwinding further (see docs/failure.md).
struct forced_exit {
  exit_reason reason;
  bool from_signal = false;  // sent by another process (no crash report)
  pid owner;

  forced_exit(exit_reason r, bool signal, pid who) noexcept;
  forced_exit(const forced_exit& o) noexcept;
  forced_exit& operator=(const forced_exit&) = delete;
  ~forced_exit();
};

/// Inside a catch handler: whether what it caught is a forced_exit. A
/// process's forced exit unwinds it as a forced unwind (the unwinder's
/// cleanup phase alone), which passes over handlers for named types, so
/// code that must let it through catches (...) and rethrows when this says
/// so.
bool handling_forced_exit() noexcept;

}  // namespace troupe::detail
