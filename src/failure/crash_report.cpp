#include "crash_report.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "troupe/log.hpp"
#include "troupe/stack_trace.hpp"

namespace troupe::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

namespace {

// Under the summary, as OTP prints an error's stack:
//     in function  thrower(int) at src/app.cpp:12
//     in call from handle(msg const&) at src/app.cpp:40
void append_stack(std::string& text, const stack_trace& stack) {
  if (stack.empty()) return;
  std::vector<stack_frame> frames;
  try {
    frames = stack.symbolize();
  } catch (...) {
    return;  // the summary is still worth logging
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    text += fmt::format("\n    {} {}", i == 0 ? "in function " : "in call from", frames[i]);
  }
}

}  // namespace

void report_crash(troupe::pid who, std::string_view name, const exit_reason& reason,
                  std::string_view last_message) noexcept {
  try {
    auto log = troupe::logger();
    if (!log->should_log(spdlog::level::err)) return;
    std::string text = fmt::format("CRASH REPORT process {}", who);
    if (!name.empty()) text += fmt::format(" ({})", name);
    text += fmt::format(" exited with reason {}", reason);
    if (!last_message.empty()) text += fmt::format("; last message: {}", last_message);
    append_stack(text, reason.stack());
    log->error("{}", text);
  } catch (...) {
    // Logging must never take the runtime down with it.
  }
}

}  // namespace troupe::detail
