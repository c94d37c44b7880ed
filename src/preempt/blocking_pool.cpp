#include "blocking_pool.hpp"

#include <pthread.h>

#include <stdexcept>

#include "runtime_impl.hpp"
#include "scheduler_loan.hpp"
#include "troupe/preempt.hpp"

namespace troupe::detail {

void blocking_pool::submit(blocking_job* job) {
  std::unique_lock lock(mu_);
  if (stopping_) throw std::logic_error("troupe::blocking: the runtime is shutting down");
  jobs_.push_back(job);
  if (idle_ == 0 && threads_.size() < rt_.opts.blocking_threads) {
    threads_.emplace_back([this] { work(); });  // a system_error leaves the job to a busy thread
  } else {
    cv_.notify_one();
  }
}

void blocking_pool::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void blocking_pool::work() {
  pthread_setname_np(pthread_self(), "troupe-blocking");
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping
    blocking_job* job = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    try {
      job->run(job->arg);
    } catch (...) {
      job->error = std::current_exception();
    }
    const troupe::pid waiter = job->waiter;
    job->done.store(true, std::memory_order_seq_cst);  // from here on the job is the waiter's again
    if (process* p = rt_.table.lookup(waiter)) {
      p->signals.fetch_or(sig_blocking_done, std::memory_order_seq_cst);
      rt_.wake_for_signal(p);
    }
    lock.lock();
  }
}

void run_blocking(void (*run)(void*), void* arg) {
  process* p = current_process();
  if (!p) {
    run(arg);
    return;
  }
  if (p->share.load(std::memory_order_relaxed)) {
    // Its frames leave the shared stack when another sharer runs, and the
    // job points into them: it runs here, the scheduler lent meanwhile.
    {
      scheduler_loan lent;
      run(arg);
    }
    check_signals(p);
    return;
  }
  blocking_job job;
  job.run = run;
  job.arg = arg;
  job.waiter = p->pid();
  scheduler* here = current_scheduler();
  here->rt.blocking.submit(&job);
  // Not a receive: nothing may unwind this process while the job can still
  // touch its stack. A signal wakes it; only the pool's ends the wait. With
  // an exit signal pending it cannot park (a pending signal keeps a wait
  // from parking), so it yields until the job is done.
  while (!job.done.load(std::memory_order_seq_cst)) {
    constexpr auto ours = static_cast<std::uint32_t>(sig_blocking_done | sig_timer_wake);
    const std::uint32_t others = p->signals.load(std::memory_order_seq_cst) & ~ours;
    switch_out(p, others != 0 ? switch_reason::yield : switch_reason::wait_timer);
    p->signals.fetch_and(~ours, std::memory_order_seq_cst);
  }
  if (job.error) std::rethrow_exception(job.error);
  check_signals(p);
}

}  // namespace troupe::detail
