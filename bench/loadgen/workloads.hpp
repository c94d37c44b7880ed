#pragma once

#include <chrono>

#include "net.hpp"
#include "options.hpp"

namespace loadgen {

// What main.cpp reads for every workload.
struct setup {
  tcp::endpoint server;
  long server_pid = 0;  // 0: not given
  std::chrono::seconds timeout{10};
};

// Each reads its own keys from opts, runs, and fills out with its
// parameters and then its metrics.
void tcp_echo(options& opts, const setup& s, result& out);
void tcp_hold(options& opts, const setup& s, result& out);
void chat(options& opts, const setup& s, result& out);

}  // namespace loadgen
