#pragma once
// The pieces every workload shares: connecting many sockets, writing without
// a round trip through the reactor, running until a phase is done, and a
// watchdog that turns a hang into a failure.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "fail.hpp"
#include "frames.hpp"

namespace loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// steady_clock is CLOCK_MONOTONIC on Linux: one clock for send stamps and
// receive times.
inline std::int64_t now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

// Runs handlers until one of them sets done. Running out of work first means
// some handler forgot to keep a read pending: a bug here, not in the server.
inline void run_until(asio::io_context& io, const bool& done) {
  while (!done)
    if (io.run_one() == 0) fail("internal error: nothing left to wait for before the phase ended");
}

// Runs for a moment after the last expected frame, with every read still
// pending: whatever arrives now (a duplicate, a message for someone else)
// makes its read handler fail the run.
inline void expect_silence(asio::io_context& io) { io.run_for(std::chrono::milliseconds(100)); }

// count sockets, connected to ep, with TCP_NODELAY (as both peers' servers
// set it) and in non-blocking mode for write_now_or_later. Connects a bounded
// number at a time and retries refusals: a server that accepts slowly
// overflows its listen backlog, and the dropped SYNs would otherwise cost a
// one-second retransmission each.
std::vector<tcp::socket> connect_all(asio::io_context& io, const tcp::endpoint& ep, std::size_t count,
                                     std::uint64_t& progress);

// Writes [data, data + n) on a non-blocking socket. On loopback with little
// in flight the kernel takes it all at once: then this returns true and
// done is not called; otherwise the rest goes out asynchronously and done()
// runs when it has. Saves a pass through the reactor per message.
template <class Done>
bool write_now_or_later(tcp::socket& s, const char* data, std::size_t n, Done&& done) {
  boost::system::error_code ec;
  std::size_t k = s.write_some(asio::buffer(data, n), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    k = 0;
  } else if (ec) {
    fail("write: %s", ec.message().c_str());
  }
  if (k == n) return true;
  asio::async_write(s, asio::buffer(data + k, n - k),
                    [done = std::forward<Done>(done)](const boost::system::error_code& e, std::size_t) mutable {
                      if (e) fail("write: %s", e.message().c_str());
                      done();
                    });
  return false;
}

// Reads what has come on `s` into the free end of `in`; `on_read(ec, n)`
// runs when it has.
template <class OnRead>
void read_more(tcp::socket& s, frame_reader& in, OnRead&& on_read) {
  const auto space = in.space();
  s.async_read_some(asio::buffer(space.data(), space.size()), std::forward<OnRead>(on_read));
}

// A server that loses a message leaves the generator waiting forever. Every
// `limit` the watchdog checks that the progress counter has moved, and fails
// with describe()'s account of what is missing if it has not.
class watchdog {
 public:
  watchdog(asio::io_context& io, std::chrono::seconds limit, const std::uint64_t& progress,
           std::function<std::string()> describe)
      : timer_(io), limit_(limit), progress_(progress), describe_(std::move(describe)) {
    last_ = progress_;
    arm();
  }
  ~watchdog() { timer_.cancel(); }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  void arm() {
    timer_.expires_after(limit_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      if (progress_ == last_)
        fail("no progress for %lld s: %s", static_cast<long long>(limit_.count()), describe_().c_str());
      last_ = progress_;
      arm();
    });
  }

  asio::steady_timer timer_;
  std::chrono::seconds limit_;
  const std::uint64_t& progress_;
  std::uint64_t last_ = 0;
  std::function<std::string()> describe_;
};

}  // namespace loadgen
