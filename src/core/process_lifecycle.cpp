#include "process_lifecycle.hpp"

#include <exception>
#include <typeinfo>
#include <utility>

#include "crash_report.hpp"
#include "exception_reason.hpp"
#include "process_ext.hpp"
#include "process_heap.hpp"
#include "suspend_hooks.hpp"
#include "troupe/links.hpp"
#include "runtime_impl.hpp"
#include "shared_stacks.hpp"

namespace troupe::detail {

namespace {

// Runs the process body and says why it ended (and whether that is its own
// failure, which gets a crash report); nothing escapes, so the fiber never
// unwinds past its entry point.
__attribute__((noinline)) exit_reason run_body(process* p, bool& report, bool& rests) noexcept {
  exit_reason reason;
  report = false;
  rests = false;
  bool own_failure = false;  // an exception of its own escaped
  try {
    check_signals(p);
    p->body->run(p->body);
    // A message handler that returned to rest keeps its body for the next
    // message (unless it must end: then it ends as below).
    if (std::exchange(p->rest_requested, false) && p->doomed == doom::none) {
      rests = true;
      return reason;
    }
  } catch (forced_exit& e) {
    reason = std::move(e.reason);
    report = !e.from_signal;
  } catch (...) {
    // Its own failure: a process_error's reason, or the exception (any type)
    // with the stack of its throw point. A forced exit (raised as a forced
    // unwind, which only catch (...) sees) takes its doom's reason below.
    if (!handling_forced_exit()) {
      reason = reason_from_current_exception();
      report = own_failure = true;
    }
  }
  // From here on nothing is raised in it: the closure's destructors may call
  // into the runtime (send, say) but cannot be unwound.
  p->rest_requested = false;
  p->finishing = true;
  // A process unwound by its forced exit, one that swallowed it and
  // returned, or one whose doom came while it was unwinding, ends with the
  // doom's reason; an exception
  // of its own that escaped while a doom waited was its end, as on the BEAM.
  if (p->doomed == doom::raised || (p->doomed == doom::pending && !own_failure)) {
    const process_ext& x = ext_of(p);
    reason = x.doom_reason;
    report = x.doom_reported;
  }
  closure* c = std::exchange(p->body, nullptr);
  c->destroy(c);
  return reason;
}

}  // namespace

void destroy_list(mpsc_node* n) noexcept {
  while (n) {
    mpsc_node* next = n->next.load(std::memory_order_relaxed);
    destroy_message(static_cast<message_node*>(n));
    n = next;
  }
}

void process_entry(transfer_t t) {
  auto* s = static_cast<scheduler*>(t.data);
  fiber_info came_from;
  fiber_started(came_from);
  s->after_switch(t.fctx);
  process* p = s->current;
  {
    // Scoped: nothing on this frame outlives the switch below, which never
    // returns.
    bool report = false, rests = false;
    const exit_reason reason = run_body(p, report, rests);
    if (rests) {
      switch_out(p, switch_reason::rest);  // never returns: the next message starts the body afresh
    } else {
      exit_process(p, reason, report);
    }
  }
  switch_out(p, switch_reason::exit);
  __builtin_unreachable();
}

void recycle(runtime_impl& rt, process* p, record_cache* cache) noexcept {
  p->state.store(pstate::exiting, std::memory_order_relaxed);
  // An abrupt end (an overflow, an abandoned unwinding) left its hooks queued.
  if (p->has_suspend_hooks) run_suspend_hooks(p);
  // New generation first: from here on senders holding the old pid drop their
  // messages, and whatever is in the mailbox now can be freed.
  p->generation.store(process_table::next_generation(p->generation.load(std::memory_order_relaxed)),
                      std::memory_order_seq_cst);
  destroy_list(p->saved.next.exchange(nullptr, std::memory_order_relaxed));
  p->saved_tail = &p->saved.next;
  destroy_list(p->mbox.drain());
  p->mbox_counted.store(0, std::memory_order_relaxed);
  if (p->heap) {
    destroy_heap(p->heap);
    p->heap = nullptr;
  }
  if (p->body) {  // never ran (or never finished: it overflowed)
    closure* c = std::exchange(p->body, nullptr);
    c->destroy(c);
  }
  if (p->stack.lo && p->stack.size_class == stack_pool::dedicated) {  // mapped at spawn; the process never ran
    rt.stacks.release_unstarted(p->stack);
    p->stack = {};
  }
  shared_stacks::forget(p);
  drop_wait_timer(p);  // kept from its last wait with a deadline
  if (process_ext* x = p->ext.load(std::memory_order_acquire)) x->reset();
  p->signals.store(0, std::memory_order_relaxed);
  p->crash_noted = false;
  p->doomed = doom::none;
  p->finishing = false;
  p->rest_requested = false;
  p->doomed_slices = 0;
  p->forced_alive = 0;
  p->eh = eh_state{};  // an abandoned process may have been inside a catch
  p->handling.store(nullptr, std::memory_order_relaxed);
  p->trap_exit.store(false, std::memory_order_relaxed);
  p->saved_count.store(0, std::memory_order_relaxed);
  p->reductions.store(0, std::memory_order_relaxed);
  p->budget = 0;
  p->state.store(pstate::free, std::memory_order_release);
  rt.table.release(p, cache);
  rt.process_exited();
}

void fail_start(process* p, const char* why) noexcept {
  exit_reason reason;
  try {
    reason = exit_reason::user(std::string("could not start: ") + why);
  } catch (...) {
  }
  exit_process(p, reason, /*report=*/true);
}

}  // namespace troupe::detail
