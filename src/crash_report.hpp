#pragma once
// Crash reports: one log record per process that dies abnormally, in the
// spirit of OTP's CRASH REPORT.

#include <string>
#include <string_view>

#include "troupe/pid.hpp"

namespace troupe::detail {

void report_crash(troupe::pid who, std::string_view reason, std::string_view detail) noexcept;

/// The readable name of a type from its mangled name.
std::string demangle(const char* mangled);

}  // namespace troupe::detail
