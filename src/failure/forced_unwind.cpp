// Raising a forced exit as a forced unwind (see forced_unwind.hpp).

#include "forced_unwind.hpp"

#include <unwind.h>

#include <exception>
#include <new>
#include <typeinfo>

#include <cxxabi.h>

#include "eh_state.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

// libstdc++ exports it (CXXABI_1.3.11), GCC 12's <cxxabi.h> does not declare it.
extern "C" void* __cxa_init_primary_exception(void* object, std::type_info* type, void (*destroy)(void*)) noexcept;

namespace troupe::detail {

namespace {
void destroy_forced_exit(void* object) { static_cast<forced_exit*>(object)->~forced_exit(); }
}  // namespace

// Every process's entry frame catches, so the unwinding ends there; the end
// of the stack means a frame without unwind information.
_Unwind_Reason_Code keep_unwinding(int, _Unwind_Action actions, _Unwind_Exception_Class, _Unwind_Exception*,
                                   _Unwind_Context*, void*) {
  return (actions & _UA_END_OF_STACK) ? _URC_FATAL_PHASE2_ERROR : _URC_NO_REASON;
}

_Unwind_Exception* make_forced_exit(const exit_reason& reason, bool from_signal, troupe::pid owner) noexcept {
  void* object = abi::__cxa_allocate_exception(sizeof(forced_exit));
  new (object) forced_exit(reason, from_signal, owner);
  // What __cxa_throw does before it unwinds: the exception's header (type,
  // destructor, class), one reference, one exception in flight.
  auto* refcount = static_cast<int*>(
      __cxa_init_primary_exception(object, const_cast<std::type_info*>(&typeid(forced_exit)), destroy_forced_exit));
  *refcount = 1;
  auto* unwind_header = reinterpret_cast<_Unwind_Exception*>(static_cast<char*>(object) - sizeof(_Unwind_Exception));
  ++eh_globals()->uncaught_exceptions;
#if defined(__SANITIZE_ADDRESS__)
  __asan_handle_no_return();  // what ASan's __cxa_throw interceptor does
#endif
  return unwind_header;
}

void forced_unwind_failed(_Unwind_Exception* e) noexcept {
  abi::__cxa_begin_catch(e);
  std::terminate();
}

bool handling_forced_exit() noexcept {
  const std::type_info* t = abi::__cxa_current_exception_type();
  return t && *t == typeid(forced_exit);
}

}  // namespace troupe::detail
