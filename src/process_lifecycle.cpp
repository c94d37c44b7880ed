#include "process_lifecycle.hpp"

#include <exception>
#include <typeinfo>
#include <utility>

#include "crash_report.hpp"
#include "process_heap.hpp"
#include "runtime_impl.hpp"

namespace troupe::detail {

namespace {

// Runs the process body; nothing escapes, so the fiber never unwinds past its
// entry point.
__attribute__((noinline)) void run_body(process* p) noexcept {
  try {
    check_signals(p);
    p->body->run(p->body);
  } catch (const forced_exit&) {
    // Shut down by the runtime: a normal end, not a crash.
  } catch (const std::exception& e) {
    report_crash(p->pid(), "exception " + demangle(typeid(e).name()), e.what());
  } catch (...) {
    report_crash(p->pid(), "exception of unknown type", {});
  }
  closure* c = std::exchange(p->body, nullptr);
  c->destroy(c);
}

void destroy_list(mpsc_node* n) noexcept {
  while (n) {
    mpsc_node* next = n->next.load(std::memory_order_relaxed);
    auto* m = static_cast<message_node*>(n);
    m->destroy(m);
    n = next;
  }
}

}  // namespace

void process_entry(transfer_t t) {
  auto* s = static_cast<scheduler*>(t.data);
  fiber_info came_from;
  fiber_started(came_from);
  s->after_switch(t.fctx);
  process* p = s->current;
  run_body(p);
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
  destroy_list(p->mbox.take_all());
  if (p->heap) {
    destroy_heap(p->heap);
    p->heap = nullptr;
  }
  if (p->body) {  // never ran
    closure* c = std::exchange(p->body, nullptr);
    c->destroy(c);
  }
  p->signals.store(0, std::memory_order_relaxed);
  p->reductions = 0;
  p->budget = 0;
  p->state.store(pstate::free, std::memory_order_release);
  rt.table.release(p, cache);
  rt.process_exited();
}

void report_start_failure(const process* p, const char* why) noexcept {
  report_crash(p->pid(), "could not start", why);
}

}  // namespace troupe::detail
