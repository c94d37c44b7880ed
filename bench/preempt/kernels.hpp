#pragma once
// The code that troupe-bench's preemption workloads run, compiled twice
// (bench/CMakeLists.txt): once as plain C++ (namespace bench::plain) and
// once with troupe_preemptible (bench::preemptible), so that one run can
// compare the two.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#define TROUPE_BENCH_KERNELS_DECLARE(ns)                                                     \
  namespace ns {                                                                             \
  /* Non-inlined calls with arithmetic until `stop` is set (or 60 s pass). */                \
  std::uint64_t spin(const std::atomic<bool>& stop);                                        \
  /* std::sort with a comparator function. */                                                \
  std::uint64_t sort_ints(std::vector<int>& v);                                              \
  /* Recursive Fibonacci: the worst case of tiny calls. */                                   \
  std::uint64_t fib(int n);                                                                  \
  /* Builds a hash map of n keys and sums lookups. */                                        \
  std::uint64_t hash_build(int n);                                                           \
  /* Tokenises a JSON-like text and counts what it found. */                                 \
  std::uint64_t parse(const std::string& text);                                              \
  /* Multiplies two n x n matrices. */                                                       \
  double matmul(int n);                                                                      \
  /* Counts the occurrences of `needle` in `hay` by a naive search. */                       \
  std::uint64_t search(const std::string& hay, const std::string& needle);                   \
  }

namespace bench {
TROUPE_BENCH_KERNELS_DECLARE(plain)
TROUPE_BENCH_KERNELS_DECLARE(preemptible)
}  // namespace bench
