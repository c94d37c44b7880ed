#pragma once
// troupe/spawn_options.hpp — per-spawn settings.

#include <cstddef>

namespace troupe {

/// Default stack of a process: 64 KiB of address space including a 4 KiB
/// guard page; only the pages a process touches are committed (an idle
/// process touches one).
inline constexpr std::size_t default_stack_size = 64 * 1024;

/// Options for `spawn(spawn_options, f, args...)`.
struct spawn_options {
  /// Address space for the stack, guard page included: rounded up to a power
  /// of two between 16 KiB and 1 MiB, or to whole pages above 1 MiB.
  std::size_t stack_size = default_stack_size;
  /// Link the new process to the caller before it can run (spawn_link).
  /// A monitor comes with `spawn_monitor(opts, f, ...)`, which returns it.
  bool link = false;
  /// Largest per-process heap (troupe::heap()) in bytes; 0 = unlimited. A
  /// process whose heap would grow past it is killed with reason
  /// `max_heap_size`, as in OTP.
  std::size_t max_heap_size = 0;
};

}  // namespace troupe
