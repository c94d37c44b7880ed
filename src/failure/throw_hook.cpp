// The interposed __cxa_throw (see stack_trace.cpp for why and how). Alone in
// its file: <cxxabi.h> declares __cxa_throw with std::type_info*, and GCC's
// own implicit declaration (made at the first throw expression) with void*;
// this definition matches GCC's, and this file includes no <cxxabi.h>.

#include "stack_trace.hpp"

namespace troupe::detail {
void link_throw_hook() noexcept {}
}  // namespace troupe::detail

// Every throw expression, in user code and in libstdc++, calls this. Outside
// a process it costs one check more than the C++ runtime's own.
extern "C" void __cxa_throw(void* object, void* type, void (*destroy)(void*)) {
  const troupe::detail::cxa_throw_fn real = troupe::detail::real_cxa_throw();
  destroy = troupe::detail::note_throw(object, type, destroy, __builtin_return_address(0));
  // A sibling call: this frame is gone before the unwinder starts walking,
  // so a throw costs it no frame more than without troupe.
  real(object, type, destroy);
}
