#pragma once
// Asymmetric fences (Linux membarrier(2)): a Dekker handshake between a side
// that runs millions of times a second and one that runs seldom, where the
// frequent side pays only a compiler barrier and the seldom one a system
// call that makes every thread of the program pass a full fence.
//
//   frequent side                      seldom side
//   mine.store(1, relaxed)             theirs.store(1, relaxed)
//   light_fence()                      heavy_fence()
//   theirs.load(acquire)               mine.load(acquire)
//
// At least one side sees the other's store.

#include <atomic>

namespace troupe::detail {

/// The frequent side's fence: stops the compiler, not the processor.
inline void light_fence() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

/// Registers the program for heavy fences (once; cheap after). False where
/// the kernel has no expedited membarrier: then heavy_fence() must not be
/// relied on, and the seldom side should do without.
bool heavy_fence_available() noexcept;

/// The seldom side's fence: every thread of the program has passed a full
/// fence when it returns. Only after heavy_fence_available() said true.
void heavy_fence() noexcept;

}  // namespace troupe::detail
