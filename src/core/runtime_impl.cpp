#include "runtime_impl.hpp"
#include "stack_headroom.hpp"

#include <exception>
#include <new>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <thread>

#include "process_ext.hpp"
#include "process_lifecycle.hpp"
#include "stack_overflow.hpp"
#include "troupe/log.hpp"
#include "troupe/spawn_options.hpp"

namespace troupe::detail {

std::atomic<runtime_impl*> the_runtime{nullptr};
std::atomic<int> fail_scheduler_start{-1};

namespace {

// Debian's mimalloc, which replaces operator new for the whole program, calls
// the new-handler when memory runs out and aborts the program when there is
// none (its C build cannot throw). With this one installed while a runtime
// lives, a failed allocation throws std::bad_alloc in the process that made
// it, which then ends with that reason, alone.
[[noreturn]] void throw_bad_alloc() { throw std::bad_alloc(); }

void install_new_handler() noexcept {
  if (!std::get_new_handler()) std::set_new_handler(&throw_bad_alloc);
}

void uninstall_new_handler() noexcept {
  if (std::get_new_handler() == &throw_bad_alloc) std::set_new_handler(nullptr);
}

unsigned scheduler_count(const runtime_options& o) {
  unsigned n = o.schedulers ? o.schedulers : std::thread::hardware_concurrency();
  return n ? n : 1;
}

// Every thread that runs processes keeps a cache of records.
std::size_t record_caches(const runtime_options& o) { return scheduler_count(o) + o.spare_threads; }

// 1..255, a new one for each runtime of the program: a pid kept from an
// earlier runtime names nobody in this one.
std::uint32_t next_creation() {
  static std::atomic<std::uint32_t> runtimes{0};
  return runtimes.fetch_add(1, std::memory_order_relaxed) % 255 + 1;
}

}  // namespace

runtime_impl::runtime_impl(const runtime_options& o)
    : opts(o),
      table(o.max_processes, record_caches(o), next_creation()),
      sharing(stacks, o.shared_stacks, default_stack_size) {
  const unsigned n = scheduler_count(o);
  opts.schedulers = n;
  spin_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(opts.spin_before_park).count();
  runtime_impl* expected = nullptr;
  if (!the_runtime.compare_exchange_strong(expected, this)) {
    throw std::logic_error("troupe::runtime: a runtime already exists in this program");
  }
  install_overflow_handler();
  install_new_handler();
  try {
    scheds.reserve(n);
    for (unsigned i = 0; i < n; ++i) scheds.push_back(std::make_unique<scheduler>(*this, i));
    spares.reserve(opts.spare_threads);
    for (unsigned i = 0; i < opts.spare_threads; ++i) spares.push_back(std::make_unique<scheduler>(*this, n + i, true));
    for (auto& s : scheds) {
      if (fail_scheduler_start.load(std::memory_order_relaxed) == static_cast<int>(s->id))
        throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again), "injected");
      s->start();
    }
    dog.start();
  } catch (const std::exception& e) {
    // The threads that did start are stopped and joined before the error
    // goes to the caller (a joinable std::thread would terminate).
    quit.store(true, std::memory_order_seq_cst);
    for (auto& s : scheds) s->unpark();
    for (auto& s : scheds) s->join();
    for (auto& s : scheds) s->release_leftovers();
    uninstall_overflow_handler();
    uninstall_new_handler();
    the_runtime.store(nullptr, std::memory_order_release);
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            fmt::format("troupe::runtime: could not start {} scheduler threads ({})", n, e.what()));
  }
}

runtime_impl::~runtime_impl() {
  shutdown();
  uninstall_overflow_handler();
  uninstall_new_handler();
  the_runtime.store(nullptr, std::memory_order_seq_cst);
  outside_call::drain();  // a call that saw the runtime and is refusing
}

std::int64_t runtime_impl::dedicated_stacks_in_use() const noexcept {
  std::int64_t n = 0;
  for (const auto& s : scheds) n += s->own_stacks.load(std::memory_order_relaxed);
  for (const auto& s : spares) n += s->own_stacks.load(std::memory_order_relaxed);
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
  ensure_headroom();  // a send from a process may wake a scheduler
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

std::atomic<int> outside_call::in_flight{0};

void outside_call::refuse(const char* what, bool stopping) {
  throw std::logic_error(
      fmt::format("troupe::{}: {}", what, stopping ? "the runtime is shutting down" : "no runtime is running"));
}

void outside_call::drain() noexcept {
  while (in_flight.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

void runtime_impl::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  stopping.store(true, std::memory_order_seq_cst);
  // Spawns from plain threads that got in before `stopping` finish first (and
  // see it: their processes start with the shutdown signal).
  outside_call::drain();
  // Every live process gets the shutdown signal: blocked ones are woken and
  // unwind from their wait; running ones stop at their next runtime call.
  table.for_each_slot([&](process& p) {
    if (p.state.load(std::memory_order_seq_cst) == pstate::free) return;
    p.signals.fetch_or(sig_shutdown, std::memory_order_seq_cst);
    wake_for_signal(&p);
  });
  dog.preempt_all();  // a process in preemptible code sees the signal at its next safe point
  wait_idle();
  blocking.stop();  // its jobs' processes are gone, so are its jobs
  services.stop_all();  // what the processes closed as they ended is done
  quit.store(true, std::memory_order_seq_cst);
  dog.stop();  // no spare is put to work from here on
  for (auto& s : scheds) s->unpark();
  for (auto& s : spares) s->unpark();
  for (auto& s : scheds) s->join();
  for (auto& s : spares) s->join();
  for (auto& s : spares) s->release_leftovers();
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
runtime::~runtime() noexcept(false) {
  if (!detail::current_scheduler()) return;  // impl_ shuts down
  // From inside a process: shutting down would wait for this very process.
  // The runtime goes on (it is leaked, not destroyed) and the caller learns why.
  detail::runtime_impl* leaked = impl_.release();
  (void)leaked;
  if (std::uncaught_exceptions() > 0) {
    logger()->error("troupe::runtime destroyed from inside process {} while unwinding: the runtime keeps running", self());
    return;
  }
  throw std::logic_error("troupe::runtime: destroyed from inside a process (the runtime keeps running)");
}
unsigned runtime::schedulers() const noexcept { return impl_->opts.schedulers; }
std::size_t runtime::process_count() const noexcept { return impl_->live(); }
void runtime::wait_idle() {
  if (detail::current_scheduler()) throw std::logic_error("troupe::runtime::wait_idle: called from inside a process");
  impl_->wait_idle();
}

}  // namespace troupe
