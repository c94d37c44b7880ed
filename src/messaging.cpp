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

#include "runtime_impl.hpp"
#include "troupe/receive.hpp"

namespace troupe::detail {

namespace {



void make_runnable(runtime_impl* rt, scheduler* s, process* p) {
  p->state.store(pstate::runnable, std::memory_order_relaxed);
  if (s) {
    s->run_next(p);  // run the receiver next, here: a round trip stays on one core
  } else {
    rt->inject(p);
  }
}

}  // namespace

void deliver(pid to, message_node* m) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(to) : nullptr;
  if (!r) {
    m->destroy(m);  // to a dead pid: dropped, as in Erlang
  } else {
    m->generation = to.generation();
    if (r->mbox.push(m)) make_runnable(rt, current_scheduler(), r);
  }
  if (process* me = current_process()) charge(me, 1);
}

recv_cursor recv_begin() {
  process* p = current_process();
  if (!p) throw std::logic_error("troupe::receive: called outside a process");
  charge(p, 1);
  return {p, &p->saved.next, &p->saved_tail};
}

message_node* recv_pull(recv_cursor& c) noexcept {
  auto* p = static_cast<process*>(c.proc);
  mpsc_node* newest_first = p->mbox.take_all();
  if (!newest_first) return nullptr;
  // Reverse into arrival order, dropping messages meant for an earlier
  // process in this slot, and append to the saved list.
  const std::uint32_t gen = p->generation.load(std::memory_order_relaxed);
  mpsc_node* oldest_first = nullptr;
  mpsc_node* last = nullptr;
  while (newest_first) {
    mpsc_node* next = newest_first->next.load(std::memory_order_relaxed);
    auto* m = static_cast<message_node*>(newest_first);
    if (m->generation != gen) {
      m->destroy(m);
    } else {
      m->next.store(oldest_first, std::memory_order_relaxed);
      if (!last) last = m;
      oldest_first = m;
    }
    newest_first = next;
  }
  if (!oldest_first) return nullptr;
  p->saved_tail->store(oldest_first, std::memory_order_relaxed);
  p->saved_tail = &last->next;
  return static_cast<message_node*>(oldest_first);
}

}  // namespace troupe::detail
