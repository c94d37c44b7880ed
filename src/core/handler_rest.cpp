// A message handler's rest (troupe/handler.hpp): the body asks, the
// scheduler gives the stack back when the body has returned (scheduler.cpp,
// switch_reason::rest).

#include "runtime_impl.hpp"
#include "troupe/handler.hpp"

namespace troupe::detail {

void rest_on_return() noexcept {
  if (process* p = current_process()) {
    p->rest_requested = true;
    drop_wait_timer(p);  // a resting handler waits for nothing but a message
  }
}

}  // namespace troupe::detail
