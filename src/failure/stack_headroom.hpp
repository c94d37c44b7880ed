#pragma once
// Runtime calls that take a lock first make sure the calling process has
// stack to finish them. A process that overflows is never unwound, so a
// lock it held when it ran into its guard page would stay taken for good and
// the next caller would block its scheduler thread (and shutdown) for ever.
// A process without the room ends at the call with reason `stack_overflow`,
// as it would have a few frames later.

#include <cstddef>

#include "process_record.hpp"

namespace troupe::detail {

/// Room a locked runtime call may need below its entry: measured at under
/// 4 KiB for the deepest (register_name's first insertion into the names
/// table, allocation included), twice that for margin; sanitizers' frames
/// are several times larger.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr std::size_t locked_call_headroom = 12 * 1024;
#else
inline constexpr std::size_t locked_call_headroom = 8 * 1024;
#endif

/// Ends `p` as overflowed (see scheduler::abandon_overflowed); never returns.
[[noreturn]] void overflow_at_call(process* p) noexcept;

/// Checks the room for a locked call. A no-op outside a process, or when the
/// caller runs on another stack (a scheduler's own, in its loop).
inline void ensure_headroom(process* p) noexcept {
  if (!p) return;
  const char* sp = static_cast<const char*>(__builtin_frame_address(0));
  if (sp >= p->stack.lo && sp < p->stack.lo + locked_call_headroom) [[unlikely]]
    overflow_at_call(p);
}

/// The same for whatever process is calling, if any.
void ensure_headroom() noexcept;

}  // namespace troupe::detail
