#pragma once
// Call monitors: the monitor a request/reply protocol (gen_server's call)
// holds on its server for the length of one wait.
//
// A call is a monitor, a request, a reply and a demonitor, and a busy server
// has as many monitors on it as it has callers waiting. An ordinary monitor
// is a pair of map entries, one in each process's tables, made under both
// processes' locks. A call monitor uses what a call guarantees: a process
// waits on one call at a time. So the caller owns a single watch record,
// and the server keeps its callers' records in an intrusive list: making and
// ending one takes the server's lock alone and allocates nothing (after a
// process's first call). Otherwise it is a monitor: a server that is gone, or
// dies while the watch is on, sends the caller a down_message with the watch's
// reference and the server's reason (noproc if it was gone), and the server's
// process_info lists the caller in monitored_by.

#include "troupe/links.hpp"
#include "troupe/pid.hpp"

namespace troupe::detail {

/// Puts the calling process's watch on `target`, replacing none: at most one
/// is on at a time per process (end it with demonitor_call before the next).
monitor_ref monitor_for_call(pid target);

/// Ends the calling process's watch. True if the target had not died first;
/// false if it had: then the down message is already in the mailbox (sent
/// while the watch was still on), for the caller to take or discard.
bool demonitor_call(monitor_ref ref) noexcept;

}  // namespace troupe::detail
