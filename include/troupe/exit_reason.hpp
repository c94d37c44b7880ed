#pragma once
// troupe/exit_reason.hpp — why a process ended (Erlang's exit reasons).

#include <any>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "troupe/stack_trace.hpp"

namespace troupe {

/// The kinds of exit reason; `exit_reason::kind()` says which a reason is.
enum class exit_kind : std::uint8_t {
  normal,
  kill,
  killed,
  shutdown,
  noproc,
  noconnection,
  stack_overflow,
  max_heap_size,
  timeout,
  exception,
  user,
};

/// Why a process exited, or the reason carried by an exit signal.
///
/// The standard reasons are those of Erlang/OTP: `normal`, `kill` (only as a
/// signal: untrappable, and its target dies with `killed`), `killed`,
/// `shutdown` (optionally with a term, like `{shutdown, Term}`), `noproc`,
/// `noconnection`, `timeout`, plus troupe's `stack_overflow` and `max_heap_size`, an
/// `exception` that escaped the process (its type, what() and the stack of
/// its throw point), and user reasons: a string or any copyable value.
/// Reasons are cheap to copy (immutable, shared) and print with fmt on one
/// line: `fmt::format("{}", r)`; `fmt::format("{}", r.stack())` prints an
/// exception's symbolized stack, one frame a line.
class exit_reason {
 public:

  /// `normal`.
  exit_reason() noexcept = default;
  explicit exit_reason(exit_kind k) noexcept : kind_(k) {}

  static exit_reason normal() noexcept { return exit_reason(exit_kind::normal); }
  static exit_reason kill() noexcept { return exit_reason(exit_kind::kill); }
  static exit_reason killed() noexcept { return exit_reason(exit_kind::killed); }
  static exit_reason shutdown() noexcept { return exit_reason(exit_kind::shutdown); }
  /// `{shutdown, term}`: a shutdown that says why.
  static exit_reason shutdown(std::string term) { return exit_reason(exit_kind::shutdown, std::move(term)); }
  /// `{shutdown, Term}` with any copyable term: printed with fmt when T is
  /// formattable (else as `<term>`), and kept: `value<T>()` gives it back.
  template <class T>
    requires(!std::is_convertible_v<T, std::string_view> && !std::is_same_v<std::decay_t<T>, exit_reason>)
  static exit_reason shutdown(T term) {
    return with_value(exit_kind::shutdown, std::move(term));
  }
  static exit_reason noproc() noexcept { return exit_reason(exit_kind::noproc); }
  static exit_reason noconnection() noexcept { return exit_reason(exit_kind::noconnection); }
  static exit_reason stack_overflow() noexcept { return exit_reason(exit_kind::stack_overflow); }
  static exit_reason max_heap_size() noexcept { return exit_reason(exit_kind::max_heap_size); }
  /// `timeout`: a call (gen_server's, a stop, a start) that waited too long.
  static exit_reason timeout() noexcept { return exit_reason(exit_kind::timeout); }
  /// An exception that escaped a process: its type name, what(), and the
  /// stack of its throw point (see troupe/stack_trace.hpp).
  static exit_reason exception(std::string type, std::string what, stack_trace stack = {}) {
    exit_reason r(exit_kind::exception, std::move(what));
    r.data_->type = std::move(type);
    r.data_->stack = std::move(stack);
    return r;
  }
  /// A user reason given as text.
  static exit_reason user(std::string text) { return exit_reason(exit_kind::user, std::move(text)); }
  /// A user reason of any copyable type; printed with fmt when T is
  /// formattable, else by its type name.
  template <class T>
    requires(!std::is_convertible_v<T, std::string_view> && !std::is_same_v<std::decay_t<T>, exit_reason>)
  static exit_reason user(T value) {
    return with_value(exit_kind::user, std::move(value));
  }

  /// Which kind of reason this is.
  [[nodiscard]] exit_kind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is(exit_kind k) const noexcept { return kind_ == k; }
  /// Only `normal` is normal; a linked process that does not trap exits
  /// ignores a normal exit signal.
  [[nodiscard]] bool is_normal() const noexcept { return kind_ == exit_kind::normal; }
  /// Reasons for which no crash report is logged: normal and shutdown, as in OTP.
  [[nodiscard]] bool is_quiet() const noexcept { return kind_ == exit_kind::normal || kind_ == exit_kind::shutdown; }

  /// The shutdown term, a user reason's text, or an exception's what().
  [[nodiscard]] std::string_view detail() const noexcept {
    return data_ ? std::string_view(data_->text) : std::string_view();
  }
  /// An exception reason's type name.
  [[nodiscard]] std::string_view exception_type() const noexcept {
    return data_ ? std::string_view(data_->type) : std::string_view();
  }
  /// An exception reason's stack: where it was thrown, innermost frame
  /// first (empty for other reasons, and when no trace was recorded).
  [[nodiscard]] const stack_trace& stack() const noexcept {
    static const stack_trace none;
    return data_ ? data_->stack : none;
  }
  /// A user reason's or shutdown term's value, if it was given as a value of type T.
  template <class T>
  [[nodiscard]] const T* value() const noexcept {
    return data_ ? std::any_cast<T>(&data_->value) : nullptr;
  }
  /// Whether a user reason or shutdown term was given as a value (not as text).
  [[nodiscard]] bool has_value() const noexcept { return data_ && data_->value.has_value(); }

  /// Equal kinds and equal texts (user values compare by their text; stacks
  /// are not compared).
  friend bool operator==(const exit_reason& a, const exit_reason& b) noexcept {
    return a.kind_ == b.kind_ && a.detail() == b.detail() && a.exception_type() == b.exception_type();
  }
  friend bool operator==(const exit_reason& a, exit_kind k) noexcept { return a.kind_ == k; }

 private:
  struct data {
    std::string text;
    std::string type;
    std::any value;
    stack_trace stack;
  };
  exit_reason(exit_kind k, std::string text) : kind_(k), data_(std::make_shared<data>()) { data_->text = std::move(text); }
  template <class T>
  static exit_reason with_value(exit_kind k, T value) {
    std::string text;
    if constexpr (fmt::is_formattable<T>::value) text = fmt::format("{}", value);
    exit_reason r(k, std::move(text));
    r.data_->value = std::move(value);
    return r;
  }

  exit_kind kind_ = exit_kind::normal;
  std::shared_ptr<data> data_;
};

/// The name of a reason kind, as Erlang spells it.
constexpr std::string_view to_string(exit_kind k) noexcept {
  switch (k) {
    case exit_kind::normal: return "normal";
    case exit_kind::kill: return "kill";
    case exit_kind::killed: return "killed";
    case exit_kind::shutdown: return "shutdown";
    case exit_kind::noproc: return "noproc";
    case exit_kind::noconnection: return "noconnection";
    case exit_kind::stack_overflow: return "stack_overflow";
    case exit_kind::max_heap_size: return "max_heap_size";
    case exit_kind::timeout: return "timeout";
    case exit_kind::exception: return "exception";
    case exit_kind::user: return "user";
  }
  return "?";
}

}  // namespace troupe

/// Prints `normal`, `{shutdown,why}`, `{exception,std::runtime_error,"boom"}`,
/// or a user reason's text; always one line (an exception's stack is printed
/// by formatting `r.stack()`).
template <>
struct fmt::formatter<troupe::exit_reason> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::exit_reason& r, Ctx& ctx) const {
    using k = troupe::exit_kind;
    switch (r.kind()) {
      case k::shutdown:
        if (!r.detail().empty()) return fmt::format_to(ctx.out(), "{{shutdown,{}}}", r.detail());
        if (r.has_value()) return fmt::format_to(ctx.out(), "{{shutdown,<term>}}");
        break;
      case k::exception:
        return fmt::format_to(ctx.out(), "{{exception,{},\"{}\"}}", r.exception_type(), r.detail());
      case k::user:
        if (r.detail().empty()) return fmt::format_to(ctx.out(), "<user reason>");
        return fmt::format_to(ctx.out(), "{}", r.detail());
      default:
        break;
    }
    return fmt::format_to(ctx.out(), "{}", troupe::to_string(r.kind()));
  }
};
