#pragma once
// troupe/links.hpp — Erlang's failure model: links, monitors, exit signals,
// trap_exit. See docs/failure.md for the rules, case by case.

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"
#include "troupe/process.hpp"

namespace troupe {

class monitor_ref;

namespace detail {
// The runtime's way to make a monitor_ref from its number.
struct monitor_ref_access {
  static constexpr monitor_ref make(std::uint64_t id) noexcept;
};
}  // namespace detail

/// Identifies one monitor (Erlang's monitor reference). Unique for the life
/// of the program. Prints as `#Ref<0.N>`. Only `monitor`, `spawn_monitor`
/// and a down_message give one out; a default-constructed ref is null and
/// matches no monitor. It cannot be made from a number: a forged ref could
/// demonitor another process's monitor.
class monitor_ref {
 public:
  constexpr monitor_ref() noexcept = default;
  [[nodiscard]] constexpr std::uint64_t id() const noexcept { return id_; }
  constexpr explicit operator bool() const noexcept { return id_ != 0; }
  friend constexpr bool operator==(monitor_ref, monitor_ref) noexcept = default;

 private:
  friend struct detail::monitor_ref_access;
  constexpr explicit monitor_ref(std::uint64_t id) noexcept : id_(id) {}
  std::uint64_t id_ = 0;
};

constexpr monitor_ref detail::monitor_ref_access::make(std::uint64_t id) noexcept { return monitor_ref(id); }

/// The message a process that traps exits receives for an exit signal
/// (Erlang's `{'EXIT', From, Reason}`).
struct exit_message {
  pid from;
  exit_reason reason;
};

/// The message a monitoring process receives when the monitored process
/// exits, or at once if it was already dead (reason `noproc`); Erlang's
/// `{'DOWN', Ref, process, Pid, Reason}`.
struct down_message {
  monitor_ref ref;
  pid who;  // the null pid for a name that was not registered
  exit_reason reason;
  /// For a monitor set by registered name: that name (Erlang's {Name, Node}).
  std::string name;
};

/// Raised in a process by an operation that fails with an exit reason (for
/// example `link` to a dead process: `noproc`). If it escapes the process,
/// the process exits with that reason (not as an exception). Throw one
/// yourself to exit with a reason from deep inside a call stack.
class process_error : public std::runtime_error {
 public:
  explicit process_error(exit_reason r)
      : std::runtime_error(fmt::format("troupe: process error: {}", r)), reason_(std::move(r)) {}
  [[nodiscard]] const exit_reason& reason() const noexcept { return reason_; }

 private:
  exit_reason reason_;
};

/// Links the calling process and `p` (both ways; linking twice is one link).
/// If `p` is dead: a process that traps exits gets an exit_message with
/// reason `noproc`; one that does not gets a process_error(noproc) raised
/// here, as in OTP 25. Must be called from a process.
void link(pid p);

/// Removes the link between the calling process and `p`, if any. Once it
/// returns, the link has no further effect on the caller.
void unlink(pid p);

/// Starts monitoring `p`: when it exits the caller receives a down_message
/// with the returned reference, exactly once. If `p` is already dead, the
/// down_message (reason `noproc`) is sent at once.
monitor_ref monitor(pid p);

/// Stops a monitor. With `flush`, also removes its down_message from the
/// mailbox if it already arrived. Returns true if the monitor was still
/// active (no down_message had been sent).
bool demonitor(monitor_ref ref, bool flush = false);

/// Monitors the process registered as `name` (Erlang's monitor(process,
/// Name)): the name is looked up once, now; the down_message carries `name`.
/// An unknown name gives a down_message with reason `noproc` at once.
monitor_ref monitor(std::string_view name);

/// True while `p` is alive (Erlang's is_process_alive/1): false once it has
/// started to exit. Callable from any thread.
[[nodiscard]] bool is_process_alive(pid p);

/// Sends an exit signal with `reason` to `p` (Erlang's exit/2):
/// - a process that traps exits receives it as an exit_message, except
/// - `kill`, which cannot be trapped: the target exits with `killed`;
/// - `normal` is ignored by a process that does not trap exits (unless it is
///   the caller itself, which then exits normally);
/// - any other reason makes a non-trapping target exit with that reason.
/// Callable from a process or any thread; a dead `p` is ignored.
void exit(pid p, exit_reason reason);

/// Ends the calling process with `reason` (Erlang's exit/1): unwinds its
/// stack like an exception that only the runtime catches.
[[noreturn]] void exit(exit_reason reason);

/// Sets whether the calling process traps exits (Erlang's
/// process_flag(trap_exit, On)); returns the previous setting.
bool trap_exit(bool on);
/// Whether the calling process traps exits.
bool trap_exit();

/// spawn with `opts`, linked to the caller before the child can run.
template <class F, class... Args>
pid spawn_link(spawn_options opts, F&& f, Args&&... args) {
  opts.link = true;
  return spawn(opts, std::forward<F>(f), std::forward<Args>(args)...);
}

/// spawn, linked to the caller before the child can run.
template <class F, class... Args>
  requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>)
pid spawn_link(F&& f, Args&&... args) {
  return spawn_link(spawn_options{}, std::forward<F>(f), std::forward<Args>(args)...);
}

/// spawn with `opts`, monitored by the caller before the child can run
/// (Erlang's spawn_opt with `monitor`): the child's pid and the monitor.
/// Must be called from a process.
template <class F, class... Args>
std::pair<pid, monitor_ref> spawn_monitor(const spawn_options& opts, F&& f, Args&&... args) {
  monitor_ref ref;
  const pid p = detail::spawn_closure(opts, detail::bind_closure(std::forward<F>(f), std::forward<Args>(args)...), &ref);
  return {p, ref};
}

/// spawn, monitored by the caller before the child can run.
template <class F, class... Args>
  requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>)
std::pair<pid, monitor_ref> spawn_monitor(F&& f, Args&&... args) {
  return spawn_monitor(spawn_options{}, std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace troupe

template <>
struct std::hash<troupe::monitor_ref> {
  std::size_t operator()(troupe::monitor_ref r) const noexcept { return std::hash<std::uint64_t>{}(r.id()); }
};

template <>
struct fmt::formatter<troupe::monitor_ref> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(troupe::monitor_ref r, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "#Ref<0.{}>", r.id());
  }
};

template <>
struct fmt::formatter<troupe::exit_message> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::exit_message& m, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{{'EXIT',{},{}}}", m.from, m.reason);
  }
};

template <>
struct fmt::formatter<troupe::down_message> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::down_message& m, Ctx& ctx) const {
    if (!m.name.empty()) return fmt::format_to(ctx.out(), "{{'DOWN',{},process,{},{}}}", m.ref, m.name, m.reason);
    return fmt::format_to(ctx.out(), "{{'DOWN',{},process,{},{}}}", m.ref, m.who, m.reason);
  }
};
