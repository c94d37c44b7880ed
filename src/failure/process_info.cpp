// process_info and processes: snapshots readable from any thread.

#include <algorithm>

#include "process_ext.hpp"
#include "queue_listing.hpp"
#include "runtime_impl.hpp"
#include "stack_headroom.hpp"
#include "stack_pool.hpp"
#include "troupe/process_info.hpp"

namespace troupe {

using namespace detail;

namespace {

process_status status_of(pstate s) {
  switch (s) {
    case pstate::running: return process_status::running;
    case pstate::runnable: return process_status::runnable;
    case pstate::waiting_msg:
    case pstate::resting:
    case pstate::waiting_timer: return process_status::waiting;
    default: return process_status::exited;
  }
}

bool is_live(pstate s) { return s != pstate::free && s != pstate::exiting; }

}  // namespace

std::optional<process_snapshot> process_info(pid id) {
  // What the caller sent `id` counts in its queue (in OTP, process_info is a
  // signal, behind the caller's messages).
  hand_over_sends();
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  process* p = rt ? rt->table.lookup(id) : nullptr;
  if (!p) return std::nullopt;
  process_snapshot info;
  const pstate st = p->state.load(std::memory_order_acquire);
  if (!is_live(st)) return std::nullopt;
  info.status = status_of(st);
  info.message_queue_len = p->mbox.waiting(p->mbox_counted) + p->saved_count.load(std::memory_order_relaxed);
  process_ext* x = p->ext.load(std::memory_order_acquire);
  if (x && p->mbox.saturated()) info.message_queue_len += x->mbox_overflow.load(std::memory_order_relaxed);
  info.reductions = p->reductions.load(std::memory_order_relaxed);
  info.stack_size = stack_pool::reserved_size(p->stack_request.load(std::memory_order_relaxed));
  info.shares_stack = p->share.load(std::memory_order_relaxed) != nullptr;
  info.stackless = st == pstate::resting;
  info.trap_exit = p->trap_exit.load(std::memory_order_relaxed);
  if (x) {
    ensure_headroom();
    std::lock_guard lock(x->mu);
    info.heap_bytes = x->heap_bytes.load(std::memory_order_relaxed);
    info.socket_buffer_bytes = static_cast<std::size_t>(std::max<std::int64_t>(0, x->io_bytes.load(std::memory_order_relaxed)));
    info.long_schedules = x->long_schedules.load(std::memory_order_relaxed);
    x->links.for_each([&](troupe::pid l) { info.links.push_back(l); });
    if (x->mon) {
      for (auto& [ref, target] : x->mon->monitors) info.monitors.push_back(target);
      for (auto& [ref, watcher] : x->mon->monitored_by) info.monitored_by.push_back(watcher);
    }
    for (const call_watch* w = x->call_watchers; w; w = w->next) info.monitored_by.push_back(w->watcher);
    if (!x->name().empty()) info.registered_name = x->name();
  }
  // The process may have exited (and its slot been reused) while we looked.
  if (p->generation.load(std::memory_order_acquire) != id.generation()) return std::nullopt;
  return info;
}

std::optional<process_snapshot> process_info(pid id, std::size_t n) {
  std::optional<process_snapshot> info = process_info(id);
  if (!info || n == 0) return info;
  std::optional<std::vector<queued_message>> listed = list_messages(id, n);
  if (!listed) return std::nullopt;
  info->messages = std::move(*listed);
  return info;
}

std::vector<pid> processes() {
  std::vector<pid> out;
  runtime_impl* rt = the_runtime.load(std::memory_order_acquire);
  if (!rt) return out;
  rt->table.for_each_slot([&](process& p) {
    if (is_live(p.state.load(std::memory_order_acquire))) out.push_back(p.pid());
  });
  return out;
}

}  // namespace troupe
