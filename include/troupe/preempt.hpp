#pragma once
// Preemption of plain C++ code (see docs/scheduling.md).
//
// A process gives up its scheduler at runtime calls (send, receive, yield,
// ...) once its slice of reductions is spent, and, in code built with
// troupe_preemptible(<target>) (cmake/TroupePreemptible.cmake), at safe
// points the compiler puts at every function entry and loop back edge: there
// it yields once the runtime's watchdog says its time slice
// (runtime_options::time_slice) is over. A safe point is an ordinary runtime
// call, so an exit signal (kill included) ends a spinning process at its
// next one, destructors running as at any exit.

#include "troupe/preempt_check.h"

namespace troupe {

/// While one exists in a process, its safe points do not yield; the last one
/// to go yields if a safe point wanted to meanwhile. For a lock that other
/// processes of this scheduler may take: a process preempted while holding
/// a std::mutex keeps it held while the others run, and one of them that
/// blocks on it blocks its whole scheduler thread. Runtime calls that wait
/// (receive, sleep_for, a gen_server call) still switch inside one.
///
///     {
///       troupe::no_preempt_scope keep;  // first, so the yield it owes comes after the unlock
///       std::lock_guard lock(table_mu);
///       update(table);
///     }
///
/// At most 127 may be open in a process at once (std::length_error).
class no_preempt_scope {
 public:
  no_preempt_scope();
  ~no_preempt_scope();
  no_preempt_scope(const no_preempt_scope&) = delete;
  no_preempt_scope& operator=(const no_preempt_scope&) = delete;
};

}  // namespace troupe
