#pragma once
// Buffered writes (tcp_socket::send): a send appends to the socket's buffer
// and returns; the buffer goes to the kernel when the sending process next
// stops running (a suspend hook), or at once past flush_at bytes. What the
// kernel cannot take yet, the poller writes when the socket turns writable,
// with everything sent meanwhile in the same write. The buffer is bounded: a
// sender that finds it full waits for room, or fails, as the socket is set.

#include <memory>
#include <string_view>

#include "readiness.hpp"
#include "socket_state.hpp"

namespace troupe::net::detail {

/// Appends `head` then `body` (either may be empty) for the holder.
void queue_send(const std::shared_ptr<socket_state>& s, std::string_view head, std::string_view body,
                steady::time_point deadline, const char* call);

/// Hands what is queued to the kernel as far as it takes it now (holder).
void flush(const std::shared_ptr<socket_state>& s) noexcept;

/// Flushes and waits until the kernel has all of it (holder);
/// net_error(timed_out) at `deadline`, or the error a write met.
void drain(const std::shared_ptr<socket_state>& s, steady::time_point deadline, const char* call);

/// The handle lets go: what is still buffered goes out in the background, for
/// at most `linger`, and the descriptor closes after it.
void close_after_output(const std::shared_ptr<socket_state>& s) noexcept;

}  // namespace troupe::net::detail
