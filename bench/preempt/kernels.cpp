// See kernels.hpp. TROUPE_BENCH_KERNELS_NS names the copy being compiled.

#include "kernels.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace bench::TROUPE_BENCH_KERNELS_NS {

namespace {

__attribute__((noinline)) std::uint64_t step(std::uint64_t x) { return (x * 2862933555777941757ULL + 3037000493ULL) >> 1; }

__attribute__((noinline)) bool less_than(int a, int b) { return a < b; }

}  // namespace

std::uint64_t spin(const std::atomic<bool>& stop) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::uint64_t acc = 1;
  for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    acc = step(acc + i);
    if ((i & 0xfffff) == 0 && std::chrono::steady_clock::now() > limit) break;
  }
  return acc;
}

std::uint64_t sort_ints(std::vector<int>& v) {
  std::sort(v.begin(), v.end(), less_than);
  return static_cast<std::uint64_t>(v[v.size() / 2]);
}

std::uint64_t fib(int n) { return n < 2 ? static_cast<std::uint64_t>(n) : fib(n - 1) + fib(n - 2); }

std::uint64_t hash_build(int n) {
  std::unordered_map<std::uint64_t, std::uint64_t> m;
  m.reserve(static_cast<std::size_t>(n));
  std::uint64_t k = 1;
  for (int i = 0; i < n; ++i) {
    k = k * 6364136223846793005ULL + 1442695040888963407ULL;
    m[k >> 20] += static_cast<std::uint64_t>(i);
  }
  std::uint64_t sum = 0;
  k = 1;
  for (int i = 0; i < n; ++i) {
    k = k * 6364136223846793005ULL + 1442695040888963407ULL;
    auto it = m.find(k >> 20);
    if (it != m.end()) sum += it->second;
  }
  return sum;
}

std::uint64_t parse(const std::string& text) {
  std::uint64_t strings = 0, numbers = 0, punct = 0, value = 0;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '"') {
      ++i;
      while (i < n && text[i] != '"') {
        if (text[i] == '\\') ++i;
        ++i;
      }
      ++i;
      ++strings;
    } else if (c >= '0' && c <= '9') {
      std::uint64_t v = 0;
      while (i < n && text[i] >= '0' && text[i] <= '9') v = v * 10 + static_cast<std::uint64_t>(text[i++] - '0');
      value += v;
      ++numbers;
    } else {
      punct += c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
      ++i;
    }
  }
  return strings * 1'000'003 + numbers * 1'009 + punct + value;
}

double matmul(int n) {
  std::vector<double> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size(), 0.0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<double>(i % 7) * 0.5;
    b[i] = static_cast<double>(i % 5) * 0.25;
  }
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < n; ++k) {
      const double aik = a[static_cast<std::size_t>(i) * n + k];
      for (int j = 0; j < n; ++j) c[static_cast<std::size_t>(i) * n + j] += aik * b[static_cast<std::size_t>(k) * n + j];
    }
  }
  double trace = 0;
  for (int i = 0; i < n; ++i) trace += c[static_cast<std::size_t>(i) * n + i];
  return trace;
}

std::uint64_t search(const std::string& hay, const std::string& needle) {
  std::uint64_t found = 0;
  const std::size_t m = needle.size();
  if (m == 0 || hay.size() < m) return 0;
  for (std::size_t i = 0; i + m <= hay.size(); ++i) {
    std::size_t j = 0;
    while (j < m && hay[i + j] == needle[j]) ++j;
    found += j == m;
  }
  return found;
}

}  // namespace bench::TROUPE_BENCH_KERNELS_NS
