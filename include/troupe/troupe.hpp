#pragma once
// troupe/troupe.hpp — everything. Include the narrower headers to pay less:
// process.hpp (spawn/send/self: the hot path), receive.hpp, timer.hpp,
// links.hpp (links, monitors, exit signals), registry.hpp, process_info.hpp,
// heap.hpp, runtime.hpp, log.hpp (pulls in spdlog).

#include "troupe/exit_reason.hpp"
#include "troupe/heap.hpp"
#include "troupe/links.hpp"
#include "troupe/pid.hpp"
#include "troupe/process.hpp"
#include "troupe/process_info.hpp"
#include "troupe/receive.hpp"
#include "troupe/registry.hpp"
#include "troupe/runtime.hpp"
#include "troupe/spawn_options.hpp"
#include "troupe/timer.hpp"
