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

/// Copies this thread's state into `s`.
void eh_save(eh_state& s) noexcept;
/// Makes `s` this thread's state.
void eh_restore(const eh_state& s) noexcept;

}  // namespace troupe::detail
