#pragma once
// troupe/start_result.hpp — what starting a behaviour's process gives back
// (OTP's {ok, Pid} | ignore | {error, Reason}).

#include <stdexcept>
#include <string>
#include <concepts>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "troupe/exit_reason.hpp"
#include "troupe/pid.hpp"

namespace troupe {

/// How a start ended.
enum class start_status : unsigned char {
  ok,               // the process runs and its init succeeded
  ignore,           // init asked to be ignored: the process exited normally
  already_started,  // the name was taken: holder() is the process that has it
  error,            // init failed (or the process died first): reason() says why
  // A supervisor's answers about a child (start_child, restart_child):
  already_present,  // a child with that id exists, not running
  running,          // the child runs already
  not_found,        // no child with that id
};

/// Thrown by start_result::value() when the start did not succeed.
class start_error : public std::runtime_error {
 public:
  start_error(start_status s, exit_reason r, pid holder)
      : std::runtime_error(describe(s, r, holder)), status_(s), reason_(std::move(r)), holder_(holder) {}
  [[nodiscard]] start_status status() const noexcept { return status_; }
  [[nodiscard]] const exit_reason& reason() const noexcept { return reason_; }
  [[nodiscard]] pid holder() const noexcept { return holder_; }

 private:
  static std::string describe(start_status s, const exit_reason& r, pid holder) {
    switch (s) {
      case start_status::ok: return "troupe: started";
      case start_status::ignore: return "troupe: start: ignore";
      case start_status::already_started: return fmt::format("troupe: start: {{already_started,{}}}", holder);
      case start_status::already_present: return "troupe: start: {error,already_present}";
      case start_status::running: return "troupe: start: {error,running}";
      case start_status::not_found: return "troupe: start: {error,not_found}";
      case start_status::error: break;
    }
    return fmt::format("troupe: start: {{error,{}}}", r);
  }
  start_status status_;
  exit_reason reason_;
  pid holder_;
};

/// The outcome of a start: the process's handle `H` (a pid, or a typed
/// server<S>) if it runs, else why not. Tests as true when it runs.
template <class H = pid>
class start_result {
 public:
  start_result() = default;
  start_result(start_status s, H h, exit_reason r = {}, pid holder = {})
      : status_(s), handle_(std::move(h)), reason_(std::move(r)), holder_(holder) {}
  template <class H2>
    requires(!std::is_same_v<H, H2> && std::is_constructible_v<H, const H2&>)
  explicit start_result(const start_result<H2>& o)
      : status_(o.status()), handle_(H(o.handle())), reason_(o.reason()), holder_(o.holder()) {}
  /// A typed result (start_result<server<S>>) as a pid result, as a
  /// supervisor's child_spec::start returns.
  template <class H2>
    requires(std::is_same_v<H, pid> && !std::is_same_v<H2, pid> &&
             requires(const H2& h) { { h.pid() } -> std::convertible_to<pid>; })
  start_result(const start_result<H2>& o)  // NOLINT: implicit, so a start_link is a child's start as it is
      : status_(o.status()), handle_(o.handle().pid()), reason_(o.reason()), holder_(o.holder()) {}

  [[nodiscard]] start_status status() const noexcept { return status_; }
  [[nodiscard]] bool ok() const noexcept { return status_ == start_status::ok; }
  explicit operator bool() const noexcept { return ok(); }
  /// The running process (null unless ok()).
  [[nodiscard]] const H& handle() const noexcept { return handle_; }
  /// Why it did not start (error), `normal` otherwise.
  [[nodiscard]] const exit_reason& reason() const noexcept { return reason_; }
  /// For already_started: the process that holds the name.
  [[nodiscard]] pid holder() const noexcept { return holder_; }
  /// The handle; throws start_error unless ok().
  const H& value() const {
    if (!ok()) throw start_error(status_, reason_, holder_);
    return handle_;
  }
  const H& operator*() const { return value(); }
  const H* operator->() const { return &value(); }

 private:
  start_status status_ = start_status::error;
  H handle_{};
  exit_reason reason_;
  pid holder_;
};

}  // namespace troupe

/// Prints as OTP's results: `{ok,<0.42.0>}`, `ignore`,
/// `{error,{already_started,<0.7.0>}}`, `{error,Reason}`.
template <class H>
struct fmt::formatter<troupe::start_result<H>> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::start_result<H>& r, Ctx& ctx) const {
    using s = troupe::start_status;
    switch (r.status()) {
      case s::ok: return fmt::format_to(ctx.out(), "{{ok,{}}}", r.handle());
      case s::ignore: return fmt::format_to(ctx.out(), "ignore");
      case s::already_started: return fmt::format_to(ctx.out(), "{{error,{{already_started,{}}}}}", r.holder());
      case s::already_present: return fmt::format_to(ctx.out(), "{{error,already_present}}");
      case s::running: return fmt::format_to(ctx.out(), "{{error,running}}");
      case s::not_found: return fmt::format_to(ctx.out(), "{{error,not_found}}");
      case s::error: break;
    }
    return fmt::format_to(ctx.out(), "{{error,{}}}", r.reason());
  }
};
