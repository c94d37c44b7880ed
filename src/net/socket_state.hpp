#pragma once
// What a tcp_socket or tcp_listener holds: the Asio object, registered with
// the poller's io_context. A socket's state is shared between its handle and
// the poller's pending handlers (active reads, the rest of a buffered
// write), so it lives until the last of them lets go.

#include <boost/asio/ip/tcp.hpp>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "framing.hpp"
#include "small_mutex.hpp"
#include "suspend_hooks.hpp"
#include "troupe/net/tcp_messages.hpp"
#include "troupe/pid.hpp"

namespace troupe::net::detail {

/// Closes an Asio socket or acceptor now, taking it out of the poller's
/// epoll set first. Asio's close leaves that to the kernel's final close of
/// the file, but a thread in epoll_wait holds a reference to a file while it
/// looks at its entry, and if that reference is the last, the real close
/// (the FIN, or a SO_LINGER 0 reset) waits until that thread's epoll_wait
/// returns: a peer waited 5 s for a reset that way.
template <class Socket>
void close_now(Socket& s) noexcept {
  if (!s.is_open()) return;
  boost::system::error_code ec;
  const int fd = s.release(ec);  // epoll_ctl(DEL); pending operations end with operation_aborted
  if (ec) {
    s.close(ec);
    return;
  }
  ::close(fd);
}

/// Active mode: what the socket reads ahead and owes its owner. Under mu.
struct inbound {
  active_mode mode = passive;
  framing frames = framing::raw;
  std::size_t max_frame = 64 << 20;  // a longer frame is an error (message_size)
  read_buffer buffer;                // read, not yet delivered
  bool reading = false;  // a thread reads the descriptor now (one at a time keeps the bytes in order)
  bool again = false;    // the poller found it ready while another thread read
  bool watching = false; // the poller waits for it to be readable
  bool eof = false;      // the peer closed (or reading failed: error)
  bool told_closed = false;
  std::error_code error;
};

/// Buffered writes (tcp_socket::send). `queued` is the holder's (under mu);
/// `inflight` belongs to whoever writes (`who`), so sends made while a write
/// is under way leave together in the next one.
struct outbound {
  enum class writer : std::uint8_t {
    none,    // nothing is being written
    thread,  // a thread is writing inflight now
    watch,   // the kernel took no more: the poller goes on when it is writable
  };
  std::string queued;
  std::string inflight;
  std::size_t inflight_sent = 0;
  writer who = writer::none;
  bool watch_pending = false;  // a write watch is armed in the poller
  bool hooked = false;         // a flush is queued for the holder's next switch
  std::size_t limit = 1 << 20;
  bool fail_when_full = false;
  troupe::pid waiter;          // a process waiting for size() <= wake_at
  std::uint64_t waiter_number = 0;
  std::size_t wake_at = 0;
  std::error_code error;       // a write failed: every later one fails with it
  [[nodiscard]] std::size_t size() const noexcept { return queued.size() + inflight.size() - inflight_sent; }
};

struct socket_state final : std::enable_shared_from_this<socket_state>, troupe::detail::suspend_hook {
  explicit socket_state(boost::asio::io_context& io);
  ~socket_state();
  void on_suspend() noexcept override;  // flushes what the holder sent (outbound.cpp)

  boost::asio::ip::tcp::socket sock;
  const socket_id id;
  std::uint64_t waits = 0;  // passive readiness waits started (readiness.hpp)
  // Guards what follows, and the Asio calls on `sock` the poller may make too.
  troupe::detail::small_mutex mu;
  troupe::pid owner;
  bool closed = false;     // its handle let go
  std::int64_t charged = 0;  // bytes charged to the owner's process_info
  inbound in;
  outbound out;
  std::shared_ptr<socket_state> hook_ref;  // keeps it while its flush is queued on the holder
};

struct listener_state {
  explicit listener_state(boost::asio::io_context& ctx) : io(ctx), acceptor(ctx) {}
  ~listener_state() { close_now(acceptor); }
  boost::asio::io_context& io;  // its accepted sockets' too
  boost::asio::ip::tcp::acceptor acceptor;
  std::uint64_t waits = 0;
};

/// Charges the owner's process_info with what `s` buffers now. Under mu.
void recharge(socket_state& s) noexcept;
/// Makes `to` the owner, and moves the charge with it. Under mu.
void transfer_charge(socket_state& s, troupe::pid to) noexcept;

}  // namespace troupe::net::detail
