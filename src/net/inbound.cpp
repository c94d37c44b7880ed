#include "inbound.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "troupe/net/tcp.hpp"
#include "troupe/process.hpp"

namespace troupe::net::detail {

namespace {

// Read ahead no further than this while the owner is behind: beyond it the
// kernel's buffer fills and TCP slows the peer down.
constexpr std::size_t read_ahead_limit = 64 << 10;
constexpr std::size_t chunk_size = 64 << 10;

bool is_active(const inbound& in) noexcept { return in.mode.k != active_mode::kind::passive; }

// One message for the owner: tcp_data, or a closing word.
struct outgoing {
  enum kind { data, closed, error, went_passive } k;
  std::string bytes;
  std::error_code ec;
};

// Under mu: what the mode lets through now.
void cut_messages(socket_state& s, std::vector<outgoing>& out) {
  inbound& in = s.in;
  while (is_active(in)) {
    std::error_code bad;
    std::optional<std::string> frame = next_frame(in.buffer, in.frames, in.max_frame, bad);
    if (bad) {  // a frame the owner refused to take: the stream cannot be cut any more
      in.error = bad;
      in.eof = true;
      in.buffer.clear();
    }
    if (!frame) break;
    out.push_back({outgoing::data, std::move(*frame), {}});
    if (in.mode.k == active_mode::kind::once) {
      in.mode = passive;
    } else if (in.mode.k == active_mode::kind::count && --in.mode.n <= 0) {
      in.mode = passive;
      out.push_back({outgoing::went_passive, {}, {}});
    }
  }
  if (in.eof && is_active(in) && !in.told_closed) {
    in.told_closed = true;
    if (in.error) out.push_back({outgoing::error, {}, in.error});
    out.push_back({outgoing::closed, {}, {}});
  }
}

void send_all(troupe::pid to, socket_id id, std::vector<outgoing>& msgs) {
  for (outgoing& m : msgs) {
    switch (m.k) {
      case outgoing::data:
        troupe::send(to, tcp_data{id, std::move(m.bytes)});
        break;
      case outgoing::closed:
        troupe::send(to, tcp_closed{id});
        break;
      case outgoing::error:
        troupe::send(to, tcp_error{id, m.ec});
        break;
      case outgoing::went_passive:
        troupe::send(to, tcp_passive{id});
        break;
    }
  }
  msgs.clear();
}

void arm_read(const std::shared_ptr<socket_state>& sp) {
  sp->in.watching = true;
  sp->sock.async_wait(boost::asio::socket_base::wait_read, [sp](const boost::system::error_code&) {
    {
      std::lock_guard lock(sp->mu);
      sp->in.watching = false;
      if (sp->closed) return;
    }
    pump(sp);
  });
}

}  // namespace

void pump(const std::shared_ptr<socket_state>& sp) {
  socket_state& s = *sp;
  std::unique_lock lock(s.mu);
  if (s.in.reading) {  // the reader now goes round once more
    s.in.again = true;
    return;
  }
  s.in.reading = true;
  // The token goes back however this ends (a send may unwind a process that
  // is told to exit).
  struct token_back {
    std::unique_lock<troupe::detail::small_mutex>& lock;
    socket_state& s;
    ~token_back() {
      if (!lock.owns_lock()) lock.lock();
      s.in.reading = false;
      recharge(s);
    }
  } back{lock, s};
  thread_local std::array<char, chunk_size> chunk;
  std::vector<outgoing> msgs;
  const int fd = s.sock.native_handle();
  bool drained = false;
  for (;;) {
    cut_messages(s, msgs);
    if (!msgs.empty()) {
      const troupe::pid to = s.owner;
      lock.unlock();
      send_all(to, s.id, msgs);
      lock.lock();
      continue;  // the mode may have changed meanwhile
    }
    if (s.closed || s.in.eof || s.in.buffer.size() >= read_ahead_limit) break;
    if (drained && !std::exchange(s.in.again, false)) {
      // Watch once drained, not before reading: Asio starts a watch with
      // epoll_ctl(MOD), which looks at the descriptor then, so data that
      // came after the last read is seen. Armed before the read, the watch
      // fired at once for the data about to be read: a second wake-up, a
      // second recv and a second epoll_ctl per message.
      if (!s.in.watching) arm_read(sp);
      break;
    }
    lock.unlock();
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), MSG_DONTWAIT);
    const int err = errno;
    lock.lock();
    if (n > 0) {
      s.in.buffer.append(chunk.data(), static_cast<std::size_t>(n));
      drained = static_cast<std::size_t>(n) < chunk.size();
    } else if (n == 0) {
      s.in.eof = true;
    } else if (err == EAGAIN || err == EWOULDBLOCK) {
      drained = true;
    } else if (err != EINTR) {
      s.in.eof = true;
      s.in.error = std::error_code(err, std::system_category());
    }
  }
}

void set_active(const std::shared_ptr<socket_state>& sp, active_mode m) {
  bool went_passive = false;
  {
    std::lock_guard lock(sp->mu);
    inbound& in = sp->in;
    if (m.k == active_mode::kind::count) {
      const std::int64_t left = in.mode.k == active_mode::kind::count ? in.mode.n : 0;
      in.mode = left + m.n > 0 ? active_n(left + m.n) : passive;
      went_passive = !is_active(in);  // as Erlang: a total of 0 or less goes passive and says so
    } else {
      in.mode = m;
    }
    if (!is_active(in) && !went_passive) return;
  }
  if (went_passive) {
    troupe::send(sp->owner, tcp_passive{sp->id});
    return;
  }
  pump(sp);
}

std::optional<std::size_t> passive_read::take_read_ahead(std::span<std::byte> into) {
  socket_state& s = s_;
  std::lock_guard lock(s.mu);
  read_buffer& b = s.in.buffer;
  if (b.size() == 0) {
    if (s.in.eof && s.in.error) throw net_error(s.in.error, "tcp_socket::read_some");
    if (s.in.eof) return 0;
    return std::nullopt;
  }
  const std::size_t n = std::min(b.size(), into.size());
  std::memcpy(into.data(), b.bytes.data() + b.start, n);
  b.start += n;
  if (b.start == b.bytes.size()) b.clear();
  recharge(s);
  return n;
}

passive_read::passive_read(socket_state& s, const char* call) : s_(s) {
  for (;;) {
    {
      std::lock_guard lock(s.mu);
      if (is_active(s.in)) {
        throw net_error(std::make_error_code(std::errc::operation_not_permitted),
                        std::string(call) + ": the socket is in active mode (its data comes as tcp_data messages)");
      }
      if (!s.in.reading) {
        s.in.reading = true;
        return;
      }
    }
    troupe::yield();  // the poller finishes a read it began while the socket was active
  }
}

passive_read::~passive_read() {
  std::lock_guard lock(s_.mu);
  s_.in.reading = false;
  s_.in.again = false;  // passive: nobody reads ahead until the socket is active again
}

}  // namespace troupe::net::detail
