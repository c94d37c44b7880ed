#pragma once
// Work a process leaves for the moment it next stops running: before it
// waits in a receive or a sleep, yields, or exits. The net layer's buffered
// writes use it so that a burst of sends to a socket leaves in one system
// call, made when the process has nothing more to add (see
// src/net/outbound.hpp), as a Go program flushes a bufio.Writer when its
// channel runs dry, but without the program having to say so.

namespace troupe::detail {

struct process;

/// One piece of such work. It runs on the process's own stack, or, for a
/// process that ends abruptly (a stack overflow, an abandoned unwinding), on
/// its scheduler's after the process is gone; either way it must not throw,
/// wait or switch. Whoever queues a hook keeps it alive until it has run.
struct suspend_hook {
  virtual void on_suspend() noexcept = 0;
  suspend_hook* next_hook = nullptr;

 protected:
  ~suspend_hook() = default;
};

/// Queues `h` on the calling process (which must be one): it runs once, the
/// next time the process switches away. Queue it again for the time after.
/// Throws std::bad_alloc if the process's extension record cannot be made.
void run_at_suspend(suspend_hook* h);

/// Runs `p`'s queued hooks now, in the order they were queued (the
/// scheduler's switch path and process recycling).
void run_suspend_hooks(process* p) noexcept;

}  // namespace troupe::detail
