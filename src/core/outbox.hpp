#pragma once
// A scheduler's outbox: messages its running process sends, one after
// another, to a receiver that is falling behind, handed over together.
//
// Every push onto a mailbox that other cores also push onto moves the
// mailbox's cache line between cores; with senders on every core (a busy
// server, fan-in) that transfer is most of a send's cost. Once a push tells
// the sender the receiver already holds `hot_backlog` messages it has not
// consumed, the sender's further messages to that receiver collect here and
// go over in one compare-exchange: when `batch` have collected, when the
// process sends to anyone else or posts a signal, asks for process_info, or
// switches out (for any reason: a wait, its slice's end, its exit). The
// receiver has a backlog to work through meanwhile, so none of them is late
// for it; the order of each sender's messages holds, since a process's
// outbox is empty whenever it is not running. Messages to itself never wait
// here (its own receive must see them at once).

#include <cstdint>

#include "troupe/detail/message_node.hpp"
#include "troupe/pid.hpp"

namespace troupe::detail {

struct outbox {
  static constexpr long hot_backlog = 256;
  static constexpr std::uint32_t batch = 32;

  troupe::pid to;             // the receiver found behind (null: none)
  mpsc_node* newest = nullptr;  // the collected messages, newest first
  mpsc_node* oldest = nullptr;
  std::uint32_t count = 0;
};

}  // namespace troupe::detail
