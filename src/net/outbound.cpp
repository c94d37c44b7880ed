#include "outbound.hpp"

#include <sys/socket.h>

#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <mutex>
#include <string>

#include "troupe/process.hpp"
#include "troupe/receive.hpp"

namespace troupe::net::detail {

namespace {

using writer = outbound::writer;

// Past this much queued, a send flushes at once instead of at the switch.
constexpr std::size_t flush_at = 64 << 10;
// How long a closed socket goes on writing what it had buffered.
constexpr auto linger = std::chrono::seconds(10);

// The poller's word to a process waiting for room in a socket's buffer.
struct io_room {
  socket_id socket;
  std::uint64_t number;
};

void write_more(const std::shared_ptr<socket_state>& sp);

void arm_write(const std::shared_ptr<socket_state>& sp) {
  sp->out.watch_pending = true;
  sp->sock.async_wait(boost::asio::socket_base::wait_write, [sp](const boost::system::error_code&) {
    {
      std::lock_guard lock(sp->mu);
      sp->out.watch_pending = false;
      if (sp->out.who != writer::watch) return;
      sp->out.who = writer::thread;
    }
    write_more(sp);
  });
}

// Under mu: the waiter to tell, if what it waits for has come.
troupe::pid waiter_due(outbound& o, std::uint64_t& number) noexcept {
  if (!o.waiter || (o.size() > o.wake_at && !o.error && o.who != writer::none)) return {};
  number = o.waiter_number;
  return std::exchange(o.waiter, troupe::pid{});
}

void shrink(std::string& s) noexcept {
  s.clear();
  if (s.capacity() > 4096) std::string().swap(s);  // an idle socket keeps no big buffer
}

// The caller is the writer (who == thread).
void write_more(const std::shared_ptr<socket_state>& sp) {
  socket_state& s = *sp;
  outbound& o = s.out;
  const int fd = s.sock.native_handle();
  std::unique_lock lock(s.mu);
  for (;;) {
    if (o.inflight_sent == o.inflight.size()) {
      o.inflight_sent = 0;
      shrink(o.inflight);
      o.inflight.swap(o.queued);
      if (o.inflight.empty()) {
        o.who = writer::none;
        break;
      }
    }
    if (o.error) {
      shrink(o.inflight);
      shrink(o.queued);
      o.inflight_sent = 0;
      o.who = writer::none;
      break;
    }
    lock.unlock();
    const ssize_t n = ::send(fd, o.inflight.data() + o.inflight_sent, o.inflight.size() - o.inflight_sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    const int err = errno;
    lock.lock();
    if (n >= 0) {
      o.inflight_sent += static_cast<std::size_t>(n);
    } else if (err == EAGAIN || err == EWOULDBLOCK) {
      if (!o.watch_pending) {
        arm_write(sp);  // then one more try: it may have drained before the watch began
        continue;
      }
      o.who = writer::watch;
      break;
    } else if (err != EINTR) {
      o.error = std::error_code(err, std::system_category());
    }
  }
  recharge(s);
  std::uint64_t number = 0;
  const troupe::pid tell = waiter_due(o, number);
  if (s.closed && o.who == writer::none) close_now(s.sock);
  lock.unlock();
  if (tell) troupe::send(tell, io_room{s.id, number});
}

// Under `lock` (released meanwhile): waits until the buffer holds at most
// `wake_at` bytes, or a write failed.
void wait_for_room(const std::shared_ptr<socket_state>& sp, std::unique_lock<troupe::detail::small_mutex>& lock,
                   std::size_t wake_at, steady::time_point deadline, const char* call) {
  socket_state& s = *sp;
  const std::uint64_t number = ++s.waits;
  s.out.waiter = troupe::self();
  s.out.waiter_number = number;
  s.out.wake_at = wake_at;
  lock.unlock();
  const auto mine = [id = s.id, number](const io_room& r) { return r.socket == id && r.number == number; };
  const bool told = troupe::receive(troupe::when(mine, [](const io_room&) { return true; }),
                                    troupe::after(time_left(deadline), [] { return false; }));
  lock.lock();
  if (told) return;
  if (s.out.waiter && s.out.waiter_number == number) {
    s.out.waiter = {};
    throw net_error(std::make_error_code(std::errc::timed_out), call);
  }
  // Told as the deadline passed: take the word, so none is left behind.
  lock.unlock();
  troupe::receive(troupe::when(mine, [](const io_room&) {}));
  lock.lock();
}

}  // namespace

void queue_send(const std::shared_ptr<socket_state>& sp, std::string_view head, std::string_view body,
                steady::time_point deadline, const char* call) {
  socket_state& s = *sp;
  outbound& o = s.out;
  const std::size_t n = head.size() + body.size();
  std::unique_lock lock(s.mu);
  for (;;) {
    if (o.error) throw net_error(o.error, call);
    if (o.size() == 0 || o.size() + n <= o.limit) break;
    lock.unlock();
    flush(sp);
    lock.lock();
    if (o.size() + n <= o.limit || o.error) continue;
    if (o.fail_when_full) {
      throw net_error(std::make_error_code(std::errc::no_buffer_space),
                      std::string(call) + ": the send buffer is full (" + std::to_string(o.size()) + " of " +
                          std::to_string(o.limit) + " bytes)");
    }
    wait_for_room(sp, lock, n >= o.limit ? 0 : o.limit - n, deadline, call);
  }
  o.queued.append(head);
  o.queued.append(body);
  if (!o.hooked) {
    troupe::detail::run_at_suspend(&s);
    o.hooked = true;
    s.hook_ref = sp;
  }
  recharge(s);
  const bool now = o.queued.size() >= flush_at;
  lock.unlock();
  if (now) flush(sp);
}

void flush(const std::shared_ptr<socket_state>& sp) noexcept {
  {
    std::lock_guard lock(sp->mu);
    outbound& o = sp->out;
    if (o.who != writer::none || o.queued.empty() || o.error) return;
    o.who = writer::thread;
  }
  write_more(sp);
}

void drain(const std::shared_ptr<socket_state>& sp, steady::time_point deadline, const char* call) {
  flush(sp);
  std::unique_lock lock(sp->mu);
  for (;;) {
    if (sp->out.error) throw net_error(sp->out.error, call);
    if (sp->out.size() == 0) return;
    wait_for_room(sp, lock, 0, deadline, call);
  }
}

void close_after_output(const std::shared_ptr<socket_state>& sp) noexcept {
  flush(sp);
  std::lock_guard lock(sp->mu);
  sp->closed = true;
  recharge(*sp);
  boost::system::error_code ignored;
  if (sp->out.who == writer::none) {
    close_now(sp->sock);  // its pending watches end, and their references with them
    return;
  }
  // Writing goes on: reads end now (the read watch wakes and lets go), and
  // the write ends after `linger` at most.
  sp->sock.shutdown(boost::asio::socket_base::shutdown_receive, ignored);
  try {
    auto t = std::make_shared<boost::asio::steady_timer>(sp->sock.get_executor(), linger);
    t->async_wait([sp, t](const boost::system::error_code&) {
      std::lock_guard lock(sp->mu);
      if (sp->out.who == writer::none) return;
      sp->out.error = std::make_error_code(std::errc::timed_out);
      boost::system::error_code ignored;
      sp->sock.cancel(ignored);  // the write watch wakes, finds the error, drops the rest, closes
    });
  } catch (...) {
    sp->out.error = std::make_error_code(std::errc::not_enough_memory);
    sp->sock.cancel(ignored);
  }
}

}  // namespace troupe::net::detail
