#pragma once
// Active mode: the socket reads ahead and sends its owner tcp_data messages,
// as Erlang's {active, once | N | true} ports do. Reads are made by whichever
// thread gets there first (the poller when the socket turns readable, the
// owner when it asks for more), one at a time, so the bytes stay in order.

#include <memory>
#include <optional>
#include <span>

#include "socket_state.hpp"

namespace troupe::net::detail {

/// Reads what the mode and the read-ahead limit allow and sends the owner
/// what it may have now (any thread; takes the lock).
void pump(const std::shared_ptr<socket_state>& s);

/// Sets the mode (holder only) and delivers what it lets through.
void set_active(const std::shared_ptr<socket_state>& s, active_mode m);

/// The right to read the descriptor, for a passive read (read_some): held
/// for its length, so the poller does not read ahead meanwhile. Throws
/// std::errc::operation_not_permitted while the socket is active (Erlang's
/// recv says einval then).
class passive_read {
 public:
  passive_read(socket_state& s, const char* call);
  ~passive_read();
  passive_read(const passive_read&) = delete;
  passive_read& operator=(const passive_read&) = delete;
  /// Bytes read ahead while the socket was active, if any (at most
  /// into.size(), copied); 0 if the peer closed after them.
  std::optional<std::size_t> take_read_ahead(std::span<std::byte> into);

 private:
  socket_state& s_;
};

}  // namespace troupe::net::detail
