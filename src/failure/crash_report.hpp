#pragma once
// Crash reports: one log record per process that dies abnormally, in the
// spirit of OTP's CRASH REPORT.

#include <string>
#include <string_view>

#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"

namespace troupe::detail {

/// Logs that `who` (registered as `name`, if not empty) died with `reason`
/// while handling `last_message` (if known); an exception reason's stack
/// follows the summary line, symbolized, one frame a line.
void report_crash(troupe::pid who, std::string_view name, const exit_reason& reason,
                  std::string_view last_message = {}) noexcept;

/// The readable name of a type from its mangled name.
std::string demangle(const char* mangled);

}  // namespace troupe::detail
