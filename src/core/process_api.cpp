// spawn, self, yield and reductions.

#include <optional>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "process_ext.hpp"
#include "process_lifecycle.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
#include "troupe/detail/alias.hpp"
#include "troupe/links.hpp"

namespace troupe::detail {


namespace {

// Links, monitors and limits the child has before it can run.
void set_up_spawn(process* p, pid id, process* parent, const spawn_options& opts, monitor_ref* monitor) {
  if (opts.max_heap_size) ext_of(p).max_heap = opts.max_heap_size;
  // The child cannot run yet, but its slot's ext is reachable: process_info
  // on a pid of the slot's previous life may be reading it (and will find
  // the generation moved on). So its side is written under its own lock,
  // taken after the parent's is released.
  if (opts.link) {
    {
      process_ext& px = ext_of(parent);
      std::lock_guard lock(px.mu);
      px.links.insert(id);
    }
    process_ext& cx = ext_of(p);
    std::lock_guard lock(cx.mu);
    cx.links.insert(parent->pid());
  }
  if (monitor) {
    const std::uint64_t ref = new_ref();
    {
      process_ext& px = ext_of(parent);
      std::lock_guard lock(px.mu);
      px.tables().monitors.emplace(ref, id);
    }
    process_ext& cx = ext_of(p);
    std::lock_guard lock(cx.mu);
    cx.tables().monitored_by.emplace(ref, parent->pid());
    *monitor = monitor_ref_access::make(ref);
  }
}

}  // namespace

pid spawn_closure(const spawn_options& opts, closure* c, monitor_ref* monitor) {
  scheduler* s = current_scheduler();
  process* parent = s ? s->current : nullptr;
  runtime_impl* rt = s ? &s->rt : nullptr;
  ensure_headroom(parent);  // the process table's lock, and the links' and monitors'
  std::optional<outside_call> from_outside;
  if (!s) {
    try {
      rt = &from_outside.emplace("spawn").runtime();
    } catch (...) {
      c->destroy(c);
      throw;
    }
  }
  if ((opts.link || monitor) && !parent) {
    c->destroy(c);
    throw std::logic_error("troupe::spawn: link and monitor need a calling process");
  }
  if (!rt->admit_process()) {
    c->destroy(c);
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            fmt::format("troupe::spawn: {} processes are alive (runtime_options::max_processes)",
                                        rt->opts.max_processes));
  }
  process* p;
  try {
    p = rt->table.acquire(s ? &s->records : nullptr);
  } catch (...) {
    rt->process_exited();
    c->destroy(c);
    throw;
  }
  p->body = c;
  p->stack_request.store(static_cast<std::uint32_t>(std::min<std::size_t>(opts.stack_size, 1u << 30)),
                         std::memory_order_relaxed);
  p->ctx = nullptr;
  p->budget = 0;
  p->reductions.store(0, std::memory_order_relaxed);
  const pid id = p->pid();
  try {
    // A big stack is mapped now, not when the process first runs, so that a
    // mapping or guard page the system refuses fails the spawn itself.
    const std::size_t request = p->stack_request.load(std::memory_order_relaxed);
    if (stack_pool::is_dedicated(request)) p->stack = rt->stacks.acquire_dedicated(request);
    set_up_spawn(p, id, parent, opts, monitor);
  } catch (...) {
    recycle(*rt, p, s ? &s->records : nullptr);  // bumps the generation: the pid is dead
    throw;
  }
  p->state.store(pstate::runnable, std::memory_order_seq_cst);
  // Pairs with shutdown()'s sweep: either it sees this process, or we see it stopping.
  if (rt->stopping.load(std::memory_order_seq_cst)) p->signals.fetch_or(sig_shutdown, std::memory_order_relaxed);
  if (s) {
    s->run_next(p);
    if (parent) charge_quietly(parent, 10);
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
  if (n < 0) throw std::invalid_argument(fmt::format("troupe::consume_reductions: negative charge {}", n));
  if (detail::process* p = detail::current_process()) detail::charge(p, n);
}

std::uint64_t reductions() noexcept {
  detail::process* p = detail::current_process();
  return p ? p->reductions.load(std::memory_order_relaxed) : 0;
}

}  // namespace troupe
