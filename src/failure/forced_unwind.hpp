#pragma once
// A process's forced exit unwinds as a forced unwind (the unwinder's phase 2
// alone, as thread cancellation does), not as a throw: a throw walks the
// frames twice, once to find the handler and once to run the cleanups, and
// a process's exit always ends at its entry frame, so the first walk would
// find nothing worth its cost.
//
// What a forced unwind changes: destructors and `catch (...)` handlers run
// as before and `throw;` goes on unwinding, but a handler for a named type
// is passed over, `catch (const forced_exit&)` included. The runtime's own
// handlers therefore catch (...) and ask handling_forced_exit()
// (troupe/detail/forced_exit.hpp).

#include <unwind.h>

#include "troupe/detail/forced_exit.hpp"

namespace troupe::detail {

/// A forced_exit{reason, from_signal, owner} made as a throw makes its
/// exception (in the C++ runtime's memory, with its header), ready for
/// unwind_forced.
_Unwind_Exception* make_forced_exit(const exit_reason& reason, bool from_signal, troupe::pid owner) noexcept;

/// The stop function of every forced exit: on to the process's entry frame.
_Unwind_Reason_Code keep_unwinding(int, _Unwind_Action actions, _Unwind_Exception_Class, _Unwind_Exception*,
                                   _Unwind_Context*, void*);

/// After a forced unwind that came back (a frame without unwind
/// information): terminates, as an ordinary throw would.
[[noreturn]] void forced_unwind_failed(_Unwind_Exception* e) noexcept;

/// Unwinds the calling process with `e`. Inline, so that the unwinding starts
/// from the caller's own frame: each frame costs the unwinder an FDE lookup,
/// its CFI program and a personality call.
[[noreturn]] inline __attribute__((always_inline)) void unwind_forced(_Unwind_Exception* e) {
  _Unwind_ForcedUnwind(e, keep_unwinding, nullptr);
  forced_unwind_failed(e);
}

}  // namespace troupe::detail
