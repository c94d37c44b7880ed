#include "timer_heap.hpp"

#include "troupe/detail/alloc.hpp"

#include <new>

namespace troupe::detail {

timer_node* new_timer() {
  void* mem = allocate_raw(sizeof(timer_node), alignof(timer_node));
  return ::new (mem) timer_node();
}

void timer_retain(timer_node* n) noexcept { n->refs.fetch_add(1, std::memory_order_relaxed); }

void timer_release(timer_node* n) noexcept {
  if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (n->msg) destroy_message(n->msg);
  n->~timer_node();
  free_raw(n);
}

void timer_heap::push(timer_node* n) {
  heap_.push_back(n);
  place(heap_.size() - 1, n);
  sift_up(heap_.size() - 1);
}

timer_node* timer_heap::pop() noexcept {
  timer_node* n = heap_.front();
  erase(n);
  return n;
}

void timer_heap::erase(timer_node* n) noexcept {
  const std::size_t i = n->heap_index;
  timer_node* last = heap_.back();
  heap_.pop_back();
  n->heap_index = timer_node::not_in_heap;
  if (last == n) return;
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index);
}

std::vector<timer_node*> timer_heap::take_all() noexcept {
  for (timer_node* n : heap_) n->heap_index = timer_node::not_in_heap;
  return std::exchange(heap_, {});
}

void timer_heap::sift_up(std::size_t i) noexcept {
  timer_node* n = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (heap_[parent]->deadline <= n->deadline) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, n);
}

void timer_heap::sift_down(std::size_t i) noexcept {
  timer_node* n = heap_[i];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->deadline < heap_[child]->deadline) ++child;
    if (heap_[child]->deadline >= n->deadline) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, n);
}

}  // namespace troupe::detail
