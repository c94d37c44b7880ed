#include "troupe/log.hpp"

#include <atomic>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "stack_headroom.hpp"

namespace troupe {

namespace {
std::mutex logger_mu;
std::shared_ptr<spdlog::logger>& logger_slot() {
  static std::shared_ptr<spdlog::logger> l;
  return l;
}
}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  // Also leaves room for the logging call that follows: spdlog's sinks write
  // under a mutex of their own.
  detail::ensure_headroom();
  std::lock_guard lock(logger_mu);
  auto& l = logger_slot();
  if (!l) {
    l = std::make_shared<spdlog::logger>("troupe", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
  return l;
}

void set_logger(std::shared_ptr<spdlog::logger> l) {
  detail::ensure_headroom();
  std::lock_guard lock(logger_mu);
  logger_slot() = std::move(l);
}

}  // namespace troupe
