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

std::atomic<mpsc_node*>* link_of(recv_cursor& c) noexcept { return static_cast<std::atomic<mpsc_node*>*>(c.link); }

void make_runnable(runtime_impl* rt, process* p) {
  scheduler* s = current_scheduler();
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
    r->mbox.push(m);
    pstate st = r->state.load(std::memory_order_seq_cst);
    if (st == pstate::waiting_msg &&
        r->state.compare_exchange_strong(st, pstate::runnable, std::memory_order_acq_rel)) {
      make_runnable(rt, r);
    }
  }
  if (process* me = current_process()) charge(me, 1);
}

recv_cursor recv_begin() {
  process* p = current_process();
  if (!p) throw std::logic_error("troupe::receive: called outside a process");
  charge(p, 1);
  return {p, &p->saved.next};
}

message_node* recv_peek(recv_cursor& c) noexcept {
  auto* link = link_of(c);
  if (mpsc_node* n = link->load(std::memory_order_relaxed)) return static_cast<message_node*>(n);
  // At the end of the saved list: pull the next message from the mailbox.
  auto* p = static_cast<process*>(c.proc);
  const std::uint32_t gen = p->generation.load(std::memory_order_relaxed);
  while (mpsc_node* n = p->mbox.pop()) {
    auto* m = static_cast<message_node*>(n);
    if (m->generation != gen) {  // meant for an earlier process in this slot
      m->destroy(m);
      continue;
    }
    m->next.store(nullptr, std::memory_order_relaxed);
    p->saved_tail->store(m, std::memory_order_relaxed);
    p->saved_tail = &m->next;
    return m;
  }
  return nullptr;
}

void recv_skip(recv_cursor& c) noexcept {
  c.link = &link_of(c)->load(std::memory_order_relaxed)->next;
}

message_node* recv_take(recv_cursor& c) noexcept {
  auto* link = link_of(c);
  auto* m = static_cast<message_node*>(link->load(std::memory_order_relaxed));
  link->store(m->next.load(std::memory_order_relaxed), std::memory_order_relaxed);
  auto* p = static_cast<process*>(c.proc);
  if (p->saved_tail == &m->next) p->saved_tail = link;
  return m;
}

}  // namespace troupe::detail
