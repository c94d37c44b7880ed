#pragma once
// The per-process heap: a std::pmr resource over mimalloc that links every
// block it hands out, so all of them can be freed when the process exits, and
// counts its bytes.
//
// mimalloc's own first-class heaps (mi_heap_new) only allocate on the thread
// that created them, and a process moves between scheduler threads; so blocks
// come from the thread-safe mi_malloc and the heap keeps its own list.

#include <cstddef>
#include <memory_resource>

namespace troupe::detail {

struct process_ext;

class process_heap final : public std::pmr::memory_resource {
 public:
  /// Counts into `x.heap_bytes` and enforces `x.max_heap`.
  explicit process_heap(process_ext& x) noexcept : ext_(x) {}
  ~process_heap() override;
  process_heap(const process_heap&) = delete;
  process_heap& operator=(const process_heap&) = delete;


 private:
  struct header {
    header* prev;
    header* next;
    void* raw;
    std::size_t size;
  };

  void* do_allocate(std::size_t bytes, std::size_t align) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override;
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }

  header sentinel_{&sentinel_, &sentinel_, nullptr, 0};
  process_ext& ext_;
};

process_heap* new_heap(process_ext& x);
void destroy_heap(process_heap* h) noexcept;

}  // namespace troupe::detail
