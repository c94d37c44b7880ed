#pragma once
// The messages a gen_server exchanges with its clients, and the compile-time
// reading of a server class's callbacks. Internal to troupe/gen_server.hpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <cxxabi.h>

#include <cstdlib>
#include <string>
#include <typeinfo>

#include <fmt/format.h>

#include "troupe/detail/message_node.hpp"
#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"

namespace troupe {

template <class R>
class from;
class next_action;
template <class R>
class call_result;

namespace detail {

/// Who waits for a call's reply: the caller, and the alias it waits on.
struct from_raw {
  pid caller;
  std::uint64_t alias = 0;
};

/// A reply on its way to the caller; dropped unless the caller still waits.
template <class R>
struct reply_envelope : alias_header {
  R value;
};
struct no_value {};
template <class R>
using reply_value_t = std::conditional_t<std::is_void_v<R>, no_value, R>;

/// A request's table, shared by all requests of one (server, message) type:
/// which server class it is for, what kind it is, and how it runs there.
enum class request_kind : unsigned char { call, cast, stop };
struct request_ops {
  request_kind kind;
  const void* server;  // server_id<S>()
  // Runs the request on the server object; the request's node stays owned by the caller.
  next_action (*run)(void* server, message_node* request);
};

template <class S>
struct server_id_holder {
  static constexpr char id = 0;
};
template <class S>
constexpr const void* server_id() noexcept {
  return &server_id_holder<S>::id;
}

template <class S, class Req>
struct call_ops_holder {
  static const request_ops ops;
};
template <class S, class Msg>
struct cast_ops_holder {
  static const request_ops ops;
};

template <class S, class Req>
struct call_envelope {
  static constexpr const void* protocol = &call_ops_holder<S, Req>::ops;
  from_raw from;
  Req request;
};

template <class S, class Msg>
struct cast_envelope {
  static constexpr const void* protocol = &cast_ops_holder<S, Msg>::ops;
  Msg message;
};

/// stop(server, reason): the server runs terminate and exits with `reason`.
struct stop_request {
  static const request_ops ops;
  static constexpr const void* protocol = &ops;
  exit_reason reason;
};

// -- reading a server's callbacks --

/// Converts to any from<R>: lets the traits ask "would handle_call accept a
/// from as its second argument", and which R it wants.
struct any_from {
  template <class R>
  operator troupe::from<R>() const noexcept;  // never defined: unevaluated use only
};

template <class S, class Req>
concept calls_plain = requires(S& s, Req&& r) { s.handle_call(std::forward<Req>(r)); };
template <class S, class Req>
concept calls_with_from = requires(S& s, Req&& r) { s.handle_call(std::forward<Req>(r), any_from{}); };
template <class S, class Req>
concept handles_call = calls_plain<S, Req> || calls_with_from<S, Req>;

template <class T>
struct unwrap_call_result {
  using type = T;
  static constexpr bool wrapped = false;
};
template <class R>
struct unwrap_call_result<troupe::call_result<R>> {
  using type = R;
  static constexpr bool wrapped = true;
};

template <class S, class Req, bool Plain = calls_plain<S, Req>>
struct call_raw {
  using type = decltype(std::declval<S&>().handle_call(std::declval<Req&&>()));
};
template <class S, class Req>
struct call_raw<S, Req, false> {
  using type = decltype(std::declval<S&>().handle_call(std::declval<Req&&>(), any_from{}));
};

template <class S, class Req>
struct call_traits {
  static constexpr bool with_from = !calls_plain<S, Req>;
  using raw = std::remove_cvref_t<typename call_raw<S, Req>::type>;
  static constexpr bool wrapped = unwrap_call_result<raw>::wrapped;
  using reply = typename unwrap_call_result<raw>::type;
};

template <class S, class Msg>
concept handles_cast = requires(S& s, Msg&& m) { s.handle_cast(std::forward<Msg>(m)); };
template <class S, class Msg>
concept handles_info = requires(S& s, Msg&& m) { s.handle_info(std::forward<Msg>(m)); };
template <class S, class C>
concept handles_continue = requires(S& s, C&& c) { s.handle_continue(std::forward<C>(c)); };

/// A type's name as written (for reports of requests that do not format).
inline std::string readable_type_name(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(t.name());
}

/// A handle_continue to run next; made by continue_with, which knows S.
struct continuation {
  virtual ~continuation() = default;
  virtual next_action run(void* server) = 0;
};

}  // namespace detail
}  // namespace troupe

template <class S, class Req>
struct fmt::formatter<troupe::detail::call_envelope<S, Req>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::detail::call_envelope<S, Req>& e, Ctx& ctx) const {
    if constexpr (fmt::is_formattable<Req>::value)
      return fmt::format_to(ctx.out(), "{{'$gen_call',{{{},#Ref<0.{}>}},{}}}", e.from.caller, e.from.alias, e.request);
    else
      return fmt::format_to(ctx.out(), "{{'$gen_call',{{{},#Ref<0.{}>}},<{}>}}", e.from.caller, e.from.alias,
                            troupe::detail::readable_type_name(typeid(Req)));
  }
};

template <class S, class Msg>
struct fmt::formatter<troupe::detail::cast_envelope<S, Msg>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::detail::cast_envelope<S, Msg>& e, Ctx& ctx) const {
    if constexpr (fmt::is_formattable<Msg>::value)
      return fmt::format_to(ctx.out(), "{{'$gen_cast',{}}}", e.message);
    else
      return fmt::format_to(ctx.out(), "{{'$gen_cast',<{}>}}", troupe::detail::readable_type_name(typeid(Msg)));
  }
};
