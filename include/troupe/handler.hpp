#pragma once
// troupe/handler.hpp — message-handler processes: processes that hold no
// stack while they wait.
//
//   troupe::pid counter = troupe::spawn_handler([n = 0](troupe::any_message& m) mutable {
//     if (m.is<int>()) n += m.get<int>();
//     return troupe::handler_step::next;
//   });
//
// A stackful process waiting in receive keeps its stack (or, past
// runtime_options::dedicated_stacks, a copy of its live frames). A handler
// keeps only its record and its function object: when its mailbox is empty it
// gives its stack back, and the next message runs the function on a stack
// taken for the length of the call. A handler that blocks inside the
// function (a receive, a gen_server call, sleep_for) keeps its stack until the
// function returns. gen_server processes are handlers.
//
// A handler that gathers work across messages (frames to pass on in one
// send, writes to flush) returns handler_step::next_or_idle: once its mailbox
// is empty it gets an idle_timeout message, OTP's `{noreply, State, 0}`.

#include <type_traits>
#include <utility>

#include "troupe/any_message.hpp"
#include "troupe/process.hpp"
#include "troupe/receive.hpp"

namespace troupe {

/// What a handler does after a message.
enum class handler_step {
  next,          // the next message, whenever it comes
  stop,          // exit normally
  next_or_idle,  // the next message if one is queued now, else an idle_timeout
};

/// The message a handler that returned handler_step::next_or_idle gets when
/// its mailbox is empty, and a gen_server's handle_info when a callback's
/// timeout passes with no message (OTP's `timeout`).
struct idle_timeout {};

namespace detail {

/// For a process body: when it returns next, the process rests (holds no
/// stack, waits for a message) and the body runs again, from its start, on
/// the next message; it does not exit. Must be called from a process, just
/// before its body returns with its mailbox seen empty.
void rest_on_return() noexcept;

/// The first message, taken, if there is one now (never waits).
inline message_node* take_now(recv_cursor& c) noexcept { return recv_peek(c) ? recv_take(c) : nullptr; }

}  // namespace detail

/// Spawns a handler process: `f(any_message&)` runs for each message in
/// arrival order and returns what to do next (handler_step). An exception
/// escaping f ends the process as it ends any other.
template <class F>
pid spawn_handler(const spawn_options& opts, F&& f) {
  static_assert(std::is_invocable_r_v<handler_step, std::decay_t<F>&, any_message&>,
                "troupe::spawn_handler: the handler must be callable with troupe::any_message& and return "
                "troupe::handler_step");
  auto body = [fn = std::forward<F>(f)]() mutable {
    // Only ever true between two messages: the body rests with it false.
    // An idle costs a reduction too (recv_begin), so a handler that asks for
    // one after every idle still gives way to the others.
    bool idle_wanted = false;
    for (;;) {
      detail::recv_cursor c = detail::recv_begin();
      detail::message_node* m = detail::take_now(c);
      if (!m) {
        if (!idle_wanted) {
          detail::rest_on_return();
          return;
        }
        m = detail::make_message<idle_timeout>(idle_timeout{});
      }
      detail::node_guard owner(m, c.handling);
      any_message any = detail::any_message_access::wrap(m);
      handler_step step;
      try {
        step = fn(any);
      } catch (...) {
        detail::note_crash_message(m);
        throw;
      }
      if (step == handler_step::stop) return;
      idle_wanted = step == handler_step::next_or_idle;
    }
  };
  return detail::spawn_closure(opts, detail::make_closure(std::move(body)));
}

template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>)
pid spawn_handler(F&& f) {
  return spawn_handler(spawn_options{}, std::forward<F>(f));
}

}  // namespace troupe
