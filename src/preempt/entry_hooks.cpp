// The hooks of troupe_preemptible's fallback (-finstrument-functions, for
// compilers without troupe's plugin): a safe point at every function entry.
// Weak, so that a program with profiling hooks of its own keeps them. The
// compiler treats the hooks as calls that never throw, so the check is the
// one that leaves an exit for the next runtime call.

#include "troupe/preempt_check.h"

extern "C" {

__attribute__((weak, no_instrument_function)) void __cyg_profile_func_enter(void*, void*) {
  troupe_safe_point_nothrow();
}

__attribute__((weak, no_instrument_function)) void __cyg_profile_func_exit(void*, void*) {}

}  // extern "C"
