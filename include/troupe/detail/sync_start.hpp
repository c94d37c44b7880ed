#pragma once
// A synchronous start (OTP's proc_lib:start/start_link): the starter waits
// until the new process says how its init went. Behaviours start through it.

#include <chrono>
#include <cstdint>
#include <string>

#include "troupe/detail/message_node.hpp"
#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"
#include "troupe/process.hpp"
#include "troupe/start_result.hpp"

namespace troupe::detail {

/// Where a starting process sends its ack: the starter and an alias that
/// the starter holds active while it waits.
struct start_ack_to {
  pid starter;
  std::uint64_t alias = 0;
};

/// The ack. Reaches the starter only while it waits (a start that timed out
/// drops it).
struct start_ack : alias_header {
  start_status status = start_status::ok;
  exit_reason reason;
  pid holder;
};

/// Called by the starting process: tells the starter how init went (once).
void ack_start(const start_ack_to& to, start_status status, exit_reason reason = {}, pid holder = {});

/// A fresh ack address for the calling process, to put into the body of
/// the process it is about to sync_start.
start_ack_to start_ack_address();

/// Spawns `body` (linked with `link`) and waits for its ack to `to` (from
/// start_ack_address), at most `timeout` (negative: forever). If the process dies
/// before it acks, the start fails with its exit reason; on a timeout the
/// process is killed and the start fails with `timeout`. A linked start
/// that fails leaves the exit signal to do what it does (OTP 25: a starter
/// that traps exits gets the 'EXIT' message; one that does not dies of an
/// abnormal reason). Must be called from a process.
start_result<pid> sync_start(spawn_options opts, bool link, closure* body, start_ack_to to,
                             std::chrono::nanoseconds timeout);

}  // namespace troupe::detail
