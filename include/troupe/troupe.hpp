#pragma once
// troupe/troupe.hpp — everything. Include the narrower headers to pay less:
// process.hpp (spawn/send/self), receive.hpp, timer.hpp, heap.hpp, runtime.hpp.

#include "troupe/heap.hpp"
#include "troupe/pid.hpp"
#include "troupe/process.hpp"
#include "troupe/receive.hpp"
#include "troupe/runtime.hpp"
#include "troupe/spawn_options.hpp"
#include "troupe/timer.hpp"
