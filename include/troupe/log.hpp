#pragma once
// troupe/log.hpp — where the runtime logs (crash reports and the like).
// Opt-in header: it pulls in spdlog.

#include <memory>

#include <spdlog/logger.h>

namespace troupe {

/// The runtime's logger: named "troupe", writing to stderr unless replaced.
std::shared_ptr<spdlog::logger> logger();

/// Replaces the runtime's logger (for example to change sinks or level).
void set_logger(std::shared_ptr<spdlog::logger> l);

}  // namespace troupe
