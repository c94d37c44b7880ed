#pragma once
// The threads troupe::blocking runs its calls on. They start when first
// needed, at most runtime_options::blocking_threads at once, and wait for
// work without spinning.

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "troupe/pid.hpp"

namespace troupe::detail {

class runtime_impl;

struct blocking_job {
  void (*run)(void*) = nullptr;
  void* arg = nullptr;
  troupe::pid waiter;
  std::exception_ptr error;
  std::atomic<bool> done{false};
};

class blocking_pool {
 public:
  explicit blocking_pool(runtime_impl& rt) : rt_(rt) {}
  /// Queues `job`; a thread runs it, sets job->done and wakes job->waiter.
  void submit(blocking_job* job);
  /// Ends the threads (after every process is gone).
  void stop() noexcept;

 private:
  void work();

  runtime_impl& rt_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<blocking_job*> jobs_;
  std::vector<std::thread> threads_;
  unsigned idle_ = 0;
  bool stopping_ = false;
};

}  // namespace troupe::detail
