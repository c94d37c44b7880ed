#pragma once
// Birth and death of a process: its fiber's entry point and the recycling of
// its record once it has exited.

#include "fiber_switch.hpp"
#include "process_record.hpp"
#include "process_table.hpp"

namespace troupe::detail {

class runtime_impl;

/// Entry point of every process fiber.
[[noreturn]] void process_entry(transfer_t t);

/// Frees what an exited (or never started) process holds and returns its
/// record to the table. Runs on a scheduler thread, off the process's stack.
void recycle(runtime_impl& rt, process* p, record_cache* cache) noexcept;

/// Ends `p`, which could not be started (no stack could be mapped), as if it
/// had exited: its links and monitors hear of it.
void fail_start(process* p, const char* why) noexcept;

/// Frees a chain of message nodes linked through `next`.
void destroy_list(mpsc_node* n) noexcept;

}  // namespace troupe::detail
