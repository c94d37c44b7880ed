#pragma once
// What a receive handler accepts: its single parameter's type.
//
// handler_traits<F> is defined for every F; `kind` says whether F is a
// handler at all, so that receive can state what is wrong in one
// static_assert instead of failing inside this header.

#include <cstddef>
#include <type_traits>

namespace troupe::detail {

enum class handler_kind {
  callable,  // one call signature, whose parameters are described below
  ambiguous, // has operator(), but a template or several: a generic lambda or an overload set
  not_callable,
};

template <class R, class... A>
struct handler_signature {
  static constexpr handler_kind kind = handler_kind::callable;
  static constexpr std::size_t arity = sizeof...(A);
  using result_type = R;
};
// The one-parameter case, the only one receive accepts.
template <class R, class A>
struct handler_signature<R, A> {
  static constexpr handler_kind kind = handler_kind::callable;
  static constexpr std::size_t arity = 1;
  using result_type = R;
  using arg_type = A;
  using msg_type = std::remove_cvref_t<A>;
};

// Whether a class has any member named operator(), even an overloaded or a
// template one: if it has, naming operator() in a class derived from it and
// from one that surely has it is ambiguous.
struct has_call_probe {
  void operator()();
};
template <class F>
struct call_probe : F, has_call_probe {};
template <class F>
concept has_any_call_operator =
    std::is_class_v<F> && !std::is_final_v<F> && !requires { &call_probe<F>::operator(); };

template <class F>
concept has_one_call_operator = std::is_class_v<F> && requires { &F::operator(); };

template <class F>
struct signature_of {
  static constexpr handler_kind kind = has_any_call_operator<F> ? handler_kind::ambiguous : handler_kind::not_callable;
  static constexpr std::size_t arity = 0;
};

template <class R, class... A>
struct signature_of<R (*)(A...)> : handler_signature<R, A...> {};
template <class R, class... A>
struct signature_of<R (*)(A...) noexcept> : handler_signature<R, A...> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...)> : handler_signature<R, A...> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...) const> : handler_signature<R, A...> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...) noexcept> : handler_signature<R, A...> {};
template <class C, class R, class... A>
struct signature_of<R (C::*)(A...) const noexcept> : handler_signature<R, A...> {};

template <class F>
struct callable_signature : signature_of<F> {};
template <class F>
  requires has_one_call_operator<F>
struct callable_signature<F> : signature_of<decltype(&F::operator())> {};

/// A handler's call signature. F may be a closure or other class with one
/// non-template operator(), a function pointer, or a function (its name: it
/// decays to a pointer), with any cv-ref qualification.
template <class F>
struct handler_traits : callable_signature<std::decay_t<F>> {};

}  // namespace troupe::detail
