#pragma once
// key=value arguments in, one `RESULT workload=NAME key=value ...` line out.

#include <cinttypes>
#include <cstdarg>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fail.hpp"

namespace loadgen {

class options {
 public:
  options(int argc, char** argv) {
    for (int i = 0; i < argc; ++i) {
      const std::string a = argv[i];
      const auto eq = a.find('=');
      if (eq == std::string::npos || eq == 0) usage_error("argument '%s' is not key=value", a.c_str());
      values_[a.substr(0, eq)] = a.substr(eq + 1);
    }
  }

  bool has(const std::string& key) const { return values_.count(key) != 0; }

  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min = 0) {
    used_.push_back(key);
    const auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    char* end = nullptr;
    const long long v = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0') usage_error("%s=%s is not an integer", key.c_str(), it->second.c_str());
    if (v < min) usage_error("%s=%lld is below the minimum %" PRId64, key.c_str(), v, min);
    return v;
  }

  std::string text(const std::string& key, const std::string& fallback) {
    used_.push_back(key);
    const auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }

  // Called once a workload has read its options: a misspelt key would
  // otherwise silently run the default configuration.
  void reject_unused() const {
    for (const auto& [k, v] : values_) {
      bool used = false;
      for (const auto& u : used_) used = used || u == k;
      if (!used) usage_error("unknown argument '%s=%s' for this workload", k.c_str(), v.c_str());
    }
  }

  [[noreturn]] __attribute__((format(printf, 1, 2))) static void usage_error(const char* format, ...) {
    va_list args;
    va_start(args, format);
    vfail(2, format, args);
  }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> used_;
};

class result {
 public:
  void param(const char* key, std::int64_t v) { params_.emplace_back(key, std::to_string(v)); }
  void metric(const char* key, std::int64_t v) { metrics_.emplace_back(key, std::to_string(v)); }
  void metric(const char* key, double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    metrics_.emplace_back(key, buf);
  }

  // server= sits between the parameters and the metrics: run.sh replaces it
  // with its own schedulers= to make a PEER line in the peers' order.
  void print(const std::string& workload, const std::string& label) const {
    std::string line = "RESULT workload=" + workload;
    for (const auto& [k, v] : params_) line += " " + k + "=" + v;
    if (!label.empty()) line += " server=" + label;
    for (const auto& [k, v] : metrics_) line += " " + k + "=" + v;
    std::puts(line.c_str());
    std::fflush(stdout);
  }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<std::pair<std::string, std::string>> metrics_;
};

}  // namespace loadgen
