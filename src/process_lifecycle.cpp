#include "process_lifecycle.hpp"

#include <exception>
#include <typeinfo>
#include <utility>

#include "crash_report.hpp"
#include "process_ext.hpp"
#include "process_heap.hpp"
#include "troupe/links.hpp"
#include "runtime_impl.hpp"
#include "shared_stacks.hpp"

namespace troupe::detail {

namespace {

// Runs the process body and says why it ended; nothing escapes, so the
// fiber never unwinds past its entry point.
__attribute__((noinline)) exit_reason run_body(process* p) noexcept {
  exit_reason reason;
  try {
    check_signals(p);
    p->body->run(p->body);
  } catch (forced_exit& e) {
    reason = std::move(e.reason);
  } catch (const process_error& e) {
    reason = e.reason();
  } catch (const std::exception& e) {
    reason = exit_reason::exception(demangle(typeid(e).name()), e.what());
  } catch (...) {
    reason = exit_reason::exception("(unknown type)", "");
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
  exit_process(p, run_body(p));
  switch_out(p, switch_reason::exit);
  __builtin_unreachable();
}

void recycle(runtime_impl& rt, process* p, record_cache* cache) noexcept {
  p->state.store(pstate::exiting, std::memory_order_relaxed);
  // New generation first: from here on senders holding the old pid drop their
  // messages, and whatever is in the mailbox now can be freed.
  std::uint32_t g = p->generation.load(std::memory_order_relaxed) + 1;
  if (g == 0) g = 1;
  p->generation.store(g, std::memory_order_seq_cst);
  destroy_list(p->saved.next.exchange(nullptr, std::memory_order_relaxed));
  p->saved_tail = &p->saved.next;
  destroy_list(p->mbox.drain());
  p->mbox_counted.store(0, std::memory_order_relaxed);
  if (p->heap) {
    destroy_heap(p->heap);
    p->heap = nullptr;
  }
  if (p->body) {  // never ran
    closure* c = std::exchange(p->body, nullptr);
    c->destroy(c);
  }
  shared_stacks::forget(p);
  if (p->wait_timer) {  // a process that died mid-wait (stack overflow)
    timer_release(p->wait_timer);
    p->wait_timer = nullptr;
  }
  if (process_ext* x = p->ext.load(std::memory_order_acquire)) x->reset();
  p->signals.store(0, std::memory_order_relaxed);
  p->crash_noted = false;
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
  exit_process(p, reason);
}

}  // namespace troupe::detail
