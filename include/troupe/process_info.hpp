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

/// A snapshot of a process (Erlang's process_info/1). Values are read while
/// the process runs, so each is exact only for its instant.
struct process_snapshot {
  process_status status = process_status::exited;
  std::size_t message_queue_len = 0;
  std::uint64_t reductions = 0;
  std::size_t heap_bytes = 0;   // bytes allocated from troupe::heap()
  std::size_t stack_size = 0;   // address space of its stack (0 before it first runs)
  bool shares_stack = false;    // takes turns on a shared stack (runtime_options::dedicated_stacks)
  std::vector<pid> links;
  std::vector<pid> monitors;      // processes it monitors
  std::vector<pid> monitored_by;  // processes monitoring it
  std::optional<std::string> registered_name;
  bool trap_exit = false;
};

/// A snapshot of `p`, or nullopt if `p` is not alive. Safe from any process
/// or thread while a runtime exists.
std::optional<process_snapshot> process_info(pid p);

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
