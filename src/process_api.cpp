// spawn, self, yield and reductions.

#include <stdexcept>

#include "runtime_impl.hpp"

namespace troupe::detail {

void act_on_signals(process* p) {
  if (p->signals.load(std::memory_order_acquire) & sig_shutdown) throw forced_exit{};
}

pid spawn_closure(const spawn_options& opts, closure* c) {
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  if (!rt) {
    c->destroy(c);
    throw std::logic_error("troupe::spawn: no runtime is running");
  }
  scheduler* s = current_scheduler();
  process* p;
  try {
    p = rt->table.acquire(s ? &s->records : nullptr);
  } catch (...) {
    c->destroy(c);
    throw;
  }
  p->body = c;
  p->stack_request = static_cast<std::uint32_t>(std::min<std::size_t>(opts.stack_size, 1u << 30));
  p->ctx = nullptr;
  p->budget = 0;
  p->reductions = 0;
  rt->process_started();
  const pid id = p->pid();
  p->state.store(pstate::runnable, std::memory_order_seq_cst);
  // Pairs with shutdown()'s sweep: either it sees this process, or we see it stopping.
  if (rt->stopping.load(std::memory_order_seq_cst)) p->signals.fetch_or(sig_shutdown, std::memory_order_relaxed);
  if (s) {
    process* parent = s->current;
    s->run_next(p);
    if (parent) charge(parent, 10);
  } else {
    rt->inject(p);
  }
  return id;
}

}  // namespace troupe::detail

namespace troupe {

pid self() noexcept {
  detail::process* p = detail::current_process();
  return p ? p->pid() : pid{};
}

bool in_process() noexcept { return detail::current_process() != nullptr; }

void yield() {
  if (detail::process* p = detail::current_process()) {
    p->budget = 0;
    detail::charge(p, 1);
  }
}

void consume_reductions(int n) {
  if (detail::process* p = detail::current_process()) detail::charge(p, n);
}

std::uint64_t reductions() noexcept {
  detail::process* p = detail::current_process();
  return p ? p->reductions : 0;
}

}  // namespace troupe
