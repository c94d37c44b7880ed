#pragma once
// troupe-bench plumbing: key=value arguments, RESULT lines, clocks, RSS.

#include <fmt/format.h>
#include <troupe/runtime.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <unistd.h>

namespace bench {

/// Arguments `key=value` of one workload run, with defaults.
class args {
 public:
  explicit args(std::map<std::string, std::string> kv) : kv_(std::move(kv)) {}
  std::int64_t get(const std::string& key, std::int64_t fallback) const {
    auto it = kv_.find(key);
    return it == kv_.end() ? fallback : std::stoll(it->second);
  }
  bool quick() const { return get("quick", 0) != 0; }
  /// `fallback`, divided by 100 in quick mode (for CI smoke runs).
  std::int64_t count(const std::string& key, std::int64_t fallback) const {
    return get(key, quick() ? std::max<std::int64_t>(fallback / 100, 10) : fallback);
  }
  unsigned schedulers() const { return static_cast<unsigned>(get("schedulers", 0)); }
  /// The runtime a workload runs on: `schedulers=` (0: one per core), and
  /// `dedicated_stacks=` / `shared_stacks=` when given (-1: never share).
  troupe::runtime_options runtime() const {
    troupe::runtime_options o;
    o.schedulers = schedulers();
    const std::int64_t dedicated = get("dedicated_stacks", -2);
    if (dedicated >= 0) o.dedicated_stacks = static_cast<std::size_t>(dedicated);
    if (dedicated == -1) o.dedicated_stacks = SIZE_MAX;
    o.shared_stacks = static_cast<std::size_t>(get("shared_stacks", static_cast<std::int64_t>(o.shared_stacks)));
    return o;
  }

 private:
  std::map<std::string, std::string> kv_;
};

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Resident set size of this process, in bytes.
inline std::int64_t rss_bytes() {
  long pages_total = 0, pages_resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return static_cast<std::int64_t>(pages_resident) * sysconf(_SC_PAGESIZE);
}

/// Prints one `RESULT workload=NAME key=value ...` line.
template <class... KV>
void result(const char* workload, const KV&... kv) {
  std::string line = fmt::format("RESULT workload={}", workload);
  ((line += fmt::format(" {}", kv)), ...);
  std::puts(line.c_str());
  std::fflush(stdout);
}

/// A `key=value` field.
template <class T>
std::string kv(const char* key, const T& value) {
  if constexpr (std::is_floating_point_v<T>) {
    return fmt::format("{}={:.4g}", key, value);
  } else {
    return fmt::format("{}={}", key, value);
  }
}

}  // namespace bench
