// Exit signals: how a death travels along links and monitors, and how a
// process acts on the signals it receives.
//
// Signals are asynchronous, as in Erlang: the sender queues a signal in the
// target's ext and sets a bit; the target acts on it at its next runtime call
// (or at once if it is parked: the signal wakes it). So a process dies on its
// own stack and its destructors run, and a trapped signal becomes an ordinary
// message in its mailbox.

#include <algorithm>
#include <utility>
#include <vector>

#include "crash_report.hpp"
#include "process_ext.hpp"
#include "runtime_impl.hpp"
#include "troupe/links.hpp"

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

void post_exit_signal(troupe::pid target, troupe::pid from, const exit_reason& reason, bool from_link) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* t = rt ? rt->table.lookup(target) : nullptr;
  if (!t) return;
  process_ext& x = ext_of(t);
  {
    std::lock_guard lock(x.mu);
    // Checked under the lock: recycling bumps the generation before it
    // resets the ext, so a signal never lands on the slot's next process.
    if (x.exiting || t->generation.load(std::memory_order_acquire) != target.generation()) return;
    x.exits.push_back({from, reason, from_link});
  }
  t->signals.fetch_or(sig_exit, std::memory_order_seq_cst);
  rt->wake_for_signal(t);
}

void act_on_signals(process* p) {
  const std::uint32_t bits = p->signals.load(std::memory_order_acquire);
  process_ext* x = p->ext.load(std::memory_order_acquire);
  if (x && (bits & sig_exit)) {
    p->signals.fetch_and(~static_cast<std::uint32_t>(sig_exit), std::memory_order_acq_rel);
    std::vector<pending_exit> batch;
    {
      std::lock_guard lock(x->mu);
      if (x->exiting) return;  // already on its way out
      batch.swap(x->exits);
    }
    const troupe::pid me = p->pid();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      pending_exit& e = batch[i];
      if (e.reason.is(exit_reason::kind::kill) && !e.from_link) {
        throw forced_exit{exit_reason::killed()};  // untrappable
      }
      if (e.from_link) {
        // A link removed with unlink() since the signal was sent has no effect.
        std::lock_guard lock(x->mu);
        if (x->links.erase(e.from) == 0) continue;
      }
      if (p->trap_exit.load(std::memory_order_relaxed)) {
        push_to_self(p, make_message<exit_message>(exit_message{e.from, std::move(e.reason)}));
        continue;
      }
      if (e.reason.is_normal() && e.from != me) continue;
      // Signals after this one die with the process.
      throw forced_exit{std::move(e.reason)};
    }
  }
  if (bits & sig_shutdown) {
    if (x) {
      std::lock_guard lock(x->mu);
      if (x->exiting) return;
    }
    throw forced_exit{exit_reason::shutdown()};
  }
}

void note_crash_message(const message_node* n) noexcept {
  process* p = current_process();
  if (!p) return;
  try {
    std::string text = n->type->describe(n);
    if (!text.empty() && text[0] == '#') text = demangle(text.c_str() + 1);
    process_ext& x = ext_of(p);
    std::lock_guard lock(x.mu);
    x.crash_message = std::move(text);
  } catch (...) {
    // A crash report without the message is better than none.
  }
}

void exit_process(process* p, const exit_reason& reason) noexcept {
  const troupe::pid me = p->pid();
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process_ext* x = p->ext.load(std::memory_order_acquire);
  std::string name, last_message;
  if (x && rt) {
    std::unordered_set<troupe::pid> links;
    std::unordered_map<std::uint64_t, troupe::pid> monitors, monitored_by;
    {
      std::lock_guard lock(x->mu);
      x->exiting = true;
      links.swap(x->links);
      monitors.swap(x->monitors);
      monitored_by.swap(x->monitored_by);
      x->exits.clear();
      name = x->name;
      last_message = x->crash_message;
    }
    if (!name.empty()) rt->unregister_name(name, me);
    try {
      // `kill` itself never travels on: the killed process exits `killed`.
      for (troupe::pid l : links) post_exit_signal(l, me, reason, /*from_link=*/true);
      for (auto& [ref, watcher] : monitored_by) {
        if (process* w = rt->table.lookup(watcher)) {
          process_ext& wx = ext_of(w);
          std::lock_guard lock(wx.mu);
          wx.monitors.erase(ref);
        }
        deliver(watcher, make_message<down_message>(down_message{monitor_ref(ref), me, reason}));
      }
      for (auto& [ref, target] : monitors) {
        if (process* t = rt->table.lookup(target)) {
          process_ext& tx = ext_of(t);
          std::lock_guard lock(tx.mu);
          tx.monitored_by.erase(ref);
        }
      }
    } catch (...) {
      // Out of memory while telling others; nothing more can be done.
    }
  }
  if (!reason.is_quiet()) report_crash(me, name, reason, last_message);
}

}  // namespace troupe::detail
