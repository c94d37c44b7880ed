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

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "process_ext.hpp"
#include "process_lifecycle.hpp"
#include "queue_listing.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
#include "troupe/receive.hpp"

namespace troupe::detail {

namespace {

// A receiver with a backlog this long is falling behind.
constexpr long long_queue = 2048;
constexpr int long_queue_cost = 50;  // reductions a message to oneself, times k²
constexpr std::int64_t punishment_ns = 50;  // a sender's wait a message, times k²

void make_runnable(runtime_impl* rt, scheduler* s, process* p) noexcept {
  p->state.store(pstate::runnable, std::memory_order_relaxed);
  if (s) {
    s->run_next(p);  // run the receiver next, here: a round trip stays on one core
  } else {
    rt->inject(p);
  }
}

bool alias_active(const process* p, std::uint64_t alias) noexcept {
  const process_ext* x = p->ext.load(std::memory_order_acquire);
  return x && x->active_alias.load(std::memory_order_relaxed) == alias;
}

// Appends a batch in arrival order that holds signals (exit signals, queue
// listings), messages for an earlier process in this slot, or messages to an
// alias (kept only while it is active: OTP 24's aliases). Signals travel
// in the mailbox, so they keep their place among the messages from the same
// sender; here exit signals become exit messages (if trapped) in that place,
// or wait for act_on_signals, and a listing is answered with what is queued
// ahead of it.
message_node* append_unusual(process* p, mpsc_node* oldest_first) noexcept {
  const std::uint32_t gen = p->generation.load(std::memory_order_relaxed);
  message_node* first = nullptr;
  std::uint32_t kept = 0;
  mpsc_node* n = oldest_first;
  while (n) {
    mpsc_node* next = n->next.load(std::memory_order_relaxed);
    auto* m = static_cast<message_node*>(n);
    if (m->generation != gen || ((m->flags & to_alias) && !alias_active(p, m->type->alias(m)))) {
      destroy_message(m);  // for an earlier process in this slot, or to an alias no longer active
      m = nullptr;
    } else if (m->type == type_of<pending_exit>()) {
      m = take_signal(p, m);
    } else if (m->type == type_of<pending_listing>()) {
      answer_listing(p, payload<pending_listing>(m));  // what arrived before it is on the saved list
      destroy_message(m);
      m = nullptr;
    }
    if (m) {
      m->next.store(nullptr, std::memory_order_relaxed);
      p->saved_tail->store(m, std::memory_order_relaxed);
      p->saved_tail = &m->next;
      if (!first) first = m;
      ++kept;
    }
    n = next;
  }
  p->saved_count.store(p->saved_count.load(std::memory_order_relaxed) + kept, std::memory_order_relaxed);
  return first;
}

// The mailbox word counts to 65,535; beyond, the ext counts (rarely reached,
// so its cost does not matter).
__attribute__((noinline)) void count_past_saturation(process* r, std::size_t n) noexcept {
  try {
    ext_of(r).mbox_overflow.fetch_add(n, std::memory_order_relaxed);
  } catch (...) {
    // No memory for the ext: the count stays saturated.
  }
}

// A thread that is not a process pays no reductions, so the punishment below
// cannot slow it: it waits instead, longer the further the receiver is
// behind (a yield, then sleeps growing with the square of the backlog, at
// most 1 ms a send), so a plain thread flooding a process cannot make the
// program's memory grow without bound.
__attribute__((noinline)) void pause_plain_sender(long waiting) noexcept {
  const long k = waiting / long_queue;
  if (k < 2) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(std::min<long>(k * k * 10, 1000)));
  }
}

// Pushes `n` messages (one, or an outbox's batch) onto `r`'s mailbox and
// wakes `r` if it was parked; returns the backlog push_chain reports.
long push_to(runtime_impl* rt, scheduler* here, process* r, mpsc_node* newest, mpsc_node* oldest,
             std::uint32_t n) noexcept {
  const long waiting = r->mbox.push_chain(newest, oldest, n);
  if (waiting < 0) {
    make_runnable(rt, here, r);
  } else if (static_cast<mailbox::word>(waiting) + n > mailbox::max_count) [[unlikely]] {
    count_past_saturation(r, static_cast<std::size_t>(waiting) + n - mailbox::max_count);
  }
  return waiting;
}

// Hands `here`'s outbox over to its receiver. A receiver that died meanwhile
// drops the batch, unless `may_destroy` is false (the caller may hold a
// runtime lock, and the messages' destructors are the user's): then the
// batch waits for the next hand-over.
long hand_over(scheduler* here, bool may_destroy) noexcept {
  outbox& o = here->out;
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(o.to) : nullptr;
  if (!r) {
    if (!may_destroy) return 0;
    o.oldest->next.store(nullptr, std::memory_order_relaxed);
    destroy_list(std::exchange(o.newest, nullptr));
    o.count = 0;
    o.to = pid{};
    return 0;
  }
  const std::uint32_t n = std::exchange(o.count, 0);
  const long waiting = push_to(rt, here, r, std::exchange(o.newest, nullptr), o.oldest, n);
  if (waiting < outbox::hot_backlog) o.to = pid{};  // it caught up: straight sends again
  return waiting;
}

// `here`: the calling thread's scheduler (null on other threads), which runs
// the receiver next if this message wakes it. The caller has handed its
// outbox over (post_from does).
long push_now(scheduler* here, pid to, message_node* m) noexcept {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(to) : nullptr;
  if (!r) {
    destroy_message(m);  // to a dead pid: dropped, as in Erlang
    return 0;
  }
  m->generation = to.generation();
  return push_to(rt, here, r, m, m, 1);
}

long post_from(scheduler* here, pid to, message_node* m) noexcept {
  // Whatever this process sent before goes first (a signal, say, stays
  // behind its messages).
  if (here && here->out.newest) [[unlikely]]
    hand_over(here, /*may_destroy=*/false);
  return push_now(here, to, m);
}

// The BEAM's sender punishment, for a process whose `sent` messages found
// their receiver `waiting` behind: its sending slows with the square of the
// backlog, so the receiver gets the CPU to catch up and its backlog stays
// bounded. Unlike the BEAM, the sender waits (k² × 50 ns a message, at most
// 1 ms at a time) rather than spending reductions: with a thousand senders
// taking turns, a slice ended by reductions after a few sends made fan-in a
// procession of switches and left the outbox nothing to batch, while a
// waiting sender leaves the CPU to the receiver and comes back to send a
// full batch. A process sending to itself spends reductions instead (it can
// only catch up by running).
void punish(process* me, pid to, long waiting, int sent) noexcept {
  const long k = waiting / long_queue;
  if (to == me->pid()) {
    charge_later(me, static_cast<int>(k * k) * long_queue_cost);
    return;
  }
  pause_quietly(me, std::min<std::int64_t>(k * k * sent * punishment_ns, 1'000'000));
}

}  // namespace

long post(pid to, message_node* m) noexcept { return post_from(current_scheduler(), to, m); }

void hand_over_outbox(scheduler* s) noexcept {
  if (s->out.newest) hand_over(s, /*may_destroy=*/true);
}

void hand_over_sends() noexcept {
  if (scheduler* s = current_scheduler()) hand_over_outbox(s);
}

void deliver(pid to, message_node* m) {
  scheduler* const here = current_scheduler();  // one thread-local read per send
  process* me = here ? here->current : nullptr;
  if (!me) {
    const long waiting = post_from(here, to, m);
    if (!here && waiting >= long_queue) [[unlikely]]
      pause_plain_sender(waiting);
    return;
  }
  outbox& o = here->out;
  long waiting = 0;
  int sent = 1;  // messages the backlog below is the receiver's answer to
  if (o.to == to) {
    m->generation = to.generation();
    m->next.store(o.newest, std::memory_order_relaxed);
    if (!o.newest) o.oldest = m;
    o.newest = m;
    if (++o.count == outbox::batch) {
      waiting = hand_over(here, /*may_destroy=*/true);
      sent = outbox::batch;
    }
  } else {
    if (o.newest) hand_over(here, /*may_destroy=*/true);
    waiting = push_now(here, to, m);
    o.to = waiting >= outbox::hot_backlog && to != me->pid() ? to : pid{};
  }
  charge_quietly(me, 1);
  if (waiting >= long_queue) [[unlikely]]
    punish(me, to, waiting, sent);
}

recv_cursor recv_begin() {
  process* p = current_process();
  if (!p) throw std::logic_error("troupe::receive: called outside a process");
  charge(p, 1);
  // A handler's exception that the process caught is not what it dies of.
  if (p->crash_noted) [[unlikely]] {
    p->crash_noted = false;
    ensure_headroom(p);
    process_ext& x = ext_of(p);
    std::lock_guard lock(x.mu);
    if (x.rare_) x.rare_->crash_message.clear();
  }
  return {p, &p->saved.next, &p->saved_tail, &p->saved_count, &p->handling};
}

message_node* pull_mailbox(process* p) noexcept {
  mpsc_node* newest_first = p->mbox.take_all(p->saved_count.load(std::memory_order_relaxed), p->mbox_counted);
  if (!newest_first) return nullptr;
  // Acquire: another thread (the watchdog, a linker) may have made the ext
  // just now, and its fields must be seen as constructed.
  if (process_ext* x = p->ext.load(std::memory_order_acquire);
      x && x->mbox_overflow.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    x->mbox_overflow.store(0, std::memory_order_relaxed);  // those are in this batch
  }
  // One pass reverses the batch into arrival order and counts it: a batch
  // can be long (a receiver that fell behind) and its nodes were written on
  // other cores, so each pass over it costs a cache miss per node. No calls
  // in the loop; the rare batches with signals or stale messages take a
  // second pass.
  const std::uint32_t gen = p->generation.load(std::memory_order_relaxed);
  const message_type* const signal = type_of<pending_exit>();
  const message_type* const listing = type_of<pending_listing>();
  mpsc_node* oldest_first = nullptr;
  mpsc_node* last = newest_first;
  std::uint32_t kept = 0;
  bool unusual = false;
  while (newest_first) {
    mpsc_node* next = newest_first->next.load(std::memory_order_relaxed);
    const auto* m = static_cast<const message_node*>(newest_first);
    unusual |= (m->generation != gen) | (m->type == signal) | (m->type == listing) | (m->flags != 0);
    newest_first->next.store(oldest_first, std::memory_order_relaxed);
    oldest_first = newest_first;
    ++kept;
    newest_first = next;
  }
  if (unusual) [[unlikely]]
    return append_unusual(p, oldest_first);
  p->saved_tail->store(oldest_first, std::memory_order_relaxed);
  p->saved_tail = &last->next;
  p->saved_count.store(p->saved_count.load(std::memory_order_relaxed) + kept, std::memory_order_relaxed);
  return static_cast<message_node*>(oldest_first);
}

message_node* recv_pull(recv_cursor& c) noexcept { return pull_mailbox(static_cast<process*>(c.proc)); }

}  // namespace troupe::detail
