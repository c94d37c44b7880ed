#pragma once
// troupe/process_info.hpp — looking at processes from anywhere.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "troupe/links.hpp"
#include "troupe/pid.hpp"

namespace troupe {

/// What a process is doing.
enum class process_status { running, runnable, waiting, exited };

/// A message waiting in a process's queue, as process_info(p, n) lists it.
struct queued_message {
  std::string type;   // demangled: "int", "troupe::exit_message", "app::order"
  std::string value;  // printed with fmt when the type is formattable, else empty
};

/// A snapshot of a process (Erlang's process_info/1). Values are read while
/// the process runs, so each is exact only for its instant.
struct process_snapshot {
  process_status status = process_status::exited;
  std::size_t message_queue_len = 0;
  std::uint64_t reductions = 0;
  std::size_t heap_bytes = 0;   // bytes allocated from troupe::heap()
  /// Bytes waiting in the buffers of the sockets it owns: output not yet
  /// handed to the kernel and input read but not yet delivered (troupe/net).
  std::size_t socket_buffer_bytes = 0;
  std::size_t stack_size = 0;   // address space of its stack (0 before it first runs)
  bool shares_stack = false;    // takes turns on a shared stack (runtime_options::dedicated_stacks)
  bool stackless = false;       // a message handler at rest: it holds no stack (troupe/handler.hpp)
  std::vector<pid> links;
  std::vector<pid> monitors;      // processes it monitors
  std::vector<pid> monitored_by;  // processes monitoring it
  std::optional<std::string> registered_name;
  bool trap_exit = false;
  /// Times it held its scheduler past runtime_options::long_schedule without
  /// reaching a safe point (see docs/scheduling.md).
  std::uint32_t long_schedules = 0;
  /// The first messages of its queue, oldest first: filled only by
  /// process_info(p, n) (Erlang's process_info(P, messages)).
  std::vector<queued_message> messages;
};

/// A snapshot of `p`, or nullopt if `p` is not alive. Safe from any process
/// or thread while a runtime exists.
std::optional<process_snapshot> process_info(pid p);

/// process_info(p), plus the first `n` messages queued for `p` in
/// `messages`. Only `p` may walk its queue, so the request reaches it as a
/// signal, in order with the messages sent to it (as OTP's does): the list
/// holds what was queued ahead of the request. `p` answers at its next
/// runtime call, at once if it waits in receive or sleep_for; a caller that
/// is a process yields meanwhile (and stays killable), a plain thread
/// blocks. Returns nullopt if `p` exits before it answers.
std::optional<process_snapshot> process_info(pid p, std::size_t n);

/// Every live process.
std::vector<pid> processes();

}  // namespace troupe

template <>
struct fmt::formatter<troupe::process_status> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(troupe::process_status s, Ctx& ctx) const {
    constexpr const char* names[] = {"running", "runnable", "waiting", "exited"};
    return fmt::format_to(ctx.out(), "{}", names[static_cast<int>(s)]);
  }
};
