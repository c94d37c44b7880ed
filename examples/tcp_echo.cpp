// tcp_echo.cpp: a process per connection. A listener process accepts and
// hands each connection to a process of its own, which echoes {packet, 4}
// frames until the client closes; three client processes talk to it at once.
#include <troupe/net/tcp.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <fmt/format.h>

using namespace std::chrono_literals;
namespace net = troupe::net;

void serve(net::tcp_socket conn) {
  for (;;) {
    std::string frame;
    try {
      frame = conn.read_packet(5s);
    } catch (const net::net_error&) {
      return;  // closed by the client (connection_aborted), or silent for 5 s
    }
    conn.write_packet(frame);
  }
}

int main() {
  troupe::runtime rt;
  int echoed = rt.run([] {
    const troupe::pid me = troupe::self();
    troupe::spawn([me] {
      net::tcp_listener listener = net::tcp_listener::listen({"127.0.0.1", 0});
      troupe::send(me, listener.local_endpoint().port);
      for (;;) {
        // accept waits in this process only; the schedulers run the others.
        auto conn = std::make_shared<net::tcp_socket>(listener.accept());
        troupe::spawn([conn] { serve(std::move(*conn)); });
      }
    });
    const auto port = troupe::receive<std::uint16_t>();

    for (int c = 0; c < 3; ++c) {
      troupe::spawn([me, port, c] {
        net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port}, 1s);
        int ok = 0;
        for (int i = 0; i < 5; ++i) {
          const std::string msg = fmt::format("client {} says {}", c, i);
          s.write_packet(msg);
          ok += s.read_packet(1s) == msg ? 1 : 0;
        }
        troupe::send(me, ok);
      });
    }
    int total = 0;
    for (int c = 0; c < 3; ++c) total += troupe::receive<int>();
    fmt::print("{} of 15 frames came back\n", total);
    return total;
  });
  return echoed == 15 ? 0 : 1;
}
