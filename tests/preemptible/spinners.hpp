#pragma once
// Loops of plain C++ for the preemption tests, compiled with
// troupe_preemptible (tests/CMakeLists.txt): they never call the runtime,
// so only the safe points the plugin put in them can make them yield.

#include <atomic>
#include <chrono>

namespace spinners {

using deadline = std::chrono::steady_clock::time_point;

/// A non-inlined call with some arithmetic: the loops' body.
long step(long x);

/// Calls step() until `stop` is set or `limit` passes.
long spin_calls_until(const std::atomic<bool>& stop, deadline limit);

/// Arithmetic only (the clock is read once in 2^16 rounds) until `stop` is
/// set or `limit` passes: only the loop's back edge has a safe point.
long spin_arith_until(const std::atomic<bool>& stop, deadline limit);

/// Recursion with no loop at all (fib's shape, base case first) until `stop`
/// is set or `limit` passes: its only safe points are those before its calls.
long spin_recursive_until(const std::atomic<bool>& stop, deadline limit);

/// The same in a noexcept function, whose safe points never throw.
long spin_calls_until_nothrow(const std::atomic<bool>& stop, deadline limit) noexcept;

/// Calls step() for ever, counting rounds in `progress`: only an exit signal
/// ends it.
[[noreturn]] void spin_forever(std::atomic<long>& progress);

}  // namespace spinners
