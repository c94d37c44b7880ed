#include "process_heap.hpp"

#include "troupe/detail/alloc.hpp"

#include <algorithm>
#include <new>

#include "scheduler.hpp"
#include "troupe/heap.hpp"

namespace troupe::detail {

process_heap::~process_heap() {
  header* h = sentinel_.next;
  while (h != &sentinel_) {
    header* next = h->next;
    free_raw(h->raw);
    h = next;
  }
}

void* process_heap::do_allocate(std::size_t bytes, std::size_t align) {
  align = std::max(align, alignof(header));
  const std::size_t pad = (sizeof(header) + align - 1) / align * align;
  void* raw = allocate_raw(pad + bytes, align);
  auto* user = static_cast<char*>(raw) + pad;
  auto* h = reinterpret_cast<header*>(user - sizeof(header));
  h->raw = raw;
  h->size = bytes;
  h->next = sentinel_.next;
  h->prev = &sentinel_;
  sentinel_.next->prev = h;
  sentinel_.next = h;
  bytes_ += bytes;
  return user;
}

void process_heap::do_deallocate(void* p, std::size_t, std::size_t) {
  auto* h = reinterpret_cast<header*>(static_cast<char*>(p) - sizeof(header));
  h->prev->next = h->next;
  h->next->prev = h->prev;
  bytes_ -= h->size;
  free_raw(h->raw);
}

process_heap* new_heap() {
  void* mem = allocate_raw(sizeof(process_heap), alignof(process_heap));
  return ::new (mem) process_heap();
}

void destroy_heap(process_heap* h) noexcept {
  h->~process_heap();
  free_raw(h);
}

}  // namespace troupe::detail

namespace troupe {

std::pmr::memory_resource* heap() noexcept {
  detail::process* p = detail::current_process();
  if (!p) return std::pmr::new_delete_resource();
  if (!p->heap) {
    try {
      p->heap = detail::new_heap();
    } catch (const std::bad_alloc&) {
      return std::pmr::null_memory_resource();
    }
  }
  return p->heap;
}

std::size_t heap_bytes() noexcept {
  detail::process* p = detail::current_process();
  return p && p->heap ? p->heap->bytes() : 0;
}

}  // namespace troupe
