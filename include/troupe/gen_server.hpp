#pragma once
// troupe/gen_server.hpp — OTP's gen_server: a process that holds state and
// answers typed requests.
//
//   struct counter : troupe::gen_server<counter> {
//     int n = 0;
//     explicit counter(int start) : n(start) {}   // runs in the server (init)
//     int handle_call(get) { return n; }          // call(s, get{}) returns int
//     void handle_cast(add a) { n += a.by; }      // cast(s, add{2})
//   };
//   auto s = counter::start_link(0).value();      // troupe::server<counter>
//   int v = troupe::call(s, get{});
//
// The request's type picks the handle_call overload, and that overload's
// return type is the reply's: a call the server cannot answer does not
// compile. See docs/behaviours.md for the rules and where troupe differs
// from OTP.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "troupe/detail/alias.hpp"
#include "troupe/detail/gen_server_protocol.hpp"
#include "troupe/detail/sync_start.hpp"
#include "troupe/exit_reason.hpp"
#include "troupe/handler.hpp"
#include "troupe/links.hpp"
#include "troupe/pid.hpp"
#include "troupe/process.hpp"
#include "troupe/registry.hpp"
#include "troupe/start_result.hpp"

namespace troupe {

/// A timeout that never ends (OTP's `infinity`).
inline constexpr std::chrono::nanoseconds infinity = std::chrono::nanoseconds::max();

/// How long a call waits by default (OTP's 5 s).
inline constexpr std::chrono::nanoseconds default_call_timeout = std::chrono::seconds(5);

/// What a server does after a callback: go on (optionally with a timeout or
/// a handle_continue first), or stop. Made by the gen_server<S> helpers
/// noreply(), stop(), continue_with() and ignore(); a callback returning
/// void goes on.
class next_action {
 public:
  next_action() = default;
  next_action(next_action&& o) noexcept
      : kind_(o.kind_),
        timeout_(o.timeout_),
        reason_(std::move(o.reason_)),
        continue_(std::move(o.continue_)),
        stop_reply_(std::exchange(o.stop_reply_, nullptr)),
        stop_reply_to_(o.stop_reply_to_) {}
  next_action& operator=(next_action&& o) noexcept {
    if (this != &o) {
      this->~next_action();
      ::new (this) next_action(std::move(o));
    }
    return *this;
  }
  ~next_action() {
    if (stop_reply_) detail::destroy_message(stop_reply_);
  }

  [[nodiscard]] bool stops() const noexcept { return kind_ == kind::stop; }
  [[nodiscard]] bool ignores() const noexcept { return kind_ == kind::ignore; }
  [[nodiscard]] const exit_reason& reason() const noexcept { return reason_; }
  /// The timeout for the next message; negative: none.
  [[nodiscard]] std::chrono::nanoseconds timeout() const noexcept { return timeout_; }

  /// For the gen_server machinery.
  struct access;

 private:
  enum class kind : unsigned char { go_on, stop, ignore };
  kind kind_ = kind::go_on;
  std::chrono::nanoseconds timeout_{-1};
  exit_reason reason_;
  std::unique_ptr<detail::continuation> continue_;
  // A stop's reply: sent after terminate, as OTP does.
  detail::message_node* stop_reply_ = nullptr;
  pid stop_reply_to_;
};

struct next_action::access {
  static next_action make_stop(exit_reason r) {
    next_action n;
    n.kind_ = kind::stop;
    n.reason_ = std::move(r);
    return n;
  }
  static next_action make_ignore() {
    next_action n;
    n.kind_ = kind::ignore;
    return n;
  }
  static next_action make_timeout(std::chrono::nanoseconds t) {
    next_action n;
    n.timeout_ = t == infinity ? std::chrono::nanoseconds(-1) : t;
    return n;
  }
  static next_action make_continue(std::unique_ptr<detail::continuation> c) {
    next_action n;
    n.continue_ = std::move(c);
    return n;
  }
  static std::unique_ptr<detail::continuation> take_continue(next_action& n) noexcept { return std::move(n.continue_); }
  static void hold_reply(next_action& n, pid to, detail::message_node* m) noexcept {
    n.stop_reply_ = m;
    n.stop_reply_to_ = to;
  }
  static void send_held_reply(next_action& n) {
    if (detail::message_node* m = std::exchange(n.stop_reply_, nullptr)) detail::send_to_alias(n.stop_reply_to_, m);
  }
};

/// Where a call's reply goes: handle_call takes one as its second parameter
/// when it may answer later (return noreply() now, reply(from, value) later,
/// from this process or any other). Copyable; reply once.
template <class R>
class from {
 public:
  from() = default;
  explicit from(detail::from_raw raw) noexcept : raw_(raw) {}
  /// The calling process.
  [[nodiscard]] pid caller() const noexcept { return raw_.caller; }
  [[nodiscard]] const detail::from_raw& raw() const noexcept { return raw_; }

 private:
  detail::from_raw raw_;
};

/// Answers a call (OTP's gen_server:reply/2). A reply to a caller that no
/// longer waits (it timed out, or died) is dropped.
template <class R, class V>
  requires(!std::is_void_v<R> && std::is_constructible_v<R, V &&>)
void reply(const from<R>& to, V&& value) {
  using E = detail::reply_envelope<R>;
  detail::message_node* m = detail::make_message<E>();
  detail::payload<E>(m).alias = to.raw().alias;
  try {
    detail::payload<E>(m).value = R(detail::owned(std::forward<V>(value)));
  } catch (...) {
    detail::destroy_message(m);
    throw;
  }
  detail::send_to_alias(to.raw().caller, m);
}
inline void reply(const from<void>& to) {
  using E = detail::reply_envelope<detail::no_value>;
  detail::message_node* m = detail::make_message<E>();
  detail::payload<E>(m).alias = to.raw().alias;
  detail::send_to_alias(to.raw().caller, m);
}

/// A handle_call's result when it does more than reply: `noreply()` (answer
/// later through the from), `{value, noreply(100ms)}` (reply, then wait at
/// most 100 ms for a message), `{value, stop(reason)}` (reply, then stop) or
/// `stop(reason)` (stop without replying). A plain R converts to one.
template <class R>
class call_result {
 public:
  call_result(R value) : reply_(std::move(value)) {}  // NOLINT: a reply is a result
  call_result(next_action next) : next_(std::move(next)) {}  // NOLINT: so is noreply()
  call_result(R value, next_action next) : reply_(std::move(value)), next_(std::move(next)) {}

  std::optional<R>& reply() noexcept { return reply_; }
  next_action& next() noexcept { return next_; }

 private:
  std::optional<R> reply_;
  next_action next_;
};

/// For a call answered with nothing but "done": call() returns void.
template <>
class call_result<void> {
 public:
  /// Replies, then does `next`.
  static call_result replied(next_action next = {}) { return call_result(true, std::move(next)); }
  call_result(next_action next) : next_(std::move(next)) {}  // NOLINT: noreply()

  [[nodiscard]] bool has_reply() const noexcept { return reply_; }
  next_action& next() noexcept { return next_; }

 private:
  call_result(bool r, next_action n) : reply_(r), next_(std::move(n)) {}
  bool reply_ = false;
  next_action next_;
};

/// A call that did not get its reply: the server was not there (`noproc`),
/// died during the call (its exit reason), or did not answer in time
/// (`timeout`). Uncaught, it ends the caller, as the exit does in Erlang,
/// with OTP's reason: `{Cause,{gen_server,call,[Server]}}`, a shutdown when
/// the cause is one (so a supervisor sees it as one), else never `normal`.
class call_error : public process_error {
 public:
  call_error(exit_reason cause, pid server, const char* function = "call");
  /// noproc, timeout, or the server's exit reason.
  [[nodiscard]] const exit_reason& cause() const noexcept { return cause_; }
  [[nodiscard]] pid server() const noexcept { return server_; }

 private:
  exit_reason cause_;
  pid server_;
};

/// The exit reason a failed call carries (call_error::reason()'s value).
struct call_failure {
  exit_reason cause;
  pid server;
  const char* function = "call";
};

/// A typed handle on a running gen_server of class S. Cheap to copy.
template <class S>
class server {
 public:
  server() = default;
  explicit server(troupe::pid p) noexcept : pid_(p) {}
  /// The process registered as `name`, as a server<S> (null if none: a
  /// call to it ends in noproc).
  static server named(std::string_view name) { return server(whereis(name)); }

  [[nodiscard]] troupe::pid pid() const noexcept { return pid_; }
  explicit operator bool() const noexcept { return static_cast<bool>(pid_); }
  friend bool operator==(const server&, const server&) noexcept = default;

 private:
  troupe::pid pid_;
};

/// Options for start/start_link.
struct server_options {
  /// Registers the server under this name before init runs; a taken name
  /// makes the start `already_started` with the holder's pid.
  std::string name;
  /// Longest wait for init (OTP's start timeout); infinity by default. On
  /// expiry the server is killed and the start fails with `timeout`.
  std::chrono::nanoseconds start_timeout = infinity;
  spawn_options spawn{};
};

namespace detail {

message_node* call_request(pid server, message_node* request, from_raw& from, const message_type* reply_type,
                           std::chrono::nanoseconds timeout);
void stop_server(pid server, exit_reason reason, std::chrono::nanoseconds timeout);

template <class S, class... A>
class server_body;

template <class S, class... A>
start_result<server<S>> start_server(const server_options& o, bool link, A&&... args) {
  static_assert(std::is_constructible_v<S, std::decay_t<A>&&...>,
                "troupe::gen_server: the server class cannot be constructed from these start arguments");
  const start_ack_to to = start_ack_address();
  const pid parent = link ? self() : pid{};
  closure* body = make_closure(
      server_body<S, std::decay_t<A>...>(to, parent, o.name, std::decay_t<A>(owned(std::forward<A>(args)))...));
  const std::chrono::nanoseconds t = o.start_timeout == infinity ? std::chrono::nanoseconds(-1) : o.start_timeout;
  return start_result<server<S>>(sync_start(o.spawn, link, body, to, t));
}

template <class>
inline constexpr bool always_false = false;

template <class... A>
struct first_is_options : std::false_type {};
template <class A0, class... A>
struct first_is_options<A0, A...> : std::is_same<std::remove_cvref_t<A0>, server_options> {};
template <class... A>
concept options_first = first_is_options<A...>::value;

template <class S, class C>
next_action run_continue(S& s, C&& c);

}  // namespace detail

/// Base of a server class S (the curiously recurring template: `struct s :
/// gen_server<s>`). S is constructed in the new process from the start
/// arguments; then S::init(), if S has one, runs before start returns. Its
/// callbacks, all optional:
///
/// - `R handle_call(Req)` or `R handle_call(Req, from<R>)`, one per request
///   type; R or call_result<R>. `call(s, Req{})` returns R.
/// - `void handle_cast(Msg)`, one per message type (or next_action).
/// - `void handle_info(T)` for exit_message, down_message, idle_timeout and
///   the types listed in `using info_messages = std::tuple<...>`, and
///   `handle_info(const any_message&)` for anything else; an unexpected
///   message is logged and dropped, as OTP does.
/// - `handle_continue(C)` after a callback returned continue_with(C{}).
/// - `void terminate(const exit_reason&)`: when a callback asks to stop or
///   throws, on stop(), and on an exit signal from the parent (the process
///   that start_linked it) while trapping exits; not when it is killed or
///   dies of a link it does not trap.
/// - `init()` returning void (ok), noreply(timeout), continue_with(c),
///   ignore() or stop(reason).
/// A callback that throws ends the server with the exception as its reason
/// and logs OTP's report: name, last message, state (printed with fmt if S
/// is formattable), reason.
template <class S>
class gen_server {
 public:
  /// Starts S(args...) in a new process and waits for its init (OTP's
  /// gen_server:start). Must be called from a process.
  template <class... A>
    requires(!detail::options_first<A...>)
  static start_result<server<S>> start(A&&... args) {
    return detail::start_server<S>(server_options{}, false, std::forward<A>(args)...);
  }
  template <class... A>
  static start_result<server<S>> start(const server_options& o, A&&... args) {
    return detail::start_server<S>(o, false, std::forward<A>(args)...);
  }
  /// start, linked to the caller before the server can run (OTP's
  /// gen_server:start_link): the caller is its parent.
  template <class... A>
    requires(!detail::options_first<A...>)
  static start_result<server<S>> start_link(A&&... args) {
    return detail::start_server<S>(server_options{}, true, std::forward<A>(args)...);
  }
  template <class... A>
  static start_result<server<S>> start_link(const server_options& o, A&&... args) {
    return detail::start_server<S>(o, true, std::forward<A>(args)...);
  }

 protected:
  /// Go on without replying (a call is answered later through its from).
  static next_action noreply() { return {}; }
  /// Go on; if no message comes within `timeout`, handle_info(idle_timeout).
  static next_action noreply(std::chrono::nanoseconds timeout) { return next_action::access::make_timeout(timeout); }
  /// Stop: terminate(reason) runs, then the server exits with `reason`.
  static next_action stop(exit_reason reason) { return next_action::access::make_stop(std::move(reason)); }
  /// From init: do not start; start returns `ignore`, the process exits normally.
  static next_action ignore() { return next_action::access::make_ignore(); }
  /// Run handle_continue(c) before the next message (OTP's {continue, C}).
  template <class C>
  static next_action continue_with(C c) {
    static_assert(detail::handles_continue<S, C&&>,
                  "troupe::gen_server::continue_with: the server class has no handle_continue for this type");
    struct impl final : detail::continuation {
      C c;
      explicit impl(C&& v) : c(std::move(v)) {}
      next_action run(void* server) override { return detail::run_continue(*static_cast<S*>(server), std::move(c)); }
    };
    return next_action::access::make_continue(std::make_unique<impl>(std::move(c)));
  }
};

/// Calls `s` with `request` and waits at most `timeout` (or `infinity`) for
/// the reply, which it returns: handle_call's result type for this request
/// type. The server is monitored for the call's length: an unknown or dead
/// server, one that dies meanwhile, and a timeout raise call_error. A reply
/// that comes after the call gave up never reaches the caller's mailbox,
/// and the wait does not look at messages that were queued before the call.
/// Must be called from a process.
template <class S, class Req>
decltype(auto) call(const server<S>& s, Req&& request, std::chrono::nanoseconds timeout = default_call_timeout) {
  using V = std::remove_cvref_t<Req>;
  if constexpr (!detail::handles_call<S, V&&>) {
    static_assert(detail::always_false<V>,
                  "troupe::call: the server class has no handle_call for this request type (declare "
                  "`R handle_call(Req)` or `R handle_call(Req, troupe::from<R>)` in it)");
  } else {
    static_assert(detail::message_error_of<V, Req&&>() == detail::message_error::ok,
                  "troupe::call: the request must be a sendable value (see troupe::send's rules)");
    using R = typename detail::call_traits<S, V>::reply;
    using E = detail::call_envelope<S, V>;
    using RE = detail::reply_envelope<detail::reply_value_t<R>>;
    detail::message_node* req = detail::make_message<E>(E{detail::from_raw{}, V(detail::owned(std::forward<Req>(request)))});
    detail::message_node* rep =
        detail::call_request(s.pid(), req, detail::payload<E>(req).from, detail::type_of<RE>(), timeout);
    struct owner {
      detail::message_node* m;
      ~owner() { detail::destroy_message(m); }
    } own{rep};
    if constexpr (!std::is_void_v<R>) return R(std::move(detail::payload<RE>(rep).value));
  }
}

/// Sends `message` to `s` for its handle_cast; never waits, never fails (a
/// cast to a dead server is dropped, as in OTP).
template <class S, class Msg>
void cast(const server<S>& s, Msg&& message) {
  using V = std::remove_cvref_t<Msg>;
  if constexpr (!detail::handles_cast<S, V&&>) {
    static_assert(detail::always_false<V>,
                  "troupe::cast: the server class has no handle_cast for this message type");
  } else {
    using E = detail::cast_envelope<S, V>;
    detail::deliver(s.pid(), detail::make_message<E>(E{V(detail::owned(std::forward<Msg>(message)))}));
  }
}

/// Stops `s` (OTP's gen_server:stop): it runs terminate(reason) and exits
/// with `reason`; returns once it is gone. A server that is not there
/// raises call_error(noproc); one that takes longer than `timeout`,
/// call_error(timeout); one that exits with another reason, call_error of it.
template <class S>
void stop(const server<S>& s, exit_reason reason = exit_reason::normal(), std::chrono::nanoseconds timeout = infinity) {
  detail::stop_server(s.pid(), std::move(reason), timeout);
}

}  // namespace troupe

#include "troupe/detail/gen_server_loop.hpp"

template <class S>
struct fmt::formatter<troupe::server<S>> : fmt::formatter<troupe::pid> {
  template <class Ctx>
  auto format(const troupe::server<S>& s, Ctx& ctx) const {
    return fmt::formatter<troupe::pid>::format(s.pid(), ctx);
  }
};

template <>
struct fmt::formatter<troupe::call_failure> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::call_failure& f, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{{{},{{gen_server,{},[{}]}}}}", f.cause, f.function, f.server);
  }
};
