// Exit signals: how a death travels along links and monitors, and how a
// process acts on the signals it receives.
//
// Signals are asynchronous, as in Erlang: the sender queues a signal in the
// target's ext and sets a bit; the target acts on it at its next runtime call
// (or at once if it is parked: the signal wakes it). So a process dies on its
// own stack and its destructors run, and a trapped signal becomes an ordinary
// message in its mailbox.

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include "call_watches.hpp"
#include "crash_report.hpp"
#include "doom.hpp"
#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
#include "troupe/links.hpp"
#include "troupe/log.hpp"

namespace troupe::detail {

process_ext& ext_of(process* p) {
  process_ext* x = p->ext.load(std::memory_order_acquire);
  if (x) return *x;
  auto* fresh = new process_ext();
  if (p->ext.compare_exchange_strong(x, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;  // another thread made it first
  return *x;
}

void push_to_self(process* p, message_node* m) noexcept {
  m->generation = p->generation.load(std::memory_order_relaxed);
  p->mbox.push(m);  // the owner is running: it cannot be parked
}

void post_signal(troupe::pid target, message_node* m, signal_bits bit) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  // The signal goes through the mailbox, behind whatever this sender sent
  // before (signals and messages between two processes keep their order);
  // to a dead pid it is dropped there.
  post(target, m);
  process* t = rt ? rt->table.lookup(target) : nullptr;
  if (!t) return;
  // Then the bit, then a wake-up: the target may have been woken by the push
  // and parked again before the bit was set. On a slot that has moved on, it
  // costs its new owner one look at its mailbox.
  t->signals.fetch_or(bit, std::memory_order_seq_cst);
  rt->wake_for_signal(t);
}

void post_exit_signal(troupe::pid target, troupe::pid from, const exit_reason& reason, bool from_link) {
  post_signal(target, make_message<pending_exit>(pending_exit{from, reason, from_link}), sig_exit);
}

namespace {

bool unlink_on_signal(process* p, troupe::pid from) {
  ensure_headroom(p);
  process_ext& x = ext_of(p);
  std::lock_guard lock(x.mu);
  return x.links.erase(from) != 0;
}

message_node* as_exit_message(process* p, pending_exit& e) {
  message_node* m = make_message<exit_message>(exit_message{e.from, std::move(e.reason)});
  m->generation = p->generation.load(std::memory_order_relaxed);
  return m;
}

}  // namespace

message_node* take_signal(process* p, message_node* envelope) noexcept {
  pending_exit& e = payload<pending_exit>(envelope);
  message_node* keep = nullptr;
  try {
    const bool kill = e.reason.is(exit_kind::kill) && !e.from_link;
    if (!kill && p->trap_exit.load(std::memory_order_relaxed)) {
      // Trapped: it becomes an ordinary message, right where it arrived (a
      // signal from a link removed since is void).
      if (!e.from_link || unlink_on_signal(p, e.from)) keep = as_exit_message(p, e);
    } else {
      process_ext& x = ext_of(p);
      std::lock_guard lock(x.mu);
      x.rare().exits.push_back(std::move(e));  // the owner's: act_on_signals decides
    }
  } catch (...) {
    // Out of memory: the signal is lost, as a message would be.
  }
  destroy_message(envelope);
  return keep;
}

namespace {

// The exit signals pulled so far, in arrival order: trapped ones become
// messages, the first fatal one dooms the process (later ones die with it).
void act_on_exit_signals(process* p) {
  // Clear first, then look: a signal arriving meanwhile sets it again.
  p->signals.fetch_and(~static_cast<std::uint32_t>(sig_exit), std::memory_order_acq_rel);
  pull_mailbox(p);
  process_ext* x = p->ext.load(std::memory_order_acquire);  // pulling a signal may have made it
  if (!x) return;
  std::vector<pending_exit> batch;
  {
    std::lock_guard lock(x->mu);  // another process may be making rare_
    if (x->rare_) batch.swap(x->rare_->exits);
  }
  if (p->doomed != doom::none) return;  // dying anyway: nothing more to learn
  const troupe::pid me = p->pid();
  for (pending_exit& e : batch) {
    if (e.reason.is(exit_kind::kill) && !e.from_link) {
      doom_process(p, exit_reason::killed(), false);
      return;
    }
    if (e.from_link && !unlink_on_signal(p, e.from)) continue;  // unlinked since
    if (p->trap_exit.load(std::memory_order_relaxed)) {  // turned on since it arrived
      push_to_self(p, as_exit_message(p, e));
      continue;
    }
    if (e.reason.is_normal() && e.from != me) continue;
    doom_process(p, std::move(e.reason), false);
    return;
  }
}

}  // namespace

void act_on_signals(process* p, bool may_throw) {
  if (p->doomed == doom::raised && !p->finishing) {
    // Its forced_exit is in flight or being handled; once none is left and
    // it still runs, it swallowed it.
    if (p->forced_alive == 0) abandon(p, "went on after catching its forced exit");
    return;
  }
  const std::uint32_t bits = p->signals.load(std::memory_order_acquire);
  if (bits & sig_timer_wake) p->signals.fetch_and(~static_cast<std::uint32_t>(sig_timer_wake), std::memory_order_acq_rel);
  try {
    // Cleared before the pull that answers the listings now queued: one
    // arriving later sets it again.
    if (bits & sig_listing) p->signals.fetch_and(~static_cast<std::uint32_t>(sig_listing), std::memory_order_acq_rel);
    if (bits & sig_exit) {
      act_on_exit_signals(p);  // pulls the mailbox, listings included
    } else if (bits & sig_listing) {
      pull_mailbox(p);
    }
  } catch (...) {
    // Out of memory while turning signals into messages: they are lost, as
    // a message would be. Only the calls that may throw can say so.
    if (may_throw && !p->finishing) throw;
  }
  if ((bits & sig_shutdown) && p->doomed == doom::none) doom_process(p, exit_reason::shutdown(), false);
  // Never raised while unwinding (a second exception would terminate the
  // program): then it is raised once the unwinding is over, or the process
  // ends with it. Nor once the body is done (its closure's destructors run).
  if (p->doomed == doom::pending && may_throw && !p->finishing && std::uncaught_exceptions() == 0) raise_doom(p);
}

void doom_process(process* p, exit_reason reason, bool reported) noexcept {
  if (p->doomed != doom::none) return;
  process_ext& x = ext_of(p);
  x.doom_reason = std::move(reason);
  x.doom_reported = reported;
  p->doomed = doom::pending;
  p->signals.fetch_or(sig_doomed, std::memory_order_relaxed);
}

void doomed_slice_end(process* p) noexcept {
  // A doom that the process's calls cannot raise (it only sends, say) ends
  // it without unwinding after a few slices; one being unwound is left to it.
  constexpr std::uint8_t grace_slices = 8;
  if (p->finishing || p->doomed != doom::pending || std::uncaught_exceptions() > 0) return;
  if (++p->doomed_slices >= grace_slices) abandon(p, "reached no receive, sleep_for or yield after it was told to exit");
}

void abandon(process* p, const char* why) noexcept {
  try {
    process_ext& x = ext_of(p);
    troupe::logger()->warn("process {} {} ({}): ended without running its remaining destructors", p->pid(), why,
                           x.doom_reason);
  } catch (...) {
  }
  switch_out(p, switch_reason::abandon);
  __builtin_unreachable();
}

forced_exit::forced_exit(exit_reason r, bool signal, troupe::pid who) noexcept
    : reason(std::move(r)), from_signal(signal), owner(who) {
  if (process* p = current_process(); p && p->pid() == owner) ++p->forced_alive;
}

forced_exit::forced_exit(const forced_exit& o) noexcept : reason(o.reason), from_signal(o.from_signal), owner(o.owner) {
  if (process* p = current_process(); p && p->pid() == owner) ++p->forced_alive;
}

forced_exit::~forced_exit() {
  // Destroyed elsewhere (an exception_ptr that outlived its process), it
  // counts for nobody.
  if (process* p = current_process(); p && p->pid() == owner && p->forced_alive > 0) --p->forced_alive;
}

void note_crash_message(const message_node* n) noexcept {
  process* p = current_process();
  if (!p) return;
  try {
    // A message its handler took by value or moved from prints empty: then
    // its type is all we can say.
    std::string text = n->type->describe(n);
    if (text.empty()) text = demangle(n->type->id->name());
    ensure_headroom(p);
    process_ext& x = ext_of(p);
    std::lock_guard lock(x.mu);
    x.rare().crash_message = std::move(text);
    p->crash_noted = true;
  } catch (...) {
    // A crash report without the message is better than none.
  }
}

void exit_process(process* p, const exit_reason& reason, bool report) noexcept {
  // What it sent goes before any news of its death.
  hand_over_sends();
  static const std::unordered_map<std::uint64_t, troupe::pid> no_monitors;
  const troupe::pid me = p->pid();
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process_ext* x = p->ext.load(std::memory_order_acquire);
  std::string name, last_message;
  if (x && rt) {
    link_set links;
    std::unique_ptr<monitor_tables> tables;
    bool watched_by_callers = false;
    {
      std::lock_guard lock(x->mu);
      x->exiting = true;
      // None can come after `exiting`: an exit with no caller waiting takes
      // the lock once.
      watched_by_callers = x->call_watchers != nullptr;
      links.swap(x->links);
      tables = std::move(x->mon);
      if (x->rare_) {
        x->rare_->exits.clear();
        name = x->rare_->name;
        last_message = std::move(x->rare_->crash_message);
      }
    }
    if (!name.empty()) rt->unregister_name(name, me);
    if (watched_by_callers) end_call_watches(*x, me, reason);
    drop_own_call_watch(*x);
    try {
      // `kill` itself never travels on: the killed process exits `killed`.
      links.for_each([&](troupe::pid l) { post_exit_signal(l, me, reason, /*from_link=*/true); });
      for (auto& [ref, watcher] : tables ? tables->monitored_by : no_monitors) {
        process* w = rt->table.lookup(watcher);
        if (!w) continue;
        std::string by_name;
        if (!tables->monitor_names.empty()) {
          if (auto it = tables->monitor_names.find(ref); it != tables->monitor_names.end()) by_name = std::move(it->second);
        }
        message_node* down = make_message<down_message>(down_message{monitor_ref_access::make(ref), me, reason, std::move(by_name)});
        // The monitor belongs to whoever removes it from the watcher's map:
        // us (then the down message goes out, still under the lock, so a
        // demonitor(ref, flush) that comes after finds it in the mailbox) or
        // a demonitor that got there first (then no message, as OTP promises).
        process_ext& wx = ext_of(w);
        std::lock_guard lock(wx.mu);
        if (wx.mon && wx.mon->monitors.erase(ref) != 0) {
          post(watcher, down);
        } else {
          destroy_message(down);
        }
      }
      for (auto& [ref, target] : tables ? tables->monitors : no_monitors) {
        if (process* t = rt->table.lookup(target)) {
          process_ext& tx = ext_of(t);
          std::lock_guard lock(tx.mu);
          tx.forget_watcher(ref);
        }
      }
    } catch (...) {
      // Out of memory while telling others; nothing more can be done.
    }
  }
  if (report && !reason.is_quiet()) report_crash(me, name, reason, last_message);
}

}  // namespace troupe::detail
