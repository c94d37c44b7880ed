// send and selective receive.
//
// A process's messages live in two places: the lock-free mailbox that senders
// push to, and the "saved" list of messages already pulled out of it but not
// yet taken by a receive. A receive walks the saved list from its head, then
// pulls new messages one at a time, appending each to the saved list as it is
// tested. A receive that finds nothing parks and, when woken, resumes testing
// at the first new message: within one receive each message is tested once,
// so waiting behind a long unmatched prefix is not quadratic. (A new receive
// starts again from the head, as Erlang's does.)

#include <stdexcept>

#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "troupe/receive.hpp"

namespace troupe::detail {

namespace {

// A receiver with this many messages not yet taken is falling behind.
constexpr long long_queue = 1024;
constexpr int long_queue_cost = 50;



void make_runnable(runtime_impl* rt, scheduler* s, process* p) noexcept {
  p->state.store(pstate::runnable, std::memory_order_relaxed);
  if (s) {
    s->run_next(p);  // run the receiver next, here: a round trip stays on one core
  } else {
    rt->inject(p);
  }
}

}  // namespace

long post(pid to, message_node* m) noexcept {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(to) : nullptr;
  if (!r) {
    destroy_message(m);  // to a dead pid: dropped, as in Erlang
    return 0;
  }
  m->generation = to.generation();
  const long waiting = r->mbox.push(m);
  if (waiting < 0) make_runnable(rt, current_scheduler(), r);
  return waiting;
}

void deliver(pid to, message_node* m) {
  const long waiting = post(to, m);
  int cost = 1;
  if (waiting >= long_queue) {
    // The BEAM's sender punishment: sending to a process that is falling
    // behind costs more, so the receiver gets the CPU to catch up instead of
    // its mailbox growing without bound.
    cost += static_cast<int>(waiting / long_queue) * long_queue_cost;
  }
  if (process* me = current_process()) charge(me, cost);
}

recv_cursor recv_begin() {
  process* p = current_process();
  if (!p) throw std::logic_error("troupe::receive: called outside a process");
  charge(p, 1);
  // A handler's exception that the process caught is not what it dies of.
  if (p->crash_noted) [[unlikely]] {
    p->crash_noted = false;
    process_ext& x = ext_of(p);
    std::lock_guard lock(x.mu);
    x.crash_message.clear();
  }
  return {p, &p->saved.next, &p->saved_tail, &p->saved_count, &p->handling};
}

message_node* pull_mailbox(process* p) noexcept {
  mpsc_node* newest_first = p->mbox.take_all();
  if (!newest_first) return nullptr;
  // Reverse into arrival order, dropping messages meant for an earlier
  // process in this slot.
  const std::uint32_t gen = p->generation.load(std::memory_order_relaxed);
  mpsc_node* oldest_first = nullptr;
  while (newest_first) {
    mpsc_node* next = newest_first->next.load(std::memory_order_relaxed);
    auto* m = static_cast<message_node*>(newest_first);
    if (m->generation != gen) {
      destroy_message(m);
    } else {
      m->next.store(oldest_first, std::memory_order_relaxed);
      oldest_first = m;
    }
    newest_first = next;
  }
  // Append to the saved list. Exit signals travel in the mailbox, so they
  // keep their place among the messages from the same sender; here they
  // become exit messages (if trapped) in that place, or wait for
  // act_on_signals.
  message_node* first = nullptr;
  std::uint32_t kept = 0;
  while (oldest_first) {
    mpsc_node* next = oldest_first->next.load(std::memory_order_relaxed);
    auto* m = static_cast<message_node*>(oldest_first);
    if (m->type == type_of<pending_exit>()) m = take_signal(p, m);
    if (m) {
      m->next.store(nullptr, std::memory_order_relaxed);
      p->saved_tail->store(m, std::memory_order_relaxed);
      p->saved_tail = &m->next;
      if (!first) first = m;
      ++kept;
    }
    oldest_first = next;
  }
  p->saved_count.store(p->saved_count.load(std::memory_order_relaxed) + kept, std::memory_order_relaxed);
  return first;
}

message_node* recv_pull(recv_cursor& c) noexcept { return pull_mailbox(static_cast<process*>(c.proc)); }

}  // namespace troupe::detail
