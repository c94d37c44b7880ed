#pragma once
// Raising a process's doom (its forced exit). Inline, so that the unwinding
// starts in the caller's own frame: each frame between it and the process's
// entry costs the unwinder an FDE lookup, a CFI program and a personality
// call, and a process that ends by exit/1 (link_exit) pays one unwinding.

#include <utility>

#include "forced_unwind.hpp"
#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "troupe/detail/forced_exit.hpp"

namespace troupe::detail {

/// Unwinds `p` with a forced_exit for its doom (which must be decided).
[[noreturn]] inline __attribute__((always_inline)) void raise_doom(process* p) {
  p->doomed = doom::raised;
  const process_ext& x = ext_of(p);
  unwind_forced(make_forced_exit(x.doom_reason, !x.doom_reported, p->pid()));
}

/// doom_process, then raise_doom: exit/1, max_heap_size. Takes the reason by
/// reference, so that no temporary of the caller's outlives the throw.
[[noreturn]] inline __attribute__((always_inline)) void force_exit(process* p, exit_reason&& reason, bool reported) {
  doom_process(p, std::move(reason), reported);
  raise_doom(p);
}

}  // namespace troupe::detail
