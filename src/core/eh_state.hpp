#pragma once
// The C++ runtime keeps exception-handling state per thread: the stack of
// caught exceptions and the count of exceptions being thrown. A process can
// be switched out inside a catch block or a destructor run by unwinding, and
// resume on another thread; so that state belongs to the process, and is
// saved and restored around every switch.

namespace troupe::detail {

/// Layout of libstdc++'s (and libc++abi's) __cxa_eh_globals.
struct eh_state {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

/// This thread's state (its address never changes for the thread's life).
eh_state* eh_globals() noexcept;

/// Moves `*g` (a thread's state) into `s`, leaving the thread's empty:
/// between switches a thread holds no process's state, so the usual case
/// (nothing caught, nothing in flight) costs one look and no writes.
inline void eh_save(eh_state* g, eh_state& s) noexcept {
  s = *g;
  if (s.caught_exceptions || s.uncaught_exceptions) *g = eh_state{};
}

inline bool eh_empty(const eh_state& s) noexcept { return !s.caught_exceptions && !s.uncaught_exceptions; }

/// The resuming side: only a process that had state needs it back.
inline void eh_resume(eh_state* g, const eh_state& s) noexcept {
  if (!eh_empty(s)) *g = s;
}

}  // namespace troupe::detail
