#include "scheduler.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "process_heap.hpp"
#include "cpu_relax.hpp"
#include "process_ext.hpp"
#include "process_lifecycle.hpp"
#include "troupe/preempt_check.h"
#include "runtime_impl.hpp"
#include "troupe/preempt_check.h"
#include "stack_headroom.hpp"
#include "stack_overflow.hpp"
#include "suspend_hooks.hpp"

namespace troupe::detail {

namespace {

thread_local scheduler* tls_scheduler = nullptr;

constexpr std::uint64_t stack_canary = 0x7472'6f75'7065'2121ull;

fiber_info this_thread_stack() {
  fiber_info f;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    f.stack_bottom = addr;
    f.stack_size = size;
  }
#ifdef TROUPE_TSAN
  f.tsan_fiber = __tsan_get_current_fiber();
#endif
  return f;
}

fiber_info fiber_of(const process* p) {
  fiber_info f;
  f.stack_bottom = p->stack.lo;
  f.stack_size = p->stack.size;
#ifdef TROUPE_TSAN
  f.tsan_fiber = p->tsan_fiber;
#endif
  return f;
}

}  // namespace

__attribute__((noinline)) scheduler* current_scheduler() noexcept {
  scheduler* s = tls_scheduler;
  asm volatile("" ::: "memory");
  return s;
}

std::int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t coarse_now_ns() noexcept {
  static const std::int64_t tick = [] {
    timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return std::int64_t{-1};
    return std::int64_t{res.tv_sec} * 1'000'000'000 + res.tv_nsec;
  }();
  if (tick < 0 || tick > 50'000'000) return now_ns();  // no tick clock, or a coarse one
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec + tick;
}

scheduler::scheduler(runtime_impl& r, unsigned i, bool is_spare)
    : rt(r), id(i), spare(is_spare), rng_(0x9e3779b9u * (i + 1)) {}

void scheduler::start() {
  thread_ = std::thread([this] { loop(); });
  started_.store(true, std::memory_order_release);
}

void scheduler::stand_in() {
  standing_in.store(true, std::memory_order_seq_cst);
  if (!started()) {
    start();
  } else {
    parker_.unpark();
  }
}

void scheduler::unpark() noexcept {
  parker_.unpark();
  rt.events.interrupt_if_in(this);
}

void scheduler::stand_down() noexcept {
  standing_in.store(false, std::memory_order_seq_cst);
  parker_.unpark();
}

void scheduler::join() {
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------- queues

void scheduler::run_next(process* p) {
  if (process* displaced = runnext_.exchange(p)) push_local(displaced);
}

void scheduler::push_local(process* p) {
  if (!runq_.push(p)) {
    // Full: move half of it (and p) to the global queue, oldest first.
    process* spill[run_queue::capacity / 2 + 1];
    const std::uint32_t n = runq_.take_front(spill, run_queue::capacity / 2);
    spill[n] = p;
    rt.global_q.push_bulk(spill, n + 1);
  }
  rt.notify_work();
}

process* scheduler::next_local() noexcept {
  // Now and then look at the global queue first, so work there cannot starve
  // behind a busy local queue.
  if (++tick_ % 61 == 0) {
    if (process* p = take_global()) return p;
  }
  if (process* p = runnext_.take()) {
    if (slice_left_ > 0) {
      p->budget = slice_left_;  // a woken process inherits the slice: a ping-pong pair cannot starve the queue
      return p;
    }
    if (!runq_.push(p)) return (p->budget = reductions_per_slice, p);
  }
  if (process* p = runq_.pop()) {
    p->budget = reductions_per_slice;
    return p;
  }
  return nullptr;
}

process* scheduler::take_global() noexcept {
  process* batch[32];
  const std::size_t n = rt.global_q.take(batch, 32);
  if (n == 0) return nullptr;
  for (std::size_t i = 1; i < n; ++i) {
    if (!runq_.push(batch[i])) rt.global_q.push(batch[i]);
  }
  if (n > 1) rt.notify_work();
  batch[0]->budget = reductions_per_slice;
  return batch[0];
}

process* scheduler::steal() noexcept {
  // A spare standing in also takes from the other spares at work (one of
  // them may hold a hog too); the schedulers leave the spares alone.
  const std::size_t mains = rt.scheds.size();
  const std::size_t n = spare ? mains + rt.spares.size() : mains;
  if (n < 2) return nullptr;
  rng_ = rng_ * 1664525u + 1013904223u;
  const std::size_t start = rng_ % n;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t v = (start + k) % n;
    // Spareness from the index: `spare` shares a line with what the victim
    // writes at every switch.
    const bool is_spare = v >= mains;
    scheduler* victim = is_spare ? rt.spares[v - mains].get() : rt.scheds[v].get();
    if (is_spare && !victim->standing_in.load(std::memory_order_acquire)) continue;
    if (victim == this) continue;
    process* got[run_queue::capacity / 2 + 1];
    const std::uint32_t m = victim->runq_.steal_half(got);
    if (m == 0) {
      // A held thread will not run what it woke last for as long as it is
      // held: that one too goes to whoever looks.
      if (!victim->held.load(std::memory_order_acquire)) continue;
      process* p = victim->runnext_.steal();
      if (!p) continue;
      p->budget = reductions_per_slice;
      return p;
    }
    for (std::uint32_t i = 1; i < m; ++i) {
      if (!runq_.push(got[i])) rt.global_q.push(got[i]);
    }
    got[0]->budget = reductions_per_slice;
    return got[0];
  }
  return nullptr;
}

void scheduler::stop_spinning() noexcept {
  if (!spinning_) return;
  spinning_ = false;
  // The last spinner to find work wakes another, so newly queued work keeps
  // finding an awake scheduler.
  if (rt.nspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) rt.notify_work();
}

process* scheduler::find_work() {
  if (process* p = take_global()) return p;
  // Sockets (or whatever else is attached) may have woken something: their
  // handlers run here and put what they wake on this queue.
  if (rt.events.attached() && rt.events.poll(this, now_ns())) {
    if (process* p = next_local()) return p;
    if (process* p = take_global()) return p;
  }

  // Spin a while: work often arrives within microseconds, and waking a parked
  // thread costs far more than that.
  if (!spinning_) {
    const int busy = static_cast<int>(rt.scheds.size()) - rt.nidle.load(std::memory_order_relaxed);
    if (2 * rt.nspinning.load(std::memory_order_relaxed) < busy) {
      spinning_ = true;
      rt.nspinning.fetch_add(1, std::memory_order_seq_cst);
    }
  }
  if (spinning_) {
    const std::int64_t until = now_ns() + rt.spin_ns;
    do {
      for (int i = 0; i < 64; ++i) cpu_relax();
      process* p = steal();
      if (!p) p = take_global();
      if (p) {
        stop_spinning();
        return p;
      }
      if (posted_count_.load(std::memory_order_relaxed) != 0 || rt.quit.load(std::memory_order_relaxed)) break;
      if (timer_due()) break;
    } while (now_ns() < until);
    spinning_ = false;
    rt.nspinning.fetch_sub(1, std::memory_order_seq_cst);
  }

  // Park. Register as idle first, then look once more: a waker either sees us
  // in the idle list or we see its work. The first to park waits in the
  // event source instead (a waker's unpark interrupts that wait), so the
  // idle runtime still hears from its sockets.
  const bool waiter = rt.events.enter(this);
  {
    std::lock_guard lock(rt.idle_mu);
    rt.idle_list.push_back(this);
    in_idle_list = true;
    rt.nidle.fetch_add(1, std::memory_order_seq_cst);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  process* p = take_global();
  if (!p) p = steal();
  const bool other_reason = p || posted_count_.load(std::memory_order_relaxed) != 0 ||
                            rt.quit.load(std::memory_order_acquire);
  if (!other_reason) {
    const std::int64_t timeout = until_first_timer();
    if (!waiter || !rt.events.wait(timeout)) parker_.park(timeout);
    rt.dog.scheduler_woke();
  }
  if (waiter) rt.events.leave();
  {
    std::lock_guard lock(rt.idle_mu);
    if (in_idle_list) {
      std::erase(rt.idle_list, this);
      in_idle_list = false;
      rt.nidle.fetch_sub(1, std::memory_order_seq_cst);
    } else {
      spinning_ = true;  // a waker took us off the list and counted us as spinning
    }
  }
  if (p) stop_spinning();
  return p;
}

// ---------------------------------------------------------------- spares

// A spare at work takes what the held schedulers cannot run, and sleeps a
// millisecond at a time when there is none: it is at work only while some
// thread is held, and it must not sit in the idle list the schedulers'
// wake-ups go through.
process* scheduler::find_work_standing_in() {
  for (auto& s : rt.scheds) {
    if (s->held.load(std::memory_order_acquire) && s->timer_due()) fire_timers_of(*s);
  }
  for (auto& s : rt.spares) {
    if (s.get() != this && s->held.load(std::memory_order_acquire) && s->timer_due()) fire_timers_of(*s);
  }
  if (process* p = next_local()) return p;  // woken by those timers
  if (process* p = take_global()) return p;
  if (process* p = steal()) return p;
  std::int64_t timeout = 1'000'000;
  if (const std::int64_t t = until_first_timer(); t >= 0) timeout = std::min(timeout, t);
  parker_.park(timeout);
  return nullptr;
}

// At rest a spare owns no processes, only the timers its processes armed
// while it stood in: it sleeps until the first is due, fires it, and hands
// what it woke to the schedulers.
void scheduler::rest_as_spare() {
  hand_back_queue();
  const std::int64_t timeout = until_first_timer();
  if (!rt.quit.load(std::memory_order_acquire) && !standing_in.load(std::memory_order_seq_cst)) parker_.park(timeout);
  run_timers();
  hand_back_queue();
}

void scheduler::hand_back_queue() noexcept {
  bool any = false;
  if (process* p = runnext_.take()) {
    rt.global_q.push(p);
    any = true;
  }
  while (process* p = runq_.pop()) {
    rt.global_q.push(p);
    any = true;
  }
  if (any) rt.notify_work();
}

// ---------------------------------------------------------------- timers

void scheduler::post_timer(timer_node* n, bool wake) {
  posted_timers_.enqueue(n);
  posted_count_.fetch_add(1, std::memory_order_release);
  if (wake) unpark();
}

void scheduler::add_timer(timer_node* n) {
  std::lock_guard lock(timers_mu_);
  timers_.push(n);
  note_next_due();
}

void scheduler::drop_timer(timer_node* n) noexcept {
  {
    std::lock_guard lock(timers_mu_);
    if (n->heap_index == timer_node::not_in_heap) return;  // still in the posted queue
    timers_.erase(n);
    note_next_due();
  }
  timer_release(n);
}

void scheduler::fire_due(scheduler& runner) noexcept {
  if (std::uint32_t posted = posted_count_.load(std::memory_order_acquire); posted != 0) {
    // What was posted so far, and no more: threads that keep posting must
    // not keep this scheduler from its processes.
    std::lock_guard lock(timers_mu_);
    timer_node* n;
    while (posted-- > 0 && posted_timers_.try_dequeue(n)) {
      posted_count_.fetch_sub(1, std::memory_order_relaxed);
      // A posted node is either a new timer (not yet in the heap) or a cancel.
      const bool cancelled = n->status.load(std::memory_order_acquire) != timer_status::pending;
      if (!cancelled && n->heap_index == timer_node::not_in_heap) {
        timers_.push(n);  // the posted reference becomes the heap's
      } else {
        if (cancelled && n->heap_index != timer_node::not_in_heap) {
          timers_.erase(n);
          timer_release(n);
        }
        timer_release(n);
      }
    }
    note_next_due();
  }
  if (next_due_.load(std::memory_order_acquire) == no_timer) return;
  const std::int64_t now = now_ns();
  for (;;) {
    timer_node* due = nullptr;
    {
      std::lock_guard lock(timers_mu_);
      if (!timers_.empty() && timers_.top()->deadline <= now) {
        due = timers_.pop();
        note_next_due();
      }
    }
    if (!due) return;
    runner.fire(due);  // unlocked: firing delivers and wakes
  }
}

void scheduler::fire(timer_node* n) noexcept {
  timer_status expected = timer_status::pending;
  // seq_cst: see arm_wake in timers.cpp, which may re-aim a wake timer.
  if (n->status.compare_exchange_strong(expected, timer_status::done, std::memory_order_seq_cst)) {
    if (n->kind == timer_kind::send) {
      message_node* m = std::exchange(n->msg, nullptr);
      try {
        deliver(n->target, m);
      } catch (...) {
        // deliver only throws to unwind a process; we are not in one.
      }
    } else if (process* p = rt.table.lookup(n->target);
               p && p->wait_seq.load(std::memory_order_acquire) == n->seq.load(std::memory_order_seq_cst)) {
      // The process may still be switching into this wait: a kept timer
      // fires on the thread that armed it, which the process may have left
      // since, and a spare fires a held scheduler's timers. Then the claim
      // fails, and the mark, made first, is what its after_switch sees once
      // it has parked (a Dekker pair: mark then claim here, park then look
      // there). A mark left on a process that was woken anyway costs it one
      // early wake-up at most, which every wait tolerates.
      p->signals.fetch_or(sig_timer_wake, std::memory_order_seq_cst);
      if (claim_wait(p)) push_local(p);
    }
  }
  timer_release(n);
}

// ---------------------------------------------------------------- running

void scheduler::loop() {
  tls_scheduler = this;
#ifndef TROUPE_ALLOC_VIA_LIBC
  block_cache blocks{};
  tls_block_cache = &blocks;
#endif
  thread_fiber = this_thread_stack();
  preempt_flag.store(&troupe_preempt_flag, std::memory_order_release);
  if (clockid_t c; pthread_getcpuclockid(pthread_self(), &c) == 0) cpu_clock.store(c, std::memory_order_release);
  eh = eh_globals();
  void* alt_stack = enter_alt_stack();
  while (!rt.quit.load(std::memory_order_acquire)) {
    if (spare && !standing_in.load(std::memory_order_acquire)) {
      rest_as_spare();
      continue;
    }
    run_timers();
    process* p = next_local();
    if (!p) p = spare ? find_work_standing_in() : find_work();
    if (p) {
      // A scheduler that found work is no longer looking: it must not count
      // as spinning while it runs, or nobody would wake the parked ones.
      stop_spinning();
      dispatch(p);
    }
  }
  leave_alt_stack(alt_stack);
#ifndef TROUPE_ALLOC_VIA_LIBC
  tls_block_cache = nullptr;
  flush_block_cache(blocks);
#endif
  tls_scheduler = nullptr;
}

// Switching. A process that stops running (to wait, yield or exit) switches
// straight to the next process of this scheduler when there is one, and to the
// scheduler loop otherwise. Either way the context it leaves is only complete
// once the switch is done, so whatever follows it, the next process or the
// loop, first runs after_switch() to put the previous process where it
// belongs: parked, queued, or recycled.

void scheduler::dispatch(process* p) {
  if (!prepare(p)) return;
  pending_prev_ = nullptr;
  in_process.store(true, std::memory_order_release);
  const transfer_t t = switch_to(p->ctx, this, fiber_of(p));
  in_process.store(false, std::memory_order_release);
  *eh = eh_state{};  // after a stack overflow the state may be the dead process's
  static_cast<scheduler*>(t.data)->after_switch(t.fctx);
}

bool scheduler::prepare(process* p) {
  p->sched = this;
  current = p;
  slice_seq.store(slice_seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  running.store(p, std::memory_order_release);
  __atomic_store_n(&troupe_preempt_flag, 0, __ATOMIC_RELAXED);  // a new slice: a request for the last one is stale
  p->state.store(pstate::running, std::memory_order_relaxed);
  if (p->share.load(std::memory_order_relaxed)) return enter_shared(p);
  return p->ctx || start_process(p);
}

process* scheduler::pick_direct() {
  // Visit the loop now and then, and whenever timers or the global queue
  // may need it. (Reading the clock on every 8th switch only, which saves
  // calls a clock read each, made timers late by up to 8 slices of long
  // ones: a process waiting 1 ms among processes that throw under TSan
  // waited seconds. A cheaper clock is for the preemption work.)
  if ((++tick_ & 63) == 0 || posted_count_.load(std::memory_order_relaxed) != 0) return nullptr;
  if (timer_due()) return nullptr;
  for (;;) {
    process* q = next_local();
    if (!q || prepare(q)) return q;
  }
}

void scheduler::after_switch(fcontext_t from) {
  // Before the process that switched away can run anywhere else.
  if (out.newest) [[unlikely]]
    hand_over_outbox(this);
  process* prev = std::exchange(pending_prev_, nullptr);
  if (!prev) {  // we came from the loop
    ctx = from;
    return;
  }
  prev->ctx = from;
  if (!prev->stack.guarded && prev->reason != switch_reason::exit && !canary_intact(prev)) {
    return finish_overflowed(prev);
  }
  // A sharer that ends (exits, overflows, or is abandoned) gives its stack
  // back in finish(), after the scrub: released here, another process could
  // take the stack, and the scrub would wipe its frames and the sharing
  // would save the dead one's.
  if (prev->share.load(std::memory_order_relaxed) && prev->reason != switch_reason::exit &&
      prev->reason != switch_reason::rest && prev->reason != switch_reason::stack_overflow &&
      prev->reason != switch_reason::abandon) {
    leave_shared(prev, /*ended=*/false);
  }
  switch (prev->reason) {
    case switch_reason::yield:
      prev->state.store(pstate::runnable, std::memory_order_release);
      push_local(prev);
      return;
    case switch_reason::wait_msg:
      prev->state.store(pstate::waiting_msg, std::memory_order_relaxed);
      // Parking is one compare-exchange on the mailbox word: it fails if a
      // message came in since the process last looked.
      if (!prev->mbox.try_block(prev->saved_count.load(std::memory_order_relaxed), prev->mbox_counted)) return requeue(prev);
      // A signal set (sig_timer_wake included) before we parked found nobody
      // to wake: look once more.
      if (prev->signals.load(std::memory_order_seq_cst) != 0 && prev->mbox.try_unblock()) requeue(prev);
      return;
    case switch_reason::wait_timer: {
      prev->state.store(pstate::waiting_timer, std::memory_order_seq_cst);
      pstate sleeping = pstate::waiting_timer;
      if (prev->signals.load(std::memory_order_seq_cst) != 0 &&
          prev->state.compare_exchange_strong(sleeping, pstate::runnable, std::memory_order_acq_rel)) {
        requeue(prev);
      }
      return;
    }
    case switch_reason::rest:
      // Nothing of it is on the stack: give the stack back, then park as a
      // receive does; the next message starts its body on a fresh stack.
      release_stack(prev);
      prev->state.store(pstate::resting, std::memory_order_relaxed);
      if (!prev->mbox.try_block(prev->saved_count.load(std::memory_order_relaxed), prev->mbox_counted)) return requeue(prev);
      // (A timer's mark is not for a rest, which has none: it would only
      // wake the handler to rest again.)
      if ((prev->signals.load(std::memory_order_seq_cst) & ~static_cast<std::uint32_t>(sig_timer_wake)) != 0 &&
          prev->mbox.try_unblock()) {
        requeue(prev);
      }
      return;
    case switch_reason::exit:
      finish(prev);
      return;
    case switch_reason::stack_overflow:
      finish_overflowed(prev);
      return;
    case switch_reason::abandon: {
      const process_ext& x = ext_of(prev);
      const exit_reason reason = x.doom_reason;  // the ext is reset as the record is recycled
      finish_abandoned(prev, reason, x.doom_reported);
      return;
    }
  }
}

// Below the stacks that the mapping budget leaves without a guard page (old
// kernels only, see stack_pool.hpp), a canary word: checked at every switch,
// it catches an overflow after the fact (the memory below may already be
// damaged), where a guard page catches it as it happens.
void scheduler::arm_canary(process* p) noexcept {
  if (!p->stack.guarded) *reinterpret_cast<std::uint64_t*>(p->stack.lo) = stack_canary;
}

bool scheduler::canary_intact(const process* p) noexcept {
  return *reinterpret_cast<const std::uint64_t*>(p->stack.lo) == stack_canary;
}

__attribute__((no_sanitize("address"))) void scheduler::abandon_overflowed(process* p) noexcept {
  p->reason = switch_reason::stack_overflow;
  pending_prev_ = p;
  current = nullptr;
  switch_to(ctx, this, thread_fiber, /*leaving_for_good=*/true);
  __builtin_unreachable();
}

void overflow_at_call(process* p) noexcept { current_scheduler()->abandon_overflowed(p); }

void ensure_headroom() noexcept { ensure_headroom(current_process()); }

void scheduler::finish_overflowed(process* p) noexcept {
  finish_abandoned(p, exit_reason::stack_overflow(), /*report=*/true);
}

void scheduler::finish_abandoned(process* p, const exit_reason& reason, bool report) noexcept {
  // Nothing more can run on its stack: tell its links and monitors from here,
  // and scrub the stack (its frames will never be unwound) before reuse.
  current = nullptr;
  exit_process(p, reason, report);
  // The messages its handlers were running on were owned by frames that will
  // never be unwound.
  destroy_list(p->handling.exchange(nullptr, std::memory_order_relaxed));
  if (p->stack.lo) ::madvise(p->stack.lo, p->stack.size, MADV_DONTNEED);
  finish(p);
}

void scheduler::requeue(process* p) {
  p->state.store(pstate::runnable, std::memory_order_relaxed);
  run_next(p);
}

bool scheduler::start_process(process* p) {
  // A stack over 1 MiB was mapped at spawn (stack_pool::acquire_dedicated).
  if (!p->stack.lo) {
    try {
      if (over_stack_budget()) {
        if (shared_stack* shared = rt.sharing.bind(p->stack_request.load(std::memory_order_relaxed), stacks)) {
          p->stack = shared->stack;
          p->share.store(shared, std::memory_order_relaxed);
          return enter_shared(p);
        }
      }
      p->stack = rt.stacks.acquire(p->stack_request.load(std::memory_order_relaxed), stacks);
    } catch (const std::exception& e) {
      current = nullptr;  // nobody to charge for the messages fail_start sends
      p->stack = {};
      fail_start(p, e.what());
      recycle(rt, p, &records);
      return false;
    }
  }
  own_stacks.store(own_stacks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  make_context(p);
  return true;
}

bool scheduler::over_stack_budget() noexcept {
  const std::size_t budget = rt.opts.dedicated_stacks;
  if (budget == SIZE_MAX) return false;
  const auto limit = static_cast<std::int64_t>(std::min<std::size_t>(budget, INT64_MAX / 2));
  const std::int64_t mine = own_stacks.load(std::memory_order_relaxed);
  // The other schedulers' counts change at every start and exit there, so
  // reading them costs a cache miss: do it now and then, and always near the
  // budget (where an estimate could let many more through).
  if ((++budget_checks_ & 63) == 0 || mine + others_stacks_ + 64 >= limit) {
    others_stacks_ = rt.dedicated_stacks_in_use() - mine;
  }
  return mine + others_stacks_ >= limit;
}

bool scheduler::enter_shared(process* p) {
  if (!shared_stacks::claim(p)) {  // it waits for the stack; its release queues it again
    current = nullptr;
    return false;
  }
  if (!p->ctx) {
    make_context(p);
  } else {
    // A sharer that overflowed here had the stack scrubbed, canary and all;
    // any overflow since was caught when its process switched away.
    arm_canary(p);
  }
  return true;
}

void scheduler::leave_shared(process* p, bool ended) {
  if (process* waiter = shared_stacks::release(p, ended)) push_local(waiter);
}

void scheduler::make_context(process* p) {
#ifdef TROUPE_ASAN
  // Frames of a process that exited (or overflowed) without returning leave
  // their redzones poisoned; this stack starts clean.
  __asan_unpoison_memory_region(p->stack.lo, p->stack.size);
#endif
  arm_canary(p);
  p->ctx = boost::context::detail::make_fcontext(p->stack.lo + p->stack.size, p->stack.size, &process_entry);
#ifdef TROUPE_TSAN
  p->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void scheduler::finish(process* p) noexcept {
  release_stack(p);
  recycle(rt, p, &records);
}

void scheduler::release_stack(process* p) noexcept {
  if (p->share.load(std::memory_order_relaxed)) {
    leave_shared(p, /*ended=*/true);
    p->share.store(nullptr, std::memory_order_relaxed);
  } else if (p->stack.lo) {
    rt.stacks.release(p->stack, stacks);
    own_stacks.store(own_stacks.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
  p->stack = {};
  p->ctx = nullptr;
#ifdef TROUPE_TSAN
  __tsan_destroy_fiber(p->tsan_fiber);
  p->tsan_fiber = nullptr;
#endif
}

void switch_out(process* p, switch_reason why) {
  if (p->has_suspend_hooks) [[unlikely]]
    run_suspend_hooks(p);
  p->reason = why;
  scheduler* s = p->sched;
  s->slice_left_ = why == switch_reason::yield ? 0 : p->budget;
  s->pending_prev_ = p;
  const bool for_good = why == switch_reason::exit || why == switch_reason::rest || why == switch_reason::abandon;
  eh_save(s->eh, p->eh);
  transfer_t t;
  // An abandoned process is settled from the loop (finish_abandoned works
  // with no process current).
  process* next = why == switch_reason::abandon ? nullptr : s->pick_direct();
  if (next) {
    t = switch_to(next->ctx, s, fiber_of(next), for_good);
  } else {
    s->current = nullptr;
    t = switch_to(s->ctx, s, s->thread_fiber, for_good);
  }
  auto* now = static_cast<scheduler*>(t.data);  // possibly another thread than the one it left
  eh_resume(now->eh, p->eh);
  now->after_switch(t.fctx);
}

void scheduler::release_leftovers() noexcept {
  timer_node* n;
  while (posted_timers_.try_dequeue(n)) {  // posted adds and cancels each hold a reference
    timer_status pending = timer_status::pending;
    n->status.compare_exchange_strong(pending, timer_status::done, std::memory_order_acq_rel);
    timer_release(n);
  }
  for (timer_node* t : timers_.take_all()) {
    t->status.store(timer_status::done, std::memory_order_release);
    timer_release(t);
  }
  rt.stacks.drain(stacks);
}

}  // namespace troupe::detail
