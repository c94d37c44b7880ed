// Call monitors: one watch record per caller, in an intrusive list on the
// target (see troupe/detail/call_monitor.hpp).

#include "troupe/detail/call_monitor.hpp"

#include <mutex>
#include <stdexcept>

#include "call_watches.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
#include "troupe/detail/alias.hpp"

namespace troupe::detail {

namespace {

// Under the target's lock.
void unlink_watch(process_ext& tx, call_watch& w) noexcept {
  if (w.prev) {
    w.prev->next = w.next;
  } else {
    tx.call_watchers = w.next;
  }
  if (w.next) w.next->prev = w.prev;
  w.prev = w.next = nullptr;
  w.linked = false;
}

}  // namespace

monitor_ref monitor_for_call(pid target) {
  process* me = current_process();
  if (!me) throw std::logic_error("troupe::call: called outside a process");
  ensure_headroom(me);
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process_ext& mx = ext_of(me);
  if (!mx.call) mx.call = std::make_unique<call_watch>();
  drop_own_call_watch(mx);  // a call abandoned by an exception it swallowed
  call_watch& w = *mx.call;
  const monitor_ref ref = monitor_ref_access::make(new_ref());
  bool on = false;
  if (process* t = rt->table.lookup(target)) {
    process_ext& tx = ext_of(t);
    std::lock_guard lock(tx.mu);
    if (!tx.exiting && t->generation.load(std::memory_order_acquire) == target.generation()) {
      w.ref = ref.id();
      w.watcher = me->pid();
      w.linked = true;
      w.prev = nullptr;
      w.next = tx.call_watchers;
      if (w.next) w.next->prev = &w;
      tx.call_watchers = &w;
      w.target_ext = &tx;
      on = true;
    }
  }
  if (!on) push_to_self(me, make_message<down_message>(down_message{ref, target, exit_reason::noproc(), {}}));
  charge_quietly(me, 1);  // may switch: never under a lock
  return ref;
}

bool demonitor_call(monitor_ref ref) noexcept {
  process* me = current_process();
  process_ext* mx = me ? me->ext.load(std::memory_order_acquire) : nullptr;
  if (!mx || !mx->call) return false;
  call_watch& w = *mx->call;
  process_ext* tx = std::exchange(w.target_ext, nullptr);
  if (!tx) return false;  // it was never on: the target was gone (noproc)
  std::lock_guard lock(tx->mu);
  if (!w.linked || w.ref != ref.id()) return false;
  unlink_watch(*tx, w);
  return true;
}

void end_call_watches(process_ext& x, troupe::pid me, const exit_reason& reason) noexcept {
  std::lock_guard lock(x.mu);
  while (call_watch* w = x.call_watchers) {
    try {
      post(w->watcher, make_message<down_message>(down_message{monitor_ref_access::make(w->ref), me, reason, {}}));
    } catch (...) {
      // Out of memory: the caller's own timeout ends its call.
    }
    unlink_watch(x, *w);
  }
}

void drop_own_call_watch(process_ext& x) noexcept {
  if (!x.call) return;
  if (process_ext* tx = std::exchange(x.call->target_ext, nullptr)) {
    std::lock_guard lock(tx->mu);
    if (x.call->linked) unlink_watch(*tx, *x.call);
  }
}

}  // namespace troupe::detail
