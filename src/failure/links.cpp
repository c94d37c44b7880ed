// link, unlink, monitor, demonitor, exit, trap_exit.

#include <mutex>
#include <stdexcept>

#include "doom.hpp"
#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
#include "troupe/detail/alias.hpp"
#include "troupe/links.hpp"
#include "troupe/receive.hpp"
#include "troupe/registry.hpp"

namespace troupe::detail {

namespace {

process* calling_process(const char* what) {
  process* p = current_process();
  if (!p) throw std::logic_error(std::string("troupe::") + what + ": called outside a process");
  ensure_headroom(p);  // each of these takes process locks
  return p;
}

// Locks two exts in address order, so two processes linking to each other
// at once cannot deadlock.
struct lock_pair {
  std::unique_lock<small_mutex> first, second;
  lock_pair(process_ext& a, process_ext& b) {
    process_ext* lo = &a < &b ? &a : &b;
    process_ext* hi = &a < &b ? &b : &a;
    first = std::unique_lock(lo->mu);
    if (hi != lo) second = std::unique_lock(hi->mu);
  }
};

bool alive(const process* p, troupe::pid id, const process_ext& x) {
  return !x.exiting && p->generation.load(std::memory_order_acquire) == id.generation();
}

// Removes the down message for `ref` from the mailbox, if it came; unlike a
// receive, never waits and never raises an exit (demonitor runs in destructors).
void flush_down(process* p, monitor_ref ref) noexcept {
  recv_cursor c{p, &p->saved.next, &p->saved_tail, &p->saved_count, &p->handling};
  while (message_node* m = recv_peek(c)) {
    if (m->type == type_of<down_message>() && payload<down_message>(m).ref == ref) {
      destroy_message(recv_take(c));
      return;
    }
    recv_skip(c);
  }
}

}  // namespace

bool link_processes(process* a, troupe::pid b_id) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* b = rt->table.lookup(b_id);
  if (!b) return false;
  process_ext& ax = ext_of(a);
  process_ext& bx = ext_of(b);
  lock_pair lock(ax, bx);
  if (!alive(b, b_id, bx)) return false;
  ax.links.insert(b_id);
  bx.links.insert(a->pid());
  return true;
}

monitor_ref monitor_process(process* watcher, troupe::pid target_id, std::string name) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  const monitor_ref ref = monitor_ref_access::make(new_ref());
  bool set = false;
  if (process* t = rt->table.lookup(target_id)) {
    process_ext& wx = ext_of(watcher);
    process_ext& tx = ext_of(t);
    lock_pair lock(wx, tx);
    if (alive(t, target_id, tx)) {
      tx.tables().monitored_by.emplace(ref.id(), watcher->pid());
      if (!name.empty()) tx.tables().monitor_names.emplace(ref.id(), name);
      wx.tables().monitors.emplace(ref.id(), target_id);
      set = true;
    }
  }
  if (!set) {
    push_to_self(watcher,
                 make_message<down_message>(down_message{ref, target_id, exit_reason::noproc(), std::move(name)}));
  }
  return ref;
}

}  // namespace troupe::detail

namespace troupe {

using namespace detail;

void link(pid p) {
  process* me = calling_process("link");
  if (p != me->pid() && !link_processes(me, p)) {
    if (!me->trap_exit.load(std::memory_order_relaxed)) throw process_error(exit_reason::noproc());
    push_to_self(me, make_message<exit_message>(exit_message{p, exit_reason::noproc()}));
  }
  charge_quietly(me, 1);
}

void unlink(pid p) {
  process* me = calling_process("unlink");
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process_ext& mx = ext_of(me);
  if (process* other = rt->table.lookup(p)) {
    process_ext& ox = ext_of(other);
    lock_pair lock(mx, ox);
    mx.links.erase(p);
    if (alive(other, p, ox)) ox.links.erase(me->pid());
  } else {
    std::lock_guard lock(mx.mu);
    mx.links.erase(p);
  }
  charge_quietly(me, 1);
}

monitor_ref monitor(pid p) {
  process* me = calling_process("monitor");
  const monitor_ref ref = monitor_process(me, p, {});
  charge_quietly(me, 1);
  return ref;
}

monitor_ref monitor(std::string_view name) {
  process* me = calling_process("monitor");
  // An unknown name is a process that is not there: an immediate down
  // message (noproc) that names the name, as OTP's monitor(process, Name).
  const monitor_ref ref = monitor_process(me, whereis(name), std::string(name));
  charge_quietly(me, 1);
  return ref;
}

bool is_process_alive(pid p) {
  ensure_headroom();
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* r = rt ? rt->table.lookup(p) : nullptr;
  if (!r) return false;
  const pstate s = r->state.load(std::memory_order_acquire);
  if (s == pstate::free || s == pstate::exiting) return false;
  process_ext* x = r->ext.load(std::memory_order_acquire);
  if (x) {
    std::lock_guard lock(x->mu);
    if (x->exiting) return false;
  }
  return r->generation.load(std::memory_order_acquire) == p.generation();
}

bool demonitor(monitor_ref ref, bool flush) {
  process* me = calling_process("demonitor");
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process_ext& mx = ext_of(me);
  pid target;
  {
    std::lock_guard lock(mx.mu);
    if (mx.mon) {
      auto it = mx.mon->monitors.find(ref.id());
      if (it != mx.mon->monitors.end()) {
        target = it->second;
        mx.mon->monitors.erase(it);
      }
    }
  }
  if (target) {
    if (process* t = rt->table.lookup(target)) {
      process_ext& tx = ext_of(t);
      std::lock_guard lock(tx.mu);
      if (alive(t, target, tx)) tx.forget_watcher(ref.id());
    }
  }
  if (flush) flush_down(me, ref);
  charge_quietly(me, 1);
  return static_cast<bool>(target);
}

void exit(pid p, exit_reason reason) {
  process* me = current_process();
  ensure_headroom(me);
  post_exit_signal(p, me ? me->pid() : pid{}, reason, /*from_link=*/false);
  if (!me) return;
  if (p == me->pid()) {
    charge(me, 1);  // a signal to ourselves takes effect here
  } else {
    charge_quietly(me, 1);
  }
}

void exit(exit_reason reason) {
  force_exit(calling_process("exit"), std::move(reason), /*reported=*/true);
}

bool trap_exit(bool on) {
  process* me = calling_process("trap_exit");
  return me->trap_exit.exchange(on, std::memory_order_relaxed);
}

bool trap_exit() {
  process* me = current_process();
  return me && me->trap_exit.load(std::memory_order_relaxed);
}

}  // namespace troupe
