#include "runtime_impl.hpp"

#include <stdexcept>
#include <thread>

#include "process_ext.hpp"
#include "process_lifecycle.hpp"
#include "stack_overflow.hpp"
#include "troupe/spawn_options.hpp"

namespace troupe::detail {

std::atomic<runtime_impl*> the_runtime{nullptr};

runtime_impl::runtime_impl(const runtime_options& o)
    : opts(o), table(o.max_processes), sharing(stacks, o.shared_stacks, default_stack_size) {
  unsigned n = opts.schedulers ? opts.schedulers : std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  opts.schedulers = n;
  spin_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(opts.spin_before_park).count();
  runtime_impl* expected = nullptr;
  if (!the_runtime.compare_exchange_strong(expected, this)) {
    throw std::logic_error("troupe::runtime: a runtime already exists in this program");
  }
  install_overflow_handler();
  scheds.reserve(n);
  for (unsigned i = 0; i < n; ++i) scheds.push_back(std::make_unique<scheduler>(*this, i));
  for (auto& s : scheds) s->start();
}

runtime_impl::~runtime_impl() {
  shutdown();
  uninstall_overflow_handler();
  the_runtime.store(nullptr, std::memory_order_release);
}

std::int64_t runtime_impl::dedicated_stacks_in_use() const noexcept {
  std::int64_t n = 0;
  for (const auto& s : scheds) n += s->own_stacks.load(std::memory_order_relaxed);
  return n;
}

void runtime_impl::inject(process* p) {
  global_q.push(p);
  notify_work();
}

void runtime_impl::notify_work() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (nspinning.load(std::memory_order_relaxed) == 0 && nidle.load(std::memory_order_relaxed) > 0) wake_one();
}

void runtime_impl::wake_one() noexcept {
  scheduler* s = nullptr;
  {
    std::lock_guard lock(idle_mu);
    if (idle_list.empty()) return;
    s = idle_list.back();
    idle_list.pop_back();
    s->in_idle_list = false;
    nidle.fetch_sub(1, std::memory_order_seq_cst);
    nspinning.fetch_add(1, std::memory_order_seq_cst);  // it wakes up looking for work
  }
  s->unpark();
}

void runtime_impl::wake_for_signal(process* p) {
  if (!claim_wait(p)) return;
  scheduler* s = current_scheduler();
  if (s && s->current) {
    s->run_next(p);
  } else {
    inject(p);
  }
}

bool claim_wait(process* p) noexcept {
  pstate sleeping = pstate::waiting_timer;
  if (p->mbox.try_unblock() ||
      p->state.compare_exchange_strong(sleeping, pstate::runnable, std::memory_order_acq_rel)) {
    p->state.store(pstate::runnable, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void runtime_impl::process_exited() noexcept {
  if (live_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lock(live_mu_);
    live_cv_.notify_all();
  }
}

void runtime_impl::wait_idle() {
  std::unique_lock lock(live_mu_);
  live_cv_.wait(lock, [&] { return live_.load(std::memory_order_acquire) == 0; });
}

void runtime_impl::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (current_scheduler()) std::terminate();  // destroying the runtime from inside a process
  stopping.store(true, std::memory_order_seq_cst);
  // Every live process gets the shutdown signal: blocked ones are woken and
  // unwind from their wait; running ones stop at their next runtime call.
  table.for_each_slot([&](process& p) {
    if (p.state.load(std::memory_order_seq_cst) == pstate::free) return;
    p.signals.fetch_or(sig_shutdown, std::memory_order_seq_cst);
    wake_for_signal(&p);
  });
  wait_idle();
  quit.store(true, std::memory_order_seq_cst);
  for (auto& s : scheds) s->unpark();
  for (auto& s : scheds) s->join();
  for (auto& s : scheds) s->release_leftovers();
  // Messages sent to a process as it died may still sit in its old mailbox;
  // exts live as long as their slots.
  table.for_each_slot([](process& p) {
    delete p.ext.exchange(nullptr, std::memory_order_acq_rel);
    destroy_list(p.mbox.drain());
  });
}

}  // namespace troupe::detail

namespace troupe {

runtime::runtime(runtime_options opts) : impl_(std::make_unique<detail::runtime_impl>(opts)) {}
runtime::~runtime() = default;
unsigned runtime::schedulers() const noexcept { return impl_->opts.schedulers; }
std::size_t runtime::process_count() const noexcept { return impl_->live(); }
void runtime::wait_idle() { impl_->wait_idle(); }

}  // namespace troupe
