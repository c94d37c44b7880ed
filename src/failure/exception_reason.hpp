#pragma once
// The exit reason for an exception that escapes a process.

#include "troupe/exit_reason.hpp"

namespace troupe::detail {

/// Call inside a `catch (...)` block (after any catch of forced_exit): the
/// exit reason for the exception being handled.
/// - a troupe::process_error gives its reason();
/// - a std::exception gives `{exception, T, what()}`, T its demangled
///   dynamic type;
/// - any other type is named too (`int`, `std::string`, `const char*`, ...),
///   a std::string, std::string_view or C string giving its text as the
///   detail;
/// and an exception reason carries the stack of the throw point (see
/// troupe/stack_trace.hpp; empty when none was recorded). Outside a catch
/// block: `{exception,(no exception),""}`. Never throws (out of memory, the
/// reason has no text).
exit_reason reason_from_current_exception() noexcept;

}  // namespace troupe::detail
