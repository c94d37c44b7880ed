#pragma once
// What the net tests share: a connected pair, and the code of an expected
// net_error.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <system_error>
#include <vector>

#include "troupe/net/tcp.hpp"

namespace troupe_test::net_support {

namespace net = troupe::net;

inline const net::endpoint any_local{"127.0.0.1", 0};

// The code of the net_error `f` throws; a failure (saying `what_not`) and
// no code if it throws none.
template <class F>
std::error_code error_of(F&& f, const char* what_not) {
  try {
    f();
  } catch (const net::net_error& e) {
    return e.code();
  }
  ADD_FAILURE() << what_not;
  return {};
}

// A listener and both ends of one connection made through it.
struct connection {
  net::tcp_listener listener;
  net::tcp_socket client;
  net::tcp_socket server;
};
inline connection connected_pair() {
  connection c{net::tcp_listener::listen(any_local), {}, {}};
  c.client = net::tcp_socket::connect(c.listener.local_endpoint());
  c.server = c.listener.accept();
  return c;
}

// What is readable on `s` now, without waiting (a raw non-blocking recv,
// behind the socket's back: for checking what has reached the peer).
inline std::string readable_now(const net::tcp_socket& s) {
  std::string got;
  std::vector<char> buf(65536);  // not on the stack: a process's is small
  for (ssize_t n; (n = ::recv(s.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT)) > 0;) {
    got.append(buf.data(), static_cast<std::size_t>(n));
  }
  return got;
}

}  // namespace troupe_test::net_support
