#pragma once
// What a tcp_socket or tcp_listener holds: the Asio object, registered with
// the poller's io_context. Only its holder's process uses it; the poller
// thread reaches it only through the readiness waits the process starts.

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace troupe::net::detail {

struct socket_state {
  explicit socket_state(boost::asio::io_context& io) : sock(io) {}
  boost::asio::ip::tcp::socket sock;
  std::uint64_t waits = 0;  // readiness waits started (readiness.hpp)
};

struct listener_state {
  explicit listener_state(boost::asio::io_context& ctx) : io(ctx), acceptor(ctx) {}
  boost::asio::io_context& io;  // its accepted sockets' too
  boost::asio::ip::tcp::acceptor acceptor;
  std::uint64_t waits = 0;
};

}  // namespace troupe::net::detail
