#pragma once
// Timers: a binary min-heap per scheduler. Each node knows its heap index, so
// a timer cancelled on its own scheduler leaves at once (O(log n)); one
// cancelled elsewhere is flagged and handed to its owner through a queue.

#include <atomic>
#include <cstdint>
#include <vector>

#include "troupe/detail/message_node.hpp"
#include "troupe/pid.hpp"
#include "troupe/timer.hpp"

namespace troupe::detail {

class scheduler;

enum class timer_status : std::uint8_t { pending, cancelled, done };
enum class timer_kind : std::uint8_t { wake, send };

struct timer_node {
  static constexpr std::uint32_t not_in_heap = ~0u;

  std::int64_t deadline = 0;                       // steady clock, ns
  std::atomic<std::uint32_t> refs{1};
  std::atomic<timer_status> status{timer_status::pending};
  timer_kind kind = timer_kind::wake;
  std::uint32_t heap_index = not_in_heap;          // owner thread only
  std::atomic<std::uint32_t> seq{0};               // wake: which wait it ends (its owner may pass it on)
  troupe::pid target;
  message_node* msg = nullptr;                     // send: the message, until fired or cancelled
  scheduler* owner = nullptr;
};

timer_node* new_timer();

class timer_heap {
 public:
  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  [[nodiscard]] timer_node* top() const noexcept { return heap_.front(); }
  void push(timer_node* n);
  void erase(timer_node* n) noexcept;
  timer_node* pop() noexcept;
  std::vector<timer_node*> take_all() noexcept;

 private:
  void place(std::size_t i, timer_node* n) noexcept {
    heap_[i] = n;
    n->heap_index = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  std::vector<timer_node*> heap_;
};

}  // namespace troupe::detail
