// gen_server's call and stop: a request under a call monitor, a reply on an alias, and
// a wait that starts at a mailbox mark (see troupe/detail/alias.hpp).

#include <stdexcept>

#include "troupe/detail/alias.hpp"
#include "troupe/detail/call_monitor.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/links.hpp"
#include "troupe/receive.hpp"

namespace troupe::detail {

namespace {

std::int64_t deadline_of(std::chrono::nanoseconds timeout) {
  return timeout == infinity || timeout.count() < 0 ? -1 : deadline_after(timeout);
}

bool is_down_for(const message_node* m, monitor_ref ref) {
  return m->type == type_of<down_message>() && payload<down_message>(const_cast<message_node*>(m)).ref == ref;
}

// Ends the monitor; its down message, if one was sent meanwhile, is after
// the mark.
void drop_monitor(monitor_ref ref, recv_mark mark) {
  if (!demonitor_call(ref)) discard_after(mark, [&](message_node* n) { return is_down_for(n, ref); });
}

struct alias_scope {
  explicit alias_scope(std::uint64_t a) noexcept { set_active_alias(a); }
  ~alias_scope() { set_active_alias(0); }
  alias_scope(const alias_scope&) = delete;
  alias_scope& operator=(const alias_scope&) = delete;
};

}  // namespace

message_node* call_request(pid server, message_node* request, from_raw& from, const message_type* reply_type,
                           std::chrono::nanoseconds timeout) {
  if (!in_process()) {
    destroy_message(request);
    throw std::logic_error("troupe::call: called outside a process");
  }
  const recv_mark mark = mark_mailbox();
  monitor_ref ref;
  try {
    ref = monitor_for_call(server);
  } catch (...) {
    destroy_message(request);
    throw;
  }
  // The monitor's reference is the call's alias, as OTP 24's
  // monitor(process, Server, [{alias, demonitor}]).
  alias_scope alias(ref.id());
  from = {self(), ref.id()};
  deliver(server, request);
  const std::int64_t deadline = deadline_of(timeout);
  recv_cursor c = recv_begin_at(mark);
  for (;;) {
    while (message_node* m = recv_peek(c)) {
      if (m->type == reply_type && m->type->alias(m) == ref.id()) {
        message_node* reply = recv_take(c);
        drop_monitor(ref, mark);
        return reply;
      }
      if (is_down_for(m, ref)) {
        exit_reason why = payload<down_message>(m).reason;
        destroy_message(recv_take(c));
        throw call_error(std::move(why), server);
      }
      recv_skip(c);
    }
    if (!recv_wait(c, deadline)) break;
  }
  drop_monitor(ref, mark);
  throw call_error(exit_reason::timeout(), server);
}

void stop_server(pid server, exit_reason reason, std::chrono::nanoseconds timeout) {
  if (!in_process()) throw std::logic_error("troupe::stop: called outside a process");
  const recv_mark mark = mark_mailbox();
  const monitor_ref ref = monitor_for_call(server);
  deliver(server, make_message<stop_request>(stop_request{reason}));
  const std::int64_t deadline = deadline_of(timeout);
  recv_cursor c = recv_begin_at(mark);
  for (;;) {
    while (message_node* m = recv_peek(c)) {
      if (is_down_for(m, ref)) {
        exit_reason got = payload<down_message>(m).reason;
        destroy_message(recv_take(c));
        if (got == reason) return;
        throw call_error(std::move(got), server, "stop");
      }
      recv_skip(c);
    }
    if (!recv_wait(c, deadline)) break;
  }
  drop_monitor(ref, mark);
  throw call_error(exit_reason::timeout(), server, "stop");
}

const request_ops stop_request::ops{request_kind::stop, nullptr, nullptr};

}  // namespace troupe::detail
