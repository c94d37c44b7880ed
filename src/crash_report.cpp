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

void report_crash(troupe::pid who, std::string_view name, const exit_reason& reason,
                  std::string_view last_message) noexcept {
  try {
    auto log = troupe::logger();
    if (!log->should_log(spdlog::level::err)) return;
    std::string text = fmt::format("CRASH REPORT process {}", who);
    if (!name.empty()) text += fmt::format(" ({})", name);
    text += fmt::format(" exited with reason {}", reason);
    if (!last_message.empty()) text += fmt::format("; last message: {}", last_message);
    log->error("{}", text);
  } catch (...) {
    // Logging must never take the runtime down with it.
  }
}

}  // namespace troupe::detail
