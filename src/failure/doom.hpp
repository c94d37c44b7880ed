#pragma once
// Raising a process's doom (its forced exit). Inline, so that the throw is
// made in the caller's own frame: each frame between a throw and its catch
// costs the unwinder an FDE lookup and a personality call in both of its
// phases, and a process that ends by exit/1 (link_exit) pays one throw.

#include <utility>

#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "troupe/detail/forced_exit.hpp"

namespace troupe::detail {

/// Throws forced_exit for `p`'s doom (which must be decided).
[[noreturn]] inline void raise_doom(process* p) {
  p->doomed = doom::raised;
  process_ext& x = ext_of(p);
  throw forced_exit(x.doom_reason, !x.doom_reported, p->pid());
}

/// doom_process, then raise_doom: exit/1, max_heap_size. Takes the reason by
/// reference, so that no temporary of the caller's outlives the throw.
[[noreturn]] inline void force_exit(process* p, exit_reason&& reason, bool reported) {
  doom_process(p, std::move(reason), reported);
  raise_doom(p);
}

}  // namespace troupe::detail
