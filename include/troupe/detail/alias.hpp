#pragma once
// Aliases and mailbox marks: what a request/reply protocol (gen_server's call,
// proc_lib's synchronous start) needs from the core to wait for its reply
// cheaply and exactly.
//
// - An alias (OTP 24's) is a fresh number a process activates while it waits
//   for a reply. A message whose payload derives from alias_header reaches
//   the process only while its alias is the active one: a reply that comes
//   after the caller gave up (a timeout) is dropped by the sender if it can
//   tell, else when the receiver pulls it, and is never seen by a receive or
//   listed by process_info.
// - A mark is a position in the calling process's mailbox. Everything that
//   arrived before it is behind it, so a receive started at a mark tests only
//   what came later: a process with 100,000 unrelated messages queued waits
//   for its reply as cheaply as one with none (the BEAM does this for a
//   receive that matches a reference made after the mark).

#include <cstdint>

#include "troupe/detail/message_node.hpp"
#include "troupe/pid.hpp"
#include "troupe/receive.hpp"

namespace troupe::detail {

/// A number unique for the program's life (shared with monitor references).
std::uint64_t new_ref() noexcept;

/// Makes `alias` the calling process's active alias (0: none), replacing the
/// previous one: a process waits for one reply at a time.
/// Setting 0 never throws.
void set_active_alias(std::uint64_t alias);

/// Sends `m` (its payload derives from alias_header) to `to`, unless `to`
/// no longer waits on that alias: then it is dropped, as OTP drops a message
/// to an inactive alias. Never blocks; costs 1 reduction.
void send_to_alias(pid to, message_node* m);

/// A position in the calling process's mailbox (see the top of this file).
struct recv_mark {
  std::atomic<mpsc_node*>* link;
};

/// Marks the calling process's mailbox after the messages it holds now. Pulls
/// what is waiting first (once: each message is pulled once in its life).
recv_mark mark_mailbox();

/// A receive cursor that starts at `mark` instead of the head. The node the
/// mark follows must stay on the saved list meanwhile: take nothing between
/// mark_mailbox and the receive but what arrived after the mark.
recv_cursor recv_begin_at(recv_mark mark);

/// Removes and destroys the first message after `mark` that `match` accepts,
/// pulling what has arrived; never waits. True if one was found.
template <class Match>
bool discard_after(recv_mark mark, Match&& match) {
  recv_cursor c = recv_begin_at(mark);
  while (message_node* m = recv_peek(c)) {
    if (match(m)) {
      destroy_message(recv_take(c));
      return true;
    }
    recv_skip(c);
  }
  return false;
}

}  // namespace troupe::detail
