#pragma once
// troupe/spawn_options.hpp — per-spawn settings.

#include <cstddef>

namespace troupe {

/// Default stack size of a process: 64 KiB of address space, of which only the
/// pages a process touches are ever committed (an idle process touches one).
inline constexpr std::size_t default_stack_size = 64 * 1024;

/// Options for `spawn(spawn_options, f, args...)`.
struct spawn_options {
  /// Usable stack bytes; rounded up to a power of two between 16 KiB and
  /// 1 MiB, or to whole pages above 1 MiB. Every stack has a guard page below it.
  std::size_t stack_size = default_stack_size;
};

}  // namespace troupe
