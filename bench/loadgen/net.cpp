#include "net.hpp"

#include <algorithm>
#include <memory>

namespace loadgen {

namespace {

bool worth_retrying(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::try_again ||
         ec == asio::error::would_block || ec == asio::error::timed_out || ec == asio::error::no_buffer_space ||
         ec == asio::error::connection_reset;
}

struct connector {
  static constexpr std::size_t in_flight = 64;
  static constexpr int max_attempts = 100;  // about 9 s of retries

  asio::io_context& io;
  tcp::endpoint ep;
  std::vector<tcp::socket>& sockets;
  std::uint64_t& progress;
  std::size_t next = 0;
  std::size_t connected = 0;
  bool done = false;

  void start(std::size_t i, int attempt) {
    sockets[i].async_connect(ep, [this, i, attempt](const boost::system::error_code& ec) {
      if (!ec) {
        ++progress;
        if (++connected == sockets.size()) done = true;
        if (next < sockets.size()) start(next++, 1);
        return;
      }
      if (!worth_retrying(ec) || attempt >= max_attempts)
        fail("connection %zu of %zu to %s:%u: %s (attempt %d)", i + 1, sockets.size(),
             ep.address().to_string().c_str(), ep.port(), ec.message().c_str(), attempt);
      boost::system::error_code ignored;
      sockets[i].close(ignored);
      auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(std::min(10 * attempt, 100)));
      timer->async_wait([this, i, attempt, timer](const boost::system::error_code&) { start(i, attempt + 1); });
    });
  }
};

}  // namespace

std::vector<tcp::socket> connect_all(asio::io_context& io, const tcp::endpoint& ep, std::size_t count,
                                     std::uint64_t& progress) {
  std::vector<tcp::socket> sockets;
  sockets.reserve(count);
  for (std::size_t i = 0; i < count; ++i) sockets.emplace_back(io);
  if (count == 0) return sockets;
  connector c{io, ep, sockets, progress};
  for (; c.next < std::min(count, connector::in_flight); ++c.next) c.start(c.next, 1);
  run_until(io, c.done);
  for (auto& s : sockets) {
    s.set_option(tcp::no_delay(true));
    s.non_blocking(true);
  }
  return sockets;
}

}  // namespace loadgen
