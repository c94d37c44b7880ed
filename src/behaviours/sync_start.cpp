// The synchronous start (troupe/detail/sync_start.hpp).

#include "troupe/detail/sync_start.hpp"

#include <stdexcept>

#include "troupe/detail/alias.hpp"
#include "troupe/links.hpp"
#include "troupe/receive.hpp"

namespace troupe::detail {

void ack_start(const start_ack_to& to, start_status status, exit_reason reason, pid holder) {
  message_node* m = make_message<start_ack>();
  auto& ack = payload<start_ack>(m);
  ack.alias = to.alias;
  ack.status = status;
  ack.reason = std::move(reason);
  ack.holder = holder;
  send_to_alias(to.starter, m);
}

start_ack_to start_ack_address() {
  if (!in_process()) throw std::logic_error("troupe: a behaviour's start must be called from a process");
  return {self(), new_ref()};
}

start_result<pid> sync_start(spawn_options opts, bool link, closure* body, start_ack_to to,
                             std::chrono::nanoseconds timeout) {
  const recv_mark mark = mark_mailbox();
  set_active_alias(to.alias);
  struct alias_off {
    ~alias_off() { set_active_alias(0); }
  } off;
  opts.link = link;
  // As proc_lib: a linked start learns of an early death through the link
  // (an exit message when trapping; else the signal ends the starter too),
  // so only an unlinked start needs a monitor. That also leaves a linked
  // server without monitor bookkeeping for life.
  monitor_ref mon;
  const pid child = spawn_closure(opts, body, link ? nullptr : &mon);
  const std::int64_t deadline = timeout.count() < 0 ? -1 : deadline_after(timeout);
  const message_type* const ack_type = type_of<start_ack>();
  const message_type* const down_type = type_of<down_message>();
  const message_type* const exit_type = type_of<exit_message>();
  auto drop_monitor = [&] {
    if (!link && !demonitor(mon)) discard_after(mark, [&](message_node* n) {
        return n->type == down_type && payload<down_message>(n).ref == mon;
      });
  };
  recv_cursor c = recv_begin_at(mark);
  for (;;) {
    while (message_node* m = recv_peek(c)) {
      if (m->type == ack_type && payload<start_ack>(m).alias == to.alias) {
        node_guard g(recv_take(c), c.handling);
        start_ack& ack = payload<start_ack>(m);
        drop_monitor();
        return {ack.status, ack.status == start_status::ok ? child : pid{}, std::move(ack.reason), ack.holder};
      }
      if (!link && m->type == down_type && payload<down_message>(m).ref == mon) {
        node_guard g(recv_take(c), c.handling);
        return {start_status::error, pid{}, payload<down_message>(m).reason};
      }
      if (link && m->type == exit_type && payload<exit_message>(m).from == child) {
        // Left in the mailbox, as OTP 25 leaves it.
        return {start_status::error, pid{}, payload<exit_message>(m).reason};
      }
      recv_skip(c);
    }
    if (!recv_wait(c, deadline)) break;
  }
  // Timed out: as proc_lib, kill it and say so.
  if (link) unlink(child);
  exit(child, exit_reason::kill());
  drop_monitor();
  return {start_status::error, pid{}, exit_reason::timeout()};
}

}  // namespace troupe::detail
