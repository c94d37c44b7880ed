// tcp_hold: what an open, idle connection costs the server. The server's
// resident set is read before connecting and again once c connections are
// open, have each carried one echo (so both sides have touched them: buffers
// allocated, handler process or goroutine running) and have sat idle.

#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "frames.hpp"
#include "workloads.hpp"

namespace loadgen {

namespace {

constexpr std::size_t frame_payload = 8;

long rss_kb(long pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::ifstream f(path);
  if (!f) fail("tcp_hold: cannot open %s (is server_pid=%ld right?)", path.c_str(), pid);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  fail("tcp_hold: no VmRSS line in %s", path.c_str());
}

// A server just started is still settling (the BEAM's resident set shrinks
// by a megabyte or so in its first second or two): wait until two readings
// 250 ms apart agree, for at most 5 s.
long settled_rss_kb(long pid) {
  long last = rss_kb(pid);
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const long now = rss_kb(pid);
    if (now == last) break;
    last = now;
  }
  return last;
}

struct hold_conn {
  explicit hold_conn(tcp::socket s) : sock(std::move(s)), in(64) {}
  tcp::socket sock;
  frame_reader in;
  char out[header_size + frame_payload];
  bool echoed = false;
};

class hold_run {
 public:
  hold_run(std::vector<tcp::socket>& sockets, std::uint64_t& progress) : progress_(progress) {
    conns_.reserve(sockets.size());
    for (auto& s : sockets) conns_.push_back(std::make_unique<hold_conn>(std::move(s)));
  }

  void start() {
    for (std::uint32_t id = 0; id < conns_.size(); ++id) {
      hold_conn& c = *conns_[id];
      put_u32be(c.out, frame_payload);
      std::memcpy(c.out + header_size, "hold", 4);
      std::memcpy(c.out + header_size + 4, &id, 4);
      read(id);
      write_now_or_later(c.sock, c.out, sizeof c.out, [] {});
    }
  }

  bool finished = false;

  std::string describe() const {
    return std::to_string(conns_.size() - done_) + " of " + std::to_string(conns_.size()) +
           " connections still wait for their echo";
  }

 private:
  // The read stays pending through the idle second too: a server that
  // closes or writes to an idle connection fails the run.
  void read(std::uint32_t id) {
    hold_conn& c = *conns_[id];
    read_more(c.sock, c.in, [this, id](const boost::system::error_code& ec, std::size_t n) { on_read(id, ec, n); });
  }

  void on_read(std::uint32_t id, const boost::system::error_code& ec, std::size_t n) {
    hold_conn& c = *conns_[id];
    if (ec == asio::error::eof) fail("tcp_hold: connection %u: the server closed it", id);
    if (ec) fail("tcp_hold: connection %u: read: %s", id, ec.message().c_str());
    c.in.commit(n);
    std::span<const char> frame;
    while (c.in.next(frame)) {
      if (c.echoed) fail("tcp_hold: connection %u: a frame after its echo", id);
      if (frame.size() != frame_payload || std::memcmp(frame.data(), c.out + header_size, frame_payload) != 0)
        fail("tcp_hold: connection %u: the echo differs from the frame sent", id);
      c.echoed = true;
      ++progress_;
      if (++done_ == conns_.size()) finished = true;
    }
    read(id);
  }

  std::vector<std::unique_ptr<hold_conn>> conns_;
  std::uint64_t& progress_;
  std::size_t done_ = 0;
};

}  // namespace

void tcp_hold(options& opts, const setup& st, result& out) {
  const auto c = opts.integer("c", 10000, 1);
  const auto settle_ms = opts.integer("settle_ms", 1000, 0);
  opts.reject_unused();
  if (st.server_pid == 0) options::usage_error("tcp_hold needs server_pid=PID (the server's resident set is measured)");
  out.param("c", c);

  const long before = settled_rss_kb(st.server_pid);
  asio::io_context io(1);
  std::uint64_t progress = 0;
  std::unique_ptr<hold_run> run;
  std::optional<watchdog> dog;
  dog.emplace(io, st.timeout, progress, [&] {
    return run ? run->describe() : std::to_string(progress) + " of " + std::to_string(c) + " connected";
  });
  auto sockets = connect_all(io, st.server, static_cast<std::size_t>(c), progress);
  run = std::make_unique<hold_run>(sockets, progress);
  run->start();
  run_until(io, run->finished);
  dog.reset();  // nothing is meant to happen while the connections sit idle
  io.run_for(std::chrono::milliseconds(settle_ms));
  const long after = rss_kb(st.server_pid);

  out.metric("rss_before_kb", static_cast<std::int64_t>(before));
  out.metric("rss_after_kb", static_cast<std::int64_t>(after));
  out.metric("bytes_per_conn", static_cast<std::int64_t>((after - before) * 1024 / c));
}

}  // namespace loadgen
