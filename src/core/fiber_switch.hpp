#pragma once
// Context switches between a scheduler and its processes, on Boost.Context's
// fcontext primitives (the cheapest switch Boost offers: registers and a stack
// pointer), annotated so AddressSanitizer and ThreadSanitizer follow the
// stack changes.

#include <boost/context/detail/fcontext.hpp>
#include <cstddef>

#if defined(TROUPE_SANITIZE_ADDRESS) || defined(__SANITIZE_ADDRESS__)
#define TROUPE_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(TROUPE_SANITIZE_THREAD) || defined(__SANITIZE_THREAD__)
#define TROUPE_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

namespace troupe::detail {

using boost::context::detail::fcontext_t;
using boost::context::detail::transfer_t;

/// One side of a switch: where its stack is, for the sanitizers.
struct fiber_info {
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
#ifdef TROUPE_TSAN
  void* tsan_fiber = nullptr;
#endif
};

/// Switches to `to` (described by `target`), passing `data`. `leaving_for_good`
/// says the current fiber will never be resumed (its stack is about to be
/// reused), which ASan must know to drop the fiber's fake stack.
inline transfer_t switch_to(fcontext_t to, void* data, const fiber_info& target,
                            [[maybe_unused]] bool leaving_for_good = false) {
#ifdef TROUPE_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(leaving_for_good ? nullptr : &fake_stack, target.stack_bottom, target.stack_size);
#else
  (void)target;
#endif
#ifdef TROUPE_TSAN
  __tsan_switch_to_fiber(target.tsan_fiber, 0);
#endif
  transfer_t t = boost::context::detail::jump_fcontext(to, data);
#ifdef TROUPE_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  return t;
}

/// First thing a fresh fiber does; fills in `came_from` with the stack of the
/// scheduler that started it.
inline void fiber_started([[maybe_unused]] fiber_info& came_from) {
#ifdef TROUPE_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &came_from.stack_bottom, &came_from.stack_size);
#endif
}

}  // namespace troupe::detail
