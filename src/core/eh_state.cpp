#include "eh_state.hpp"

#include <cxxabi.h>

namespace troupe::detail {

namespace {
// Not inlined: __cxa_get_globals is declared "const", and a caller that
// switches threads in between must not reuse a previous answer.
__attribute__((noinline)) eh_state* globals() noexcept {
  return reinterpret_cast<eh_state*>(abi::__cxa_get_globals());
}
}  // namespace

eh_state* eh_globals() noexcept { return globals(); }

}  // namespace troupe::detail
