#pragma once
// The gen_server's process: init, then one message at a time to its
// callbacks. Internal to troupe/gen_server.hpp (included at its end).

#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "troupe/any_message.hpp"
#include "troupe/detail/forced_exit.hpp"
#include "troupe/handler.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/links.hpp"
#include "troupe/receive.hpp"
#include "troupe/registry.hpp"

namespace troupe::detail {

exit_reason reason_from_current_exception() noexcept;

/// OTP's "Generic server terminating" report (error level).
void report_server_crash(pid self, const message_node* last, const std::string& state, const exit_reason& reason);
/// OTP's warning for a message no handle_info takes.
void report_unexpected(pid self, const message_node* m);
/// A request made for another server class than this process runs.
void report_misaddressed(pid self, const message_node* m);

/// Calls `f()` and makes a next_action of its result (void: go on).
template <class F>
next_action as_next(F&& f) {
  using R = std::invoke_result_t<F&&>;
  if constexpr (std::is_void_v<R>) {
    std::forward<F>(f)();
    return {};
  } else {
    static_assert(std::is_same_v<std::remove_cvref_t<R>, next_action>,
                  "troupe::gen_server: handle_cast, handle_info, handle_continue and init return void or "
                  "next_action (noreply(), stop(reason), continue_with(c))");
    return std::forward<F>(f)();
  }
}

template <class S, class C>
next_action run_continue(S& s, C&& c) {
  return as_next([&] { return s.handle_continue(std::forward<C>(c)); });
}

template <class S, class Req>
next_action run_call(void* server, message_node* m) {
  S& s = *static_cast<S*>(server);
  auto& env = payload<call_envelope<S, Req>>(m);
  using traits = call_traits<S, Req>;
  using R = typename traits::reply;
  const troupe::from<R> to(env.from);
  auto invoke = [&]() -> decltype(auto) {
    if constexpr (traits::with_from) return s.handle_call(std::move(env.request), to);
    else return s.handle_call(std::move(env.request));
  };
  if constexpr (!traits::wrapped) {
    if constexpr (std::is_void_v<R>) {
      invoke();
      reply(to);
    } else {
      reply(to, invoke());
    }
    return {};
  } else {
    auto result = invoke();
    next_action next = std::move(result.next());
    bool has_reply;
    if constexpr (std::is_void_v<R>) has_reply = result.has_reply();
    else has_reply = result.reply().has_value();
    if (has_reply) {
      if (next.stops()) {
        // Sent after terminate, as OTP does.
        using E = reply_envelope<reply_value_t<R>>;
        message_node* rm = make_message<E>();
        payload<E>(rm).alias = to.raw().alias;
        if constexpr (!std::is_void_v<R>) payload<E>(rm).value = std::move(*result.reply());
        next_action::access::hold_reply(next, to.caller(), rm);
      } else if constexpr (std::is_void_v<R>) {
        reply(to);
      } else {
        reply(to, std::move(*result.reply()));
      }
    }
    return next;
  }
}

template <class S, class Msg>
next_action run_cast(void* server, message_node* m) {
  S& s = *static_cast<S*>(server);
  return as_next([&] { return s.handle_cast(std::move(payload<cast_envelope<S, Msg>>(m).message)); });
}

template <class S, class Req>
const request_ops call_ops_holder<S, Req>::ops{request_kind::call, server_id<S>(), &run_call<S, Req>};
template <class S, class Msg>
const request_ops cast_ops_holder<S, Msg>::ops{request_kind::cast, server_id<S>(), &run_cast<S, Msg>};

template <class T>
struct type_list_of {
  using type = std::tuple<>;
};
template <class T>
  requires requires { typename T::info_messages; }
struct type_list_of<T> {
  using type = typename T::info_messages;
};

template <class S>
class server_loop {
 public:
  server_loop(S& s, pid parent) noexcept : s_(s), parent_(parent) {}

  /// Handles messages until the mailbox is empty with no timeout pending:
  /// then returns, and the process rests (holds no stack) until the next
  /// message. A callback's timeout is waited for on the stack.
  void run_until_rest(next_action& next) {
    for (;;) {
      while (!next.stops()) {
        if (auto c = next_action::access::take_continue(next)) {
          next = guarded(nullptr, [&] { return c->run(&s_); });
          continue;
        }
        recv_cursor cur = recv_begin();
        message_node* m = next.timeout().count() < 0 ? take_now(cur) : take_next(cur, next.timeout());
        if (!m) {
          if (next.timeout().count() < 0) return;
          next = guarded(nullptr, [&] { return info(idle_timeout{}, cur.handling); });
          continue;
        }
        node_guard owner(m, cur.handling);
        next = guarded(m, [&] { return dispatch(m); });
      }
      finish(next, nullptr);
    }
  }

 private:
  // The first message, waiting at most `timeout` (negative: forever); null
  // when it passed.
  static message_node* take_next(recv_cursor& cur, std::chrono::nanoseconds timeout) {
    const std::int64_t deadline = timeout.count() < 0 ? -1 : deadline_after(timeout);
    for (;;) {
      if (recv_peek(cur)) return recv_take(cur);
      if (!recv_wait(cur, deadline)) return nullptr;
    }
  }

  template <class F>
  next_action guarded(const message_node* m, F&& f) {
    try {
      return std::forward<F>(f)();
    } catch (...) {
      if (handling_forced_exit()) throw;  // killed, or an untrapped link: no terminate, as OTP
      exit_reason why = reason_from_current_exception();
      next_action n = next_action::access::make_stop(std::move(why));
      finish(n, m);
    }
  }

  next_action dispatch(message_node* m) {
    if (const void* proto = m->type->protocol) {
      const auto* ops = static_cast<const request_ops*>(proto);
      if (ops->kind == request_kind::stop) return next_action::access::make_stop(payload<stop_request>(m).reason);
      if (ops->server == server_id<S>()) return ops->run(&s_, m);
      report_misaddressed(troupe::self(), m);
      return {};
    }
    if (m->type == type_of<exit_message>()) {
      exit_message& e = payload<exit_message>(m);
      if (parent_ && e.from == parent_ && trap_exit()) return next_action::access::make_stop(e.reason);
    }
    return info_node(m);
  }

  // A timeout for a server without handle_info(idle_timeout): as a message.
  next_action info(idle_timeout v, std::atomic<mpsc_node*>* handling) {
    if constexpr (handles_info<S, idle_timeout&&>) {
      return as_next([&] { return s_.handle_info(std::move(v)); });
    } else {
      message_node* m = make_message<idle_timeout>(v);
      node_guard owner(m, handling);
      return info_node(m);
    }
  }

  template <class T>
  bool try_info(message_node* m, next_action& out) {
    if constexpr (handles_info<S, T&&>) {
      if (m->type == type_of<T>()) {
        out = as_next([&] { return s_.handle_info(std::move(payload<T>(m))); });
        return true;
      }
    }
    return false;
  }

  template <class... Ts>
  bool try_listed([[maybe_unused]] message_node* m, [[maybe_unused]] next_action& out, std::tuple<Ts...>*) {
    return (try_info<Ts>(m, out) || ...);
  }

  next_action info_node(message_node* m) {
    next_action out;
    if (try_info<exit_message>(m, out) || try_info<down_message>(m, out) || try_info<idle_timeout>(m, out)) return out;
    using listed = typename type_list_of<S>::type;
    if (try_listed(m, out, static_cast<listed*>(nullptr))) return out;
    if constexpr (handles_info<S, any_message&>) {
      any_message any = any_message_access::wrap(m);
      return as_next([&] { return s_.handle_info(any); });
    } else {
      report_unexpected(troupe::self(), m);
      return {};
    }
  }

  // terminate (unless it throws: then its exception is the reason), the held
  // reply, the report for an abnormal reason, and the exit.
  [[noreturn]] void finish(next_action& n, const message_node* last) {
    exit_reason reason = n.reason();
    if constexpr (requires { s_.terminate(reason); }) {
      try {
        s_.terminate(reason);
      } catch (...) {
        if (handling_forced_exit()) throw;
        reason = reason_from_current_exception();
      }
    }
    next_action::access::send_held_reply(n);
    if (!reason.is_quiet()) {
      std::string state;
      if constexpr (fmt::is_formattable<S>::value) {
        try {
          state = fmt::format("{}", s_);
        } catch (...) {
          state = "(state could not be formatted)";
        }
      } else {
        state = "(not formattable)";
      }
      report_server_crash(troupe::self(), last, state, reason);
    }
    troupe::exit(std::move(reason));
  }

  S& s_;
  pid parent_;
};

/// A gen_server process's body, run afresh on each message after a rest:
/// the first run starts the server (init and the ack), every run handles
/// what has come. The server object lives here, not on the stack.
template <class S, class... A>
class server_body {
 public:
  server_body(start_ack_to to, pid parent, std::string name, A... args)
      : start_(std::make_unique<start_args>(to, std::move(name), std::move(args)...)), parent_(parent) {}

  void operator()() {
    // Between rests a server has nothing to carry but its state: the next
    // action is go on, with no timeout or continue (run_until_rest returns
    // only then).
    next_action next;
    if (!s_) next = start();
    server_loop<S>(*s_, parent_).run_until_rest(next);
    rest_on_return();
  }

 private:
  // What only the start needs, dropped once the server is up: an idle
  // server is its record, its ext and this body, so every byte here counts.
  struct start_args {
    start_args(start_ack_to t, std::string n, A... a) : to(t), name(std::move(n)), args(std::move(a)...) {}
    start_ack_to to;
    std::string name;
    std::tuple<A...> args;
  };

  next_action start() {
    const std::unique_ptr<start_args> owned = std::move(start_);
    const start_ack_to& to = owned->to;
    const std::string& name = owned->name;
    next_action next;
    if (!name.empty()) {
      try {
        register_name(name, troupe::self());
      } catch (const std::invalid_argument&) {
        ack_start(to, start_status::already_started, {}, whereis(name));
        troupe::exit(exit_reason::normal());
      }
    }
    try {
      std::apply([&](A&... a) { s_.emplace(std::move(a)...); }, owned->args);
      if constexpr (requires { s_->init(); }) next = as_next([&] { return s_->init(); });
    } catch (...) {
      if (handling_forced_exit()) throw;
      exit_reason why = reason_from_current_exception();
      ack_start(to, start_status::error, why);
      troupe::exit(std::move(why));
    }
    if (next.ignores()) {
      ack_start(to, start_status::ignore);
      troupe::exit(exit_reason::normal());
    }
    if (next.stops()) {
      ack_start(to, start_status::error, next.reason());
      troupe::exit(next.reason());
    }
    ack_start(to, start_status::ok);
    return next;
  }

  std::unique_ptr<start_args> start_;
  pid parent_;
  std::optional<S> s_;
};

}  // namespace troupe::detail
