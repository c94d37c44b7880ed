#pragma once
// Latency samples, kept whole (8 bytes each) rather than in a histogram, so
// that the percentiles are exact: a full chat run is about 10 M samples.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace loadgen {

class latencies {
 public:
  void reserve(std::size_t n) { ns_.reserve(n); }
  void add(std::int64_t ns) { ns_.push_back(ns); }
  std::size_t size() const { return ns_.size(); }

  // Nearest rank: the smallest sample that at least p percent of the samples
  // are less than or equal to. Reorders the samples.
  double percentile_us(double p) {
    if (ns_.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(ns_.size())));
    const auto nth = ns_.begin() + static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(rank, 1, ns_.size()) - 1);
    std::nth_element(ns_.begin(), nth, ns_.end());
    return static_cast<double>(*nth) / 1000.0;
  }

  double max_us() const {
    return ns_.empty() ? 0 : static_cast<double>(*std::max_element(ns_.begin(), ns_.end())) / 1000.0;
  }

 private:
  std::vector<std::int64_t> ns_;
};

}  // namespace loadgen
