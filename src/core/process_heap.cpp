#include "process_heap.hpp"

#include "troupe/detail/alloc.hpp"

#include <algorithm>
#include <exception>
#include <new>

#include "doom.hpp"
#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "scheduler.hpp"
#include "troupe/heap.hpp"

namespace troupe::detail {

bool is_process_heap(const std::pmr::memory_resource* r) noexcept {
  return r != std::pmr::new_delete_resource() && dynamic_cast<const process_heap*>(r) != nullptr;
}

process_heap::~process_heap() {
  header* h = sentinel_.next;
  while (h != &sentinel_) {
    header* next = h->next;
    free_raw(h->raw);
    h = next;
  }
}

void* process_heap::do_allocate(std::size_t bytes, std::size_t align) {
  const std::size_t used = ext_.heap_bytes.load(std::memory_order_relaxed);
  if (ext_.max_heap != 0 && used + bytes > ext_.max_heap) [[unlikely]] {
    // As in OTP: a process that outgrows its max_heap_size is killed. One
    // already on its way out (unwinding, or cleaning up after its body) gets
    // the memory: a throw from its destructors would end the program.
    process* p = current_process();
    if (p && p->doomed == doom::none && !p->finishing && std::uncaught_exceptions() == 0)
      force_exit(p, exit_reason::max_heap_size(), /*reported=*/true);
  }
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
  ext_.heap_bytes.store(used + bytes, std::memory_order_relaxed);
  return user;
}

void process_heap::do_deallocate(void* p, std::size_t, std::size_t) {
  auto* h = reinterpret_cast<header*>(static_cast<char*>(p) - sizeof(header));
  h->prev->next = h->next;
  h->next->prev = h->prev;
  ext_.heap_bytes.store(ext_.heap_bytes.load(std::memory_order_relaxed) - h->size, std::memory_order_relaxed);
  free_raw(h->raw);
}

process_heap* new_heap(process_ext& x) {
  void* mem = allocate_raw(sizeof(process_heap), alignof(process_heap));
  return ::new (mem) process_heap(x);
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
      p->heap = detail::new_heap(detail::ext_of(p));
    } catch (const std::bad_alloc&) {
      return std::pmr::null_memory_resource();
    }
  }
  return p->heap;
}

std::size_t heap_bytes() noexcept {
  detail::process* p = detail::current_process();
  detail::process_ext* x = p ? p->ext.load(std::memory_order_acquire) : nullptr;
  return x ? x->heap_bytes.load(std::memory_order_relaxed) : 0;
}

}  // namespace troupe
