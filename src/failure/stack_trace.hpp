#pragma once
// The runtime's side of throw-point traces (troupe/stack_trace.hpp): what
// the interposed __cxa_throw (throw_hook.cpp) calls.

namespace troupe::detail {

/// A thrown object's destructor, as __cxa_throw takes it.
using throw_destructor = void (*)(void*);
/// __cxa_throw's type (the type_info pointer as void*, as GCC declares it).
using cxa_throw_fn = void (*)(void*, void*, throw_destructor);

/// The C++ runtime's own __cxa_throw (the next definition after ours).
cxa_throw_fn real_cxa_throw() noexcept;

/// Does nothing; defined next to the interposed __cxa_throw, so that calling
/// it links the hook out of a static libtroupe.a (see stack_trace.cpp).
void link_throw_hook() noexcept;

/// Records the stack of a throw made in a process (when recording is on):
/// from the frame returning to `thrower_return` (__cxa_throw's return
/// address), keyed by `object`. Returns the destructor __cxa_throw must be
/// given: one that forgets the record before calling `destroy`, or
/// `destroy` itself if nothing was recorded. `type` is the thrown object's
/// std::type_info: the runtime's own forced exits are not recorded (their
/// reason is an exit, which carries no stack, as in OTP).
throw_destructor note_throw(void* object, const void* type, throw_destructor destroy,
                            const void* thrower_return) noexcept;

}  // namespace troupe::detail
