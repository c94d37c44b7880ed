#pragma once
// Recursions that run a process out of stack, for the stack-overflow tests.
// Their frames are volatile and read after the recursive call returns (it
// never does), so the compiler can neither drop nor merge them.

#include <functional>

namespace troupe_test {

/// Never reached: a depth the recursions stop at, which the compiler cannot
/// prove they never reach.
inline volatile int never_stop_at = -1;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
/// Unbounded recursion with 512-byte frames.
__attribute__((noinline)) inline int recurse_forever(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  frame[sizeof(frame) - 1] = static_cast<char>(depth >> 8);
  if (depth == never_stop_at) return 0;
  return recurse_forever(depth + 1) + frame[0] + frame[sizeof(frame) - 1];
}

/// Unbounded recursion that calls `call(depth)` at every level: the overflow
/// comes inside the call or between two calls, wherever the stack runs out.
__attribute__((noinline)) inline int recurse_calling(int depth, const std::function<void(int)>& call) {
  volatile char frame[192];
  frame[0] = static_cast<char>(depth);
  call(depth);
  if (depth == never_stop_at) return 0;
  return recurse_calling(depth + 1, call) + frame[0];
}
#pragma GCC diagnostic pop

}  // namespace troupe_test
