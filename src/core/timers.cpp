// send_after, cancel_timer, sleep_for and receive timeouts.

#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>

#include "runtime_impl.hpp"
#include "troupe/receive.hpp"
#include "troupe/timer.hpp"

namespace troupe::detail {

namespace {

// A wait with a deadline needs a timer that ends it by then; the timer names
// the wait by sequence number, so a late timer cannot end a later wait. A
// timer is not cancelled when its wait ends in time: the process keeps it,
// and a later wait whose deadline is no earlier takes it over, and is woken
// early when it fires (the wait then arms anew). A process making calls back
// to back, each with a deadline 5 s on, so arms one timer per 5 s rather than
// one per call, and cancels none.
// False if the deadline has passed already (then nothing is armed).
bool arm_wake(process* p, std::int64_t deadline) {
  const std::uint32_t seq = p->wait_seq.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (timer_node* kept = p->wait_timer) {
    if (kept->deadline <= deadline) {
      // Either the timer sees the new seq when it fires, or it has fired
      // (status no longer pending) and this wait arms its own: seq_cst
      // orders the store before the load here as the CAS before the load in
      // scheduler::fire. No clock read: a deadline already passed has a
      // kept timer due, which ends the wait at once.
      kept->seq.store(seq, std::memory_order_seq_cst);
      if (kept->status.load(std::memory_order_seq_cst) == timer_status::pending) return true;
    }
    drop_wait_timer(p);
  }
  if (now_ns() >= deadline) return false;
  timer_node* n = new_timer();
  n->deadline = deadline;
  n->kind = timer_kind::wake;
  n->target = p->pid();
  n->seq.store(seq, std::memory_order_relaxed);
  n->owner = p->sched;
  n->refs.store(2, std::memory_order_relaxed);  // the heap's and the process's
  p->sched->add_timer(n);
  p->wait_timer = n;
  return true;
}

// A wait with no deadline: a kept timer must not end it.
void unname_wait(process* p) noexcept {
  if (p->wait_timer) p->wait_seq.fetch_add(1, std::memory_order_acq_rel);
}

bool cancel_node(timer_node* n) noexcept {
  timer_status pending = timer_status::pending;
  if (!n->status.compare_exchange_strong(pending, timer_status::cancelled, std::memory_order_acq_rel)) return false;
  if (message_node* m = std::exchange(n->msg, nullptr)) destroy_message(m);
  scheduler* s = current_scheduler();
  if (s == n->owner) {
    s->drop_timer(n);
  } else {
    timer_retain(n);  // for the owner, which unlinks it when it next runs
    n->owner->post_timer(n, /*wake=*/false);
  }
  return true;
}

}  // namespace

void drop_wait_timer(process* p) noexcept {
  if (timer_node* n = std::exchange(p->wait_timer, nullptr)) {
    if (current_scheduler()) cancel_node(n);  // else the runtime is going: its heaps go with it
    timer_release(n);
  }
}

std::int64_t deadline_after(std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() <= 0) return 0;
  // Long timeouts (a call's default 5 s) start from the kernel's tick clock,
  // which costs no TSC read: a client making calls back to back spent 5 % of
  // its time reading the clock for deadlines that were never reached. That
  // clock lags the precise one by less than a tick, so adding a tick makes
  // the deadline late by under a tick (4 ms at most, 0.4 % of a second) and
  // never early, as Erlang's timeouts never are.
  const std::int64_t now = timeout >= coarse_enough ? coarse_now_ns() : now_ns();
  if (timeout.count() > std::numeric_limits<std::int64_t>::max() - now) return -1;  // as good as forever
  return now + timeout.count();
}

bool recv_wait(recv_cursor& c, std::int64_t deadline) {
  auto* p = static_cast<process*>(c.proc);
  if (deadline == 0) return false;
  // A process on its way out (unwinding after it was told to exit, or
  // cleaning up after its body during shutdown) waits for nothing: it takes
  // what is already there, a timeout fires at once, and a receive that could
  // only wait for ever ends the process where it stands.
  if (p->doomed != doom::none) [[unlikely]] {
    if (deadline < 0) abandon(p, "waited in receive, with no timeout, while exiting");
    return false;
  }
  if (deadline > 0) {
    if (!arm_wake(p, deadline)) return false;
  } else {
    unname_wait(p);
  }
  switch_out(p, switch_reason::wait_msg);
  check_signals(p);
  return deadline < 0 || p->mbox.has_messages() || now_ns() < deadline;
}

timer_ref start_send_timer(pid to, std::int64_t deadline, message_node* m) {
  scheduler* here = current_scheduler();
  runtime_impl* rt = here ? &here->rt : nullptr;
  std::optional<outside_call> from_outside;
  timer_node* n;
  try {
    if (!here) rt = &from_outside.emplace("send_after").runtime();
    n = new_timer();
  } catch (...) {
    destroy_message(m);
    throw;
  }
  n->deadline = deadline > 0 ? deadline : deadline < 0 ? std::numeric_limits<std::int64_t>::max() : now_ns();
  n->kind = timer_kind::send;
  n->target = to;
  n->msg = m;
  n->refs.store(2, std::memory_order_relaxed);  // the heap's and the handle's
  if (here) {
    n->owner = here;
    here->add_timer(n);
  } else {
    // Plain threads' timers are spread over the schedulers.
    const unsigned k = rt->next_timer_owner.fetch_add(1, std::memory_order_relaxed);
    n->owner = rt->scheds[k % rt->scheds.size()].get();
    n->owner->post_timer(n, /*wake=*/true);
  }
  return timer_ref(n);
}

void pause_quietly(process* p, std::int64_t ns) noexcept {
  if (p->doomed != doom::none || p->finishing) return;
  try {
    if (arm_wake(p, now_ns() + ns)) switch_out(p, switch_reason::wait_timer);
    p->signals.fetch_and(~static_cast<std::uint32_t>(sig_timer_wake), std::memory_order_relaxed);  // this wait's, if any
  } catch (...) {
    // No memory for a timer: no wait.
  }
}

void sleep_until_ns(std::int64_t deadline) {
  process* p = current_process();
  if (!p) {
    if (deadline > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(deadline - now_ns()));
    } else if (deadline < 0) {
      for (;;) std::this_thread::sleep_for(std::chrono::hours(24));  // asked for forever
    }
    return;
  }
  charge(p, 1);
  while (deadline != 0 && (deadline < 0 || now_ns() < deadline) && p->doomed == doom::none) {
    if (deadline > 0) {
      if (!arm_wake(p, deadline)) break;
    } else {
      unname_wait(p);
    }
    switch_out(p, switch_reason::wait_timer);
    check_signals(p);
  }
}

}  // namespace troupe::detail

namespace troupe {

bool cancel_timer(const timer_ref& t) noexcept { return t && detail::cancel_node(t.node()); }

}  // namespace troupe
