// What supervisor and dynamic_supervisor share (troupe/detail/supervision.hpp).

#include "troupe/detail/supervision.hpp"

#include <optional>

#include <fmt/format.h>

#include "troupe/links.hpp"
#include "troupe/log.hpp"
#include "troupe/receive.hpp"
#include "troupe/registry.hpp"

namespace troupe::detail {

namespace {

constexpr std::string_view name_of(restart_type r) {
  switch (r) {
    case restart_type::permanent: return "permanent";
    case restart_type::transient: return "transient";
    case restart_type::temporary: return "temporary";
  }
  return "?";
}
constexpr std::string_view name_of(child_type t) { return t == child_type::worker ? "worker" : "supervisor"; }

}  // namespace

shutdown_policy default_shutdown(child_type t) noexcept {
  return t == child_type::worker ? shutdown_policy::after(std::chrono::seconds(5)) : shutdown_policy::never_kill();
}

void shut_down_child(pid p, const shutdown_policy& pol, std::string_view id, restart_type restart, child_type type) {
  const monitor_ref ref = monitor(p);
  unlink(p);
  auto wait_down = [&](std::chrono::nanoseconds t) -> std::optional<exit_reason> {
    return receive(when([&](const down_message& d) { return d.ref == ref; },
                        [](down_message&& d) { return std::optional<exit_reason>(std::move(d.reason)); }),
                   after(t, [] { return std::optional<exit_reason>(); }));
  };
  std::optional<exit_reason> got;
  const exit_kind expected = pol.brutal ? exit_kind::killed : exit_kind::shutdown;
  if (pol.brutal) {
    troupe::exit(p, exit_reason::kill());
    got = wait_down(infinity);
  } else {
    troupe::exit(p, exit_reason::shutdown());
    got = wait_down(pol.timeout);
    if (!got) {
      troupe::exit(p, exit_reason::kill());
      got = wait_down(infinity);
      report_supervisor("shutdown_error", *got, p, id, restart, type);
      got.reset();
    }
  }
  // As OTP's terminate_children: a child that was not permanent and had
  // ended normally by itself (a connection whose client left) is no error.
  const bool ended_normally = got && got->is(exit_kind::normal) && restart != restart_type::permanent;
  if (got && !got->is(expected) && !got->is(exit_kind::noproc) && !ended_normally) {
    report_supervisor("shutdown_error", *got, p, id, restart, type);
  }
  // An exit message it sent before the unlink is stale now.
  receive(when([&](const exit_message& m) { return m.from == p; }, [](exit_message&&) {}),
          after(std::chrono::nanoseconds(0), [] {}));
}

bool restart_window::add() {
  const auto now = std::chrono::steady_clock::now();
  at_.push_back(now);
  while (!at_.empty() && now - at_.front() > period_) at_.pop_front();
  return static_cast<int>(at_.size()) <= max_;
}

void report_supervisor(std::string_view context, const exit_reason& reason, pid child, std::string_view id,
                       restart_type restart, child_type type) noexcept {
  try {
    const pid me = troupe::self();
    const auto name = registered_name(me);
    logger()->error(
        "Supervisor report\n    supervisor: {}\n    errorContext: {}\n    reason: {}\n"
        "    offender: [{{pid,{}}},{{id,{}}},{{restart_type,{}}},{{child_type,{}}}]",
        name ? *name : fmt::format("{}", me), context, reason, child ? fmt::format("{}", child) : "undefined", id,
        name_of(restart), name_of(type));
  } catch (...) {
  }
}

}  // namespace troupe::detail
