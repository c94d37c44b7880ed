// tcp_echo: every connection sends m frames of s bytes, one at a time: send,
// wait for the echo, compare it byte for byte, send the next.
//
// Before the clock starts, every connection carries one echo: a connect
// completes once the kernel has the connection, which can be long before
// the server accepts it (a BEAM's one acceptor process, queued behind a
// thousand busy connection processes, took seconds to accept the last of
// 1000). Without the warm-up that delay lands in the measured round trips.

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "frames.hpp"
#include "stats.hpp"
#include "workloads.hpp"

namespace loadgen {

namespace {

struct echo_conn {
  echo_conn(tcp::socket s, std::size_t frame)
      : sock(std::move(s)), in(std::max<std::size_t>(4096, frame)), out(new char[frame]) {}
  tcp::socket sock;
  frame_reader in;
  std::unique_ptr<char[]> out;  // the frame in flight, to check its echo against
  std::int64_t sent_at = 0;
  std::uint32_t seq = 0;     // frames sent, warm-up included: no two payloads alike
  std::uint32_t echoed = 0;  // in this phase
};

class echo_run {
 public:
  echo_run(std::vector<tcp::socket>& sockets, std::size_t s, std::uint64_t& progress, latencies& rtt)
      : s_(s), progress_(progress), rtt_(rtt) {
    conns_.reserve(sockets.size());
    for (auto& sock : sockets) conns_.push_back(std::make_unique<echo_conn>(std::move(sock), header_size + s));
    for (std::uint32_t id = 0; id < conns_.size(); ++id) read(id);
  }

  // m echoes on every connection; the round trips are recorded if timed.
  void start(std::uint32_t m, bool timed) {
    m_ = m;
    timed_ = timed;
    done_ = 0;
    finished = false;
    for (auto& c : conns_) c->echoed = 0;
    for (std::uint32_t id = 0; id < conns_.size(); ++id) send(id);
  }

  bool finished = false;
  std::int64_t last_echo_at = 0;

  std::string describe() const {
    std::size_t waiting = 0;
    std::uint32_t first = 0;
    for (std::uint32_t id = conns_.size(); id-- > 0;)
      if (conns_[id]->echoed < m_) ++waiting, first = id;
    return std::to_string(waiting) + " connections still wait for an echo, the first is connection " +
           std::to_string(first) + " at message " + std::to_string(conns_[first]->echoed);
  }

 private:
  // Every frame of every connection has a different payload (the connection
  // and message numbers, then a pattern), so an echo of the wrong frame (a
  // duplicate, a stale one, another connection's) fails the comparison like
  // a corrupted byte does.
  void send(std::uint32_t id) {
    echo_conn& c = *conns_[id];
    char* p = c.out.get();
    put_u32be(p, static_cast<std::uint32_t>(s_));
    char* payload = p + header_size;
    const std::uint32_t stamp[2] = {id, c.seq++};
    std::memcpy(payload, stamp, std::min(s_, sizeof stamp));
    for (std::size_t j = sizeof stamp; j < s_; ++j) payload[j] = static_cast<char>(id * 131 + stamp[1] * 17 + j);
    c.sent_at = now_ns();
    write_now_or_later(c.sock, p, header_size + s_, [] {});
  }

  void read(std::uint32_t id) {
    echo_conn& c = *conns_[id];
    read_more(c.sock, c.in, [this, id](const boost::system::error_code& ec, std::size_t n) { on_read(id, ec, n); });
  }

  void on_read(std::uint32_t id, const boost::system::error_code& ec, std::size_t n) {
    echo_conn& c = *conns_[id];
    if (ec == asio::error::eof)
      fail("tcp_echo: connection %u: the server closed it after %u of %u echoes", id, c.echoed, m_);
    if (ec) fail("tcp_echo: connection %u: read: %s", id, ec.message().c_str());
    const std::int64_t now = now_ns();
    c.in.commit(n);
    std::span<const char> frame;
    while (c.in.next(frame)) {
      if (c.echoed == m_) fail("tcp_echo: connection %u: a frame after its last echo", id);
      check(id, frame);
      if (timed_) rtt_.add(now - c.sent_at);
      ++progress_;
      if (++c.echoed < m_) {
        send(id);
      } else if (++done_ == conns_.size()) {
        finished = true;
        last_echo_at = now;
      }
    }
    read(id);
  }

  void check(std::uint32_t id, std::span<const char> frame) const {
    const echo_conn& c = *conns_[id];
    if (frame.size() != s_)
      fail("tcp_echo: connection %u, message %u: the echo has %zu bytes, %zu were sent", id, c.echoed, frame.size(),
           s_);
    const char* sent = c.out.get() + header_size;
    if (std::memcmp(frame.data(), sent, s_) == 0) return;
    std::size_t at = 0;
    while (frame[at] == sent[at]) ++at;
    fail("tcp_echo: connection %u, message %u: the echo differs at byte %zu of %zu: 0x%02x, sent 0x%02x", id,
         c.echoed, at, s_, static_cast<unsigned char>(frame[at]), static_cast<unsigned char>(sent[at]));
  }

  std::vector<std::unique_ptr<echo_conn>> conns_;
  std::uint32_t m_ = 0;
  bool timed_ = false;
  std::size_t s_;
  std::uint64_t& progress_;
  latencies& rtt_;
  std::size_t done_ = 0;
};

}  // namespace

void tcp_echo(options& opts, const setup& st, result& out) {
  const auto c = opts.integer("c", 1000, 1);
  const auto m = opts.integer("m", 1000, 1);
  const auto s = opts.integer("s", 64, 1);
  opts.reject_unused();
  out.param("c", c);
  out.param("m", m);
  out.param("s", s);

  asio::io_context io(1);
  std::uint64_t progress = 0;
  latencies rtt;
  rtt.reserve(static_cast<std::size_t>(c * m));
  std::unique_ptr<echo_run> run;
  watchdog dog(io, st.timeout, progress, [&] {
    return run ? run->describe() : std::to_string(progress) + " of " + std::to_string(c) + " connected";
  });
  auto sockets = connect_all(io, st.server, static_cast<std::size_t>(c), progress);
  run = std::make_unique<echo_run>(sockets, static_cast<std::size_t>(s), progress, rtt);
  run->start(1, false);
  run_until(io, run->finished);

  const std::int64_t start = now_ns();
  run->start(static_cast<std::uint32_t>(m), true);
  run_until(io, run->finished);
  const double seconds = static_cast<double>(run->last_echo_at - start) / 1e9;
  expect_silence(io);

  out.metric("msgs_per_sec", static_cast<std::int64_t>(static_cast<double>(c * m) / seconds));
  out.metric("rtt_p50_us", rtt.percentile_us(50), 1);
  out.metric("rtt_p99_us", rtt.percentile_us(99), 1);
  out.metric("rtt_max_us", rtt.max_us(), 1);
  out.metric("seconds", seconds, 6);
}

}  // namespace loadgen
