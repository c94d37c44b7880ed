// The slow paths of the safe points in troupe/preempt_check.h, and
// troupe::no_preempt_scope.

#include <stdexcept>

#include "runtime_impl.hpp"
#include "troupe/preempt.hpp"

extern "C" {

__thread unsigned char troupe_preempt_flag __attribute__((tls_model("initial-exec"))) = 0;

void troupe_preempt_yield(void) {
  __atomic_store_n(&troupe_preempt_flag, 0, __ATOMIC_RELAXED);
  troupe::detail::process* p = troupe::detail::current_process();
  if (!p) return;  // preemptible code on a plain thread
  if (p->no_preempt != 0) {
    p->no_preempt |= troupe::detail::preempt_deferred;
    return;
  }
  p->budget = 0;
  troupe::detail::charge(p, 1);  // yields; may throw to unwind a process told to exit
}

void troupe_preempt_yield_nothrow(void) noexcept {
  __atomic_store_n(&troupe_preempt_flag, 0, __ATOMIC_RELAXED);
  troupe::detail::process* p = troupe::detail::current_process();
  if (!p) return;
  if (p->no_preempt != 0) {
    p->no_preempt |= troupe::detail::preempt_deferred;
    return;
  }
  p->budget = 0;
  troupe::detail::charge_quietly(p, 1);
}

}  // extern "C"

namespace troupe {

no_preempt_scope::no_preempt_scope() {
  detail::process* p = detail::current_process();
  if (!p) return;
  if ((p->no_preempt & detail::no_preempt_depth) == detail::no_preempt_depth)
    throw std::length_error("troupe::no_preempt_scope: more than 127 open in one process");
  ++p->no_preempt;
}

no_preempt_scope::~no_preempt_scope() {
  detail::process* p = detail::current_process();
  if (!p || (p->no_preempt & detail::no_preempt_depth) == 0) return;
  if (--p->no_preempt == detail::preempt_deferred) {
    p->no_preempt = 0;
    p->budget = 0;
    detail::charge_quietly(p, 1);  // the yield it put off; an exit waits for the next runtime call
  }
}

}  // namespace troupe
