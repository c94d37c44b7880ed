#include "crash_report.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "troupe/log.hpp"

namespace troupe::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

void report_crash(troupe::pid who, std::string_view reason, std::string_view detail) noexcept {
  try {
    troupe::logger()->error("CRASH REPORT process {} exited, reason: {}{}{}", who, reason, detail.empty() ? "" : ": ",
                            detail);
  } catch (...) {
    // Logging must never take the runtime down with it.
  }
}

}  // namespace troupe::detail
