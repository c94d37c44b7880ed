#pragma once
// troupe/heap.hpp — the per-process heap.

#include <cstddef>
#include <memory_resource>

namespace troupe {

/// The calling process's own memory resource (std::pmr over mimalloc). Every
/// block still allocated from it is freed when the process exits, and it counts
/// its bytes. Use it for data that belongs to the process:
///
///   std::pmr::vector<int> v(troupe::heap());
///
/// Outside a process it returns std::pmr::new_delete_resource().
std::pmr::memory_resource* heap() noexcept;

/// Bytes currently allocated from the calling process's heap.
std::size_t heap_bytes() noexcept;

}  // namespace troupe
