// crunch.cpp: plain C++ number crunching, with no runtime calls in it. The
// example's CMakeLists.txt builds this file with troupe_preemptible, so the
// compiler puts safe points in its loop and calls.
#include "crunch.hpp"

namespace crunch {

__attribute__((noinline)) std::uint64_t mix(std::uint64_t x) { return (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL; }

std::uint64_t churn(std::uint64_t rounds) {
  std::uint64_t acc = 1;
  for (std::uint64_t i = 0; i < rounds; ++i) acc = mix(acc + i);
  return acc;
}

}  // namespace crunch
