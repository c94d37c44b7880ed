#include "suspend_hooks.hpp"

#include "process_ext.hpp"
#include "scheduler.hpp"

namespace troupe::detail {

void run_at_suspend(suspend_hook* h) {
  process* p = current_process();
  process_ext& x = ext_of(p);
  h->next_hook = nullptr;
  *(x.hooks_tail ? &x.hooks_tail->next_hook : &x.hooks) = h;
  x.hooks_tail = h;
  p->has_suspend_hooks = true;
}

void run_suspend_hooks(process* p) noexcept {
  p->has_suspend_hooks = false;
  process_ext* x = p->ext.load(std::memory_order_acquire);
  if (!x) return;
  suspend_hook* h = std::exchange(x->hooks, nullptr);
  x->hooks_tail = nullptr;
  while (h) {
    suspend_hook* next = h->next_hook;  // the hook may be gone once it has run
    h->on_suspend();
    h = next;
  }
}

}  // namespace troupe::detail
