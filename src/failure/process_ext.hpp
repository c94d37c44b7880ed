#pragma once
// The part of a process that other processes touch under a lock: links,
// monitors, registered name and exit signals on their way in. Allocated the
// first time a process needs it and kept with its slot for good.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "link_set.hpp"
#include "process_record.hpp"
#include "small_mutex.hpp"
#include "suspend_hooks.hpp"
#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"

namespace troupe::detail {

/// An exit signal on its way: travels through the mailbox as a message of
/// this (internal) type.
struct pending_exit {
  troupe::pid from;
  exit_reason reason;
  bool from_link;  // a linked process died (vs. exit/2)
};

/// A process's monitors, both ways: made on first use, and freed when the
/// last monitor on it goes (a server is monitored only for each call's
/// length), so that an idle process pays nothing for them.
struct monitor_tables {
  std::unordered_map<std::uint64_t, troupe::pid> monitors;      // mine: ref -> target
  std::unordered_map<std::uint64_t, troupe::pid> monitored_by;  // on me: ref -> watcher
  std::unordered_map<std::uint64_t, std::string> monitor_names;  // on me, by name: ref -> the name used
};

struct process_ext;

/// A call monitor (troupe/detail/call_monitor.hpp): the caller's one record,
/// linked into its target's list while the watch is on.
struct call_watch {
  process_ext* target_ext = nullptr;  // owner only: whose list it was put in (null: none since)
  // Under target_ext->mu:
  bool linked = false;  // in the list: the watch is on, and the target alive
  std::uint64_t ref = 0;
  troupe::pid watcher;
  call_watch* prev = nullptr;
  call_watch* next = nullptr;
};

/// What few processes ever need: a registered name, signals waiting to be
/// acted on, the message a crash happened in. Made on first use.
struct ext_rare {
  std::vector<pending_exit> exits;  // owner only: signals pulled, not yet acted on
  std::string name;
  std::string crash_message;  // what the process was handling when it crashed
};

/// Kept small: every linked or monitored process has one (an idle server
/// under a supervisor is little more than its record and this).
struct process_ext {
  small_mutex mu;
  bool exiting = false;  // set as the process starts to exit: no new links or monitors
  // Owner only: whether its doom (below) is its own failure (a crash report)
  // or an exit signal's doing.
  bool doom_reported = false;
  link_set links;
  std::unique_ptr<monitor_tables> mon;  // null: no monitors either way
  std::unique_ptr<ext_rare> rare_;      // null: none of its fields used yet
  call_watch* call_watchers = nullptr;  // under mu: the call monitors on it
  std::unique_ptr<call_watch> call;     // owner only: its own, made by its first call

  /// Under mu.
  monitor_tables& tables() {
    if (!mon) mon = std::make_unique<monitor_tables>();
    return *mon;
  }
  /// Under mu: drops monitor `ref` on this process (as its target), and the
  /// tables once no monitor is left either way.
  void forget_watcher(std::uint64_t ref) noexcept {
    if (!mon) return;
    mon->monitored_by.erase(ref);
    if (!mon->monitor_names.empty()) mon->monitor_names.erase(ref);
    if (mon->monitored_by.empty() && mon->monitors.empty()) mon.reset();
  }
  /// Under mu.
  ext_rare& rare() {
    if (!rare_) rare_ = std::make_unique<ext_rare>();
    return *rare_;
  }
  /// Under mu: the registered name, empty if none.
  [[nodiscard]] const std::string& name() const noexcept {
    static const std::string none;
    return rare_ ? rare_->name : none;
  }

  std::size_t max_heap = 0;
  std::atomic<std::size_t> heap_bytes{0};
  // Bytes buffered in the sockets it owns (src/net), charged by whichever
  // thread moves them: signed, as a late charge may land after a reset.
  std::atomic<std::int64_t> io_bytes{0};
  // Pushes made while the mailbox word's count was saturated (65,535), so
  // that message_queue_len stays exact past it; reset when the owner takes.
  std::atomic<std::size_t> mbox_overflow{0};
  // The alias whose messages it accepts now (0: none): a call waiting for its
  // reply; one is enough, since a call blocks its caller. Written by the
  // owner only; senders read it to drop a late reply early.
  std::atomic<std::uint64_t> active_alias{0};
  // Times the watchdog saw it hold its scheduler past long_schedule.
  std::atomic<std::uint32_t> long_schedules{0};
  // Owner only: why it must end, once decided (process::doomed).
  exit_reason doom_reason;
  // Owner only: work for its next switch (src/core/suspend_hooks.hpp).
  suspend_hook* hooks = nullptr;
  suspend_hook* hooks_tail = nullptr;

  /// Back to the state of a fresh process (when its slot is recycled).
  void reset() {
    std::lock_guard lock(mu);
    exiting = false;
    doom_reported = false;
    links.clear();
    mon.reset();
    rare_.reset();
    call_watchers = nullptr;  // its exit took them
    call.reset();             // unlinked as it exited
    max_heap = 0;
    heap_bytes.store(0, std::memory_order_relaxed);
    io_bytes.store(0, std::memory_order_relaxed);
    mbox_overflow.store(0, std::memory_order_relaxed);
    active_alias.store(0, std::memory_order_relaxed);
    long_schedules.store(0, std::memory_order_relaxed);
    doom_reason = exit_reason();
  }
};

/// `p`'s ext, made if it has none yet (any thread).
process_ext& ext_of(process* p);

}  // namespace troupe::detail
