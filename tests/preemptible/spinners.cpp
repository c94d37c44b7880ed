#include "spinners.hpp"

namespace spinners {

// Unsigned arithmetic: it wraps (a signed overflow would be undefined, and
// the UBSan build stops at it).
__attribute__((noinline)) long step(long x) {
  return static_cast<long>((static_cast<unsigned long>(x) * 2862933555777941757UL + 3037000493UL) >> 3);
}

long spin_calls_until(const std::atomic<bool>& stop, deadline limit) {
  long acc = 1;
  for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    acc = step(static_cast<long>(static_cast<unsigned long>(acc) + static_cast<unsigned long>(i)));
    if ((i & 0xffff) == 0 && std::chrono::steady_clock::now() >= limit) break;
  }
  return acc;
}

long spin_arith_until(const std::atomic<bool>& stop, deadline limit) {
  unsigned long acc = 1;
  for (unsigned long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    acc = acc * 6364136223846793005UL + i;
    if ((i & 0xffff) == 0 && std::chrono::steady_clock::now() >= limit) break;
  }
  return static_cast<long>(acc);
}

namespace {

long recurse(long depth, const std::atomic<bool>& stop, deadline limit, unsigned long& calls) {
  if (depth < 2) return depth;
  if (stop.load(std::memory_order_relaxed)) return 0;
  if ((++calls & 0xffff) == 0 && std::chrono::steady_clock::now() >= limit) return 0;
  return recurse(depth - 1, stop, limit, calls) + recurse(depth - 2, stop, limit, calls);
}

}  // namespace

long spin_recursive_until(const std::atomic<bool>& stop, deadline limit) {
  unsigned long calls = 0;
  return recurse(90, stop, limit, calls);
}

// The same loop as spin_calls_until, written out again on purpose: a shared
// inline helper would carry its own (throwing) safe points into this
// noexcept function, where a kill would end the program.
long spin_calls_until_nothrow(const std::atomic<bool>& stop, deadline limit) noexcept {
  long acc = 1;
  for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    acc = step(static_cast<long>(static_cast<unsigned long>(acc) + static_cast<unsigned long>(i)));
    if ((i & 0xffff) == 0 && std::chrono::steady_clock::now() >= limit) break;
  }
  return acc;
}

void spin_forever(std::atomic<long>& progress) {
  long acc = 1;
  for (;;) {
    acc = step(acc);
    progress.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace spinners
