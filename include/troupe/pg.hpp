#pragma once
// troupe/pg.hpp — process groups, as OTP's pg: named groups of processes
// that any process can join, leave, list, watch and send to.
//
//   troupe::pg::start_link();                      // the default scope, "pg"
//   troupe::pg::join("room:lobby");                // the caller joins
//   troupe::pg::broadcast("room:lobby", chat{...}, troupe::self());  // to all others
//
// A scope is a process (start_link) that owns its groups: joins and leaves go
// through it, and it monitors every member, so a process that ends leaves
// all its groups. Reads do not: get_members and broadcast read a snapshot of
// the group that the scope replaces at each change, with no message to the
// scope and no lock while sending (a brief one copies the snapshot's
// pointer), so a broadcast costs one send per member. As in OTP
// a process may join a group more than once and is then a member as many
// times (and gets a broadcast as many times) until it leaves as often.
// Differences from OTP: groups are strings; no distribution (every member
// is local, so get_local_members is get_members); broadcast is troupe's.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/pid.hpp"
#include "troupe/process.hpp"
#include "troupe/start_result.hpp"

namespace troupe::pg {

/// OTP's default scope.
inline constexpr std::string_view default_scope = "pg";

/// A group's members at one instant, shared and never changed.
using members_snapshot = std::shared_ptr<const std::vector<pid>>;

/// What a monitor of a group (scope::monitor) is sent when processes join it
/// or leave it (OTP's {Ref, join, Group, Pids} and {Ref, leave, Group, Pids}).
struct joined {
  std::uint64_t ref;
  std::string group;
  std::vector<pid> pids;
};
struct left {
  std::uint64_t ref;
  std::string group;
  std::vector<pid> pids;
};

/// What scope::monitor returns: the monitor, and the members as it began.
struct monitor_result {
  std::uint64_t ref;
  std::vector<pid> members;
};

namespace detail {
struct scope_state;
struct group_state;
}  // namespace detail

/// A group of a scope, looked up once: its broadcast costs no lookup either.
class group {
 public:
  group() = default;
  /// The members now.
  [[nodiscard]] members_snapshot members() const noexcept;
  /// Sends a copy of `msg` to every member (but `except`); returns how many.
  template <class M>
  std::size_t broadcast(const M& msg, pid except = {}) const {
    const members_snapshot all = members();
    std::size_t n = 0;
    for (const pid p : *all) {
      if (p == except) continue;
      troupe::send(p, msg);
      ++n;
    }
    return n;
  }

 private:
  friend class scope;
  explicit group(std::shared_ptr<detail::group_state> g) noexcept : g_(std::move(g)) {}
  std::shared_ptr<detail::group_state> g_;
};

/// A started scope, by name. Every call fails with std::invalid_argument if
/// no scope of that name runs (start_link first).
class scope {
 public:
  explicit scope(std::string_view name = default_scope);

  /// Makes `member` (the caller by default) a member of `name` once more.
  /// Waits for the scope to note it, so a broadcast made after it returns
  /// reaches the member.
  void join(std::string_view name, pid member = self()) const;
  void join(std::string_view name, std::span<const pid> members) const;
  /// Takes `member` out of `name` once; false if it was not a member (OTP's
  /// not_joined). Of several pids, each must be a member, or none leaves.
  bool leave(std::string_view name, pid member = self()) const;
  bool leave(std::string_view name, std::span<const pid> members) const;

  [[nodiscard]] std::vector<pid> get_members(std::string_view name) const;
  [[nodiscard]] std::vector<pid> get_local_members(std::string_view name) const { return get_members(name); }
  /// The groups with at least one member.
  [[nodiscard]] std::vector<std::string> which_groups() const;

  /// Sends the caller a joined or left message at each change of `name`'s
  /// membership, until demonitor or the caller ends.
  monitor_result monitor(std::string_view name) const;
  /// False if `ref` was not a monitor of this scope's (OTP's false).
  bool demonitor(std::uint64_t ref) const;

  /// The group `name`, for broadcasts without a lookup (it may have no
  /// members yet).
  [[nodiscard]] group get_group(std::string_view name) const;
  template <class M>
  std::size_t broadcast(std::string_view name, const M& msg, pid except = {}) const {
    return get_group(name).broadcast(msg, except);
  }

  [[nodiscard]] pid server() const noexcept;

 private:
  std::shared_ptr<detail::scope_state> s_;
};

/// Starts a scope named `name`, linked to the caller, registered under that
/// name (a taken name is already_started, as in OTP).
start_result<pid> start_link(std::string_view name = default_scope);
/// The same, not linked.
start_result<pid> start(std::string_view name = default_scope);

// The default scope's calls (OTP's pg:join/2 and the rest).
inline void join(std::string_view name, pid member = self()) { scope().join(name, member); }
inline bool leave(std::string_view name, pid member = self()) { return scope().leave(name, member); }
inline std::vector<pid> get_members(std::string_view name) { return scope().get_members(name); }
inline std::vector<std::string> which_groups() { return scope().which_groups(); }
inline monitor_result monitor(std::string_view name) { return scope().monitor(name); }
inline bool demonitor(std::uint64_t ref) { return scope().demonitor(ref); }
template <class M>
std::size_t broadcast(std::string_view name, const M& msg, pid except = {}) {
  return scope().broadcast(name, msg, except);
}

}  // namespace troupe::pg
