#pragma once
// troupe/stack_trace.hpp — where an exception was thrown.
//
// When code running in a troupe process throws, the runtime records the
// return addresses of the throw point (cheaply: no symbols are looked up)
// and keeps them with the exception object, so a rethrow, a nested
// throw/catch in a handler, or the process moving to another scheduler while
// it unwinds do not change them. An exception that ends a process gives an
// exit reason carrying that trace (exit_reason::stack()), and the crash
// report prints it symbolized, as OTP prints `{badarg, Stack}`.
// Throws outside processes record nothing. See docs/failure.md.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace troupe {

/// One symbolized frame of a stack_trace: a function and where in it.
struct stack_frame {
  /// An address inside the call instruction (a return address minus one).
  const void* address = nullptr;
  /// The function's demangled name; empty if it cannot be told.
  std::string function;
  /// The source file and line (from debug information); empty / 0 if unknown.
  std::string file;
  unsigned line = 0;
  /// The executable or shared library holding the address, and the
  /// address's offset in it (what `addr2line -e module offset` takes).
  std::string module;
  std::uintptr_t module_offset = 0;
  /// The function was inlined here into the next frame's (same address).
  bool inlined = false;
};

/// The return addresses of a call stack, innermost first: frame 0 is the
/// function that threw. Cheap to copy around unsymbolized; symbolize() (or
/// printing with fmt, which symbolizes) looks up names, files and lines.
class stack_trace {
 public:
  stack_trace() noexcept = default;
  explicit stack_trace(std::vector<const void*> addresses) noexcept : addresses_(std::move(addresses)) {}

  /// The frames' addresses (inside each call instruction), innermost first.
  [[nodiscard]] const std::vector<const void*>& addresses() const noexcept { return addresses_; }
  [[nodiscard]] bool empty() const noexcept { return addresses_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return addresses_.size(); }

  /// Which frames symbolize() gives.
  enum class frames : std::uint8_t {
    /// Leaves out std::invoke / std::apply forwarding inlined between
    /// frames, and the runtime's own frames under the process's function
    /// (the spawn closure, run_body, process_entry, make_fcontext).
    readable,
    /// Every frame.
    all,
  };

  /// Looks up every frame's function, source location and module; an
  /// address where functions were inlined gives one frame per function,
  /// innermost first. Costly: the first call in a program reads its debug
  /// information (on a helper thread, which the caller waits for).
  [[nodiscard]] std::vector<stack_frame> symbolize(frames which = frames::readable) const;

  /// The readable symbolized trace, one frame a line, each line starting
  /// with `indent`: `#0 fn(int) at src/file.cpp:12`. Empty for an empty trace.
  [[nodiscard]] std::string to_string(std::string_view indent = {}) const;

  /// The stack of the caller, frame 0 being the function that calls
  /// capture(); at most `depth` frames.
  [[nodiscard]] static stack_trace capture(std::size_t depth = 32);

 private:
  std::vector<const void*> addresses_;
};

/// Turns recording of throw points in processes on or off (on by default;
/// off, a throw costs one check more than without troupe). The environment
/// variable TROUPE_EXCEPTION_TRACES, read once at the first throw, sets the
/// starting value: `0` or `off` turns recording off, a number N sets the
/// depth to N frames.
void set_exception_traces(bool on) noexcept;
/// How many frames are recorded per throw (default 32, at most 256); 0
/// turns recording off.
void set_exception_trace_depth(std::size_t frames) noexcept;
/// The current depth; 0 when recording is off.
[[nodiscard]] std::size_t exception_trace_depth() noexcept;

/// Inside a catch block: the throw point of the exception being handled.
/// Empty outside a catch block, for an exception thrown outside a process
/// or while recording was off, and for one made by std::make_exception_ptr.
[[nodiscard]] stack_trace current_exception_trace() noexcept;
/// The throw point of the exception `e` holds (empty as above).
[[nodiscard]] stack_trace exception_trace(const std::exception_ptr& e) noexcept;

}  // namespace troupe

/// Prints the symbolized trace, one frame a line (see stack_trace::to_string).
template <>
struct fmt::formatter<troupe::stack_trace> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::stack_trace& s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{}", s.to_string());
  }
};

/// Prints `fn(int) at file.cpp:12`, `fn(int) in libfoo.so` without debug
/// information, `libfoo.so+0x1234` when no name is known; `(inlined)`
/// follows a function inlined into the next frame's.
template <>
struct fmt::formatter<troupe::stack_frame> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const troupe::stack_frame& f, Ctx& ctx) const {
    auto out = ctx.out();
    if (f.function.empty()) {
      if (f.module.empty()) return fmt::format_to(out, "{}", f.address);
      out = fmt::format_to(out, "{}+{:#x}", f.module, f.module_offset);
    } else {
      out = fmt::format_to(out, "{}", f.function);
    }
    if (!f.file.empty()) {
      out = fmt::format_to(out, " at {}:{}", f.file, f.line);
    } else if (!f.function.empty() && !f.module.empty()) {
      out = fmt::format_to(out, " in {}", f.module);
    }
    if (f.inlined) out = fmt::format_to(out, " (inlined)");
    return out;
  }
};
