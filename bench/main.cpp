// troupe-bench WORKLOAD [key=value ...]
//
// Prints one `RESULT workload=NAME key=value ...` line per result. `all` runs
// the standard set (the figures in docs/performance.md); `quick=1` shrinks
// every workload a hundredfold for smoke tests.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace {

using workload_fn = void (*)(const bench::args&);

const std::map<std::string, workload_fn> workloads = {
    {"spawn", bench::spawn_blocked}, {"spawn_exit", bench::spawn_exit}, {"ring", bench::ring},
    {"pingpong", bench::pingpong},   {"skynet", bench::skynet},         {"fanin", bench::fanin},
    {"link_exit", bench::link_exit}, {"monitor_down", bench::monitor_down},
    {"throw_catch", bench::throw_catch}, {"genserver_call", bench::genserver_call},
    {"genserver_idle", bench::genserver_idle},
    {"supervisor_restart", bench::supervisor_restart},
    {"fairness", bench::fairness}, {"instrument_cost", bench::instrument_cost},
    {"tcp_echo", bench::tcp_echo}, {"tcp_hold", bench::tcp_hold}, {"chat", bench::chat},
};

// The standard set: each entry is a workload with its arguments.
const std::vector<std::pair<std::string, std::map<std::string, std::string>>> standard_set = {
    {"spawn", {}},
    {"spawn_exit", {}},
    {"ring", {{"n", "10000"}, {"rounds", "100"}, {"tokens", "1"}}},
    {"ring", {{"n", "1000"}, {"rounds", "10"}, {"tokens", "1000"}}},
    {"pingpong", {{"schedulers", "1"}}},
    {"pingpong", {}},
    {"skynet", {}},
    {"fanin", {}},
    {"link_exit", {}},
    {"monitor_down", {}},
    {"throw_catch", {{"traces", "0"}}},
    {"throw_catch", {{"traces", "1"}}},
    {"genserver_call", {{"clients", "1"}}},
    {"genserver_call", {{"n", "10000"}, {"clients", "100"}}},
    {"genserver_call", {{"clients", "1"}, {"backlog", "100000"}}},
    {"genserver_idle", {}},
    {"supervisor_restart", {}},
    {"fairness", {{"hogs", "0"}}},
    {"fairness", {{"hogs", "4"}}},
    {"fairness", {{"hogs", "4"}, {"instrumented", "0"}}},
    {"fairness", {{"hogs", "4"}, {"schedulers", "1"}}},
    {"instrument_cost", {}},
    {"tcp_echo", {}},
    {"tcp_hold", {}},
    {"chat", {}},
};

int usage() {
  std::fprintf(stderr, "usage: troupe-bench WORKLOAD|all [key=value ...]\nworkloads:");
  for (auto& [name, fn] : workloads) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::map<std::string, std::string> kv;
  for (int i = 2; i < argc; ++i) {
    const char* eq = std::strchr(argv[i], '=');
    if (!eq) return usage();
    kv[std::string(argv[i], static_cast<std::size_t>(eq - argv[i]))] = eq + 1;
  }
  const std::string name = argv[1];
  try {
    if (name == "all") {
      for (auto& [w, defaults] : standard_set) {
        auto merged = defaults;
        for (auto& [k, v] : kv) merged[k] = v;  // command-line keys win
        workloads.at(w)(bench::args(merged));
      }
      return 0;
    }
    auto it = workloads.find(name);
    if (it == workloads.end()) return usage();
    it->second(bench::args(kv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
