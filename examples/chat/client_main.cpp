// troupe-chat-client: talks to troupe-chat-server. Joins a room, sends each
// line typed on stdin to it, and prints what the room's others send.
//
//   troupe-chat-client --port 5555 --room lobby

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <troupe/net/tcp.hpp>
#include <troupe/preempt.hpp>
#include <troupe/troupe.hpp>

namespace net = troupe::net;

int main(int argc, char** argv) {
  long port = 5555;
  std::string room = "lobby";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      port = std::strtol(argv[i + 1], nullptr, 10);
    } else if (std::strcmp(argv[i], "--room") == 0) {
      room = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--room NAME]\n", argv[0]);
      return 2;
    }
  }
  troupe::runtime rt;
  return rt.run([port, room] {
    net::tcp_socket s;
    try {
      s = net::tcp_socket::connect({"127.0.0.1", static_cast<std::uint16_t>(port)}, std::chrono::seconds(5));
      s.write_packet("J" + room);
      if (s.read_packet(std::chrono::seconds(5)) != "J") throw std::runtime_error("the server did not answer the join");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "troupe-chat-client: %s\n", e.what());
      return 1;
    }
    std::printf("in room %s; type lines to send them, end with ^D\n", room.c_str());
    std::fflush(stdout);
    // stdin is read by a process of its own, in troupe::blocking (the read
    // may wait for ever), and each line comes here as a message.
    const troupe::pid me = troupe::self();
    troupe::spawn_link([me] {
      for (;;) {
        std::string line;
        const bool got = troupe::blocking([&] { return static_cast<bool>(std::getline(std::cin, line)); });
        if (!got) break;
        troupe::send(me, line);
      }
      troupe::send(me, 0);  // end of input
    });
    s.set_framing(net::framing::packet4);
    s.set_active(net::active_always);
    for (bool go = true; go;) {
      troupe::receive([&](net::tcp_data&& d) { std::printf("> %s\n", d.data.c_str()); std::fflush(stdout); },
                      [&](std::string&& line) { s.send_packet(line); },
                      [&](net::tcp_closed) { std::printf("the server closed the connection\n"); go = false; },
                      [&](int) { go = false; });
    }
    return 0;
  });
}
