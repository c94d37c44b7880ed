#pragma once
// What a receive handler accepts: its single parameter's type.

#include <type_traits>

namespace troupe::detail {

template <class R, class A>
struct handler_signature {
  using result_type = R;
  using arg_type = A;
  using msg_type = std::remove_cvref_t<A>;
};

template <class F>
struct handler_traits : handler_traits<decltype(&std::remove_cvref_t<F>::operator())> {};

template <class R, class A>
struct handler_traits<R (*)(A)> : handler_signature<R, A> {};
template <class R, class A>
struct handler_traits<R (*)(A) noexcept> : handler_signature<R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A)> : handler_signature<R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const> : handler_signature<R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) noexcept> : handler_signature<R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const noexcept> : handler_signature<R, A> {};

}  // namespace troupe::detail
