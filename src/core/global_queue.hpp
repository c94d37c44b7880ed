#pragma once
// The runtime's global run queue: processes made runnable by plain threads,
// and the overflow of full local queues. Schedulers look at it often (every
// 61st pick, and whenever they run out of work) and it is almost always empty,
// while an empty moodycamel queue still costs a walk over its producers to
// say so; a count in front of it answers that from a cache line that only
// changes when work passes through.

#include <atomic>
#include <cstddef>

#include <concurrentqueue/concurrentqueue.h>

#include "process_record.hpp"

namespace troupe::detail {

class global_queue {
 public:
  void push(process* p) {
    q_.enqueue(p);
    count_.fetch_add(1, std::memory_order_seq_cst);  // then the caller's notify_work: see take()
  }
  void push_bulk(process** ps, std::size_t n) {
    q_.enqueue_bulk(ps, n);
    count_.fetch_add(n, std::memory_order_seq_cst);
  }
  /// Up to `max` processes into `out`; how many. A scheduler about to park
  /// registers as idle, then calls this: either it sees the count a pusher
  /// raised, or that pusher (counting first, then looking for idle
  /// schedulers) sees it idle and wakes it.
  std::size_t take(process** out, std::size_t max) noexcept {
    if (count_.load(std::memory_order_seq_cst) == 0) return 0;
    const std::size_t n = q_.try_dequeue_bulk(out, max);
    if (n) count_.fetch_sub(n, std::memory_order_relaxed);
    return n;
  }

 private:
  moodycamel::ConcurrentQueue<process*> q_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace troupe::detail
