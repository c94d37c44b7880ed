#pragma once
// Catching stack overflows (see stack_overflow.cpp).

namespace troupe::detail {

/// Installs the SIGSEGV/SIGBUS handler (counted: once per live runtime).
void install_overflow_handler();
void uninstall_overflow_handler();

/// Gives the calling scheduler thread an alternate signal stack; returns it
/// for leave_alt_stack().
void* enter_alt_stack();
void leave_alt_stack(void* stack);

}  // namespace troupe::detail
