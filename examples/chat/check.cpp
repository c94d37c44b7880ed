// troupe-chat-check: the chat server against 200 clients in 10 rooms on
// loopback. Every message must reach every other member of its room exactly
// once, in the order its sender sent it, and never its sender; then the echo
// server echoes. Exits non-zero on any difference.

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <troupe/net/tcp.hpp>
#include <troupe/troupe.hpp>

#include "chat_server.hpp"

namespace net = troupe::net;
using namespace std::chrono_literals;

namespace {

constexpr int clients = 200;
constexpr int rooms = 10;
constexpr int messages = 20;

struct joined {};
struct go {};
struct verdict {
  int client;
  std::string problem;  // empty: all as it should be
};

// A client process: joins room `me % rooms`, waits for everyone to have
// joined, sends its messages, and reads until it has every other member's.
void client(int me, std::uint16_t port, troupe::pid boss) {
  net::tcp_socket s = net::tcp_socket::connect({"127.0.0.1", port}, 5s);
  s.write_packet(fmt::format("J{}", me % rooms));
  if (s.read_packet(10s) != "J") throw std::runtime_error("no J");
  troupe::send(boss, joined{});
  troupe::receive([](go) {});
  for (int i = 0; i < messages; ++i) s.send_packet(fmt::format("{}:{}", me, i));
  std::map<int, int> next;  // sender -> the seq expected next
  const int others = clients / rooms - 1;
  std::string problem;
  for (int got = 0; got < others * messages && problem.empty(); ++got) {
    const std::string m = s.read_packet(30s);
    int from = -1, seq = -1;
    std::sscanf(m.c_str(), "%d:%d", &from, &seq);
    if (from == me) problem = "got its own message back";
    else if (from < 0 || from % rooms != me % rooms) problem = "got a message from another room: " + m;
    else if (seq != next[from]++) problem = fmt::format("from {}: seq {} where {} was due", from, seq, next[from] - 1);
  }
  if (problem.empty() && static_cast<int>(next.size()) != others) problem = fmt::format("heard {} senders of {}", next.size(), others);
  troupe::send(boss, verdict{me, problem});
  // Stay connected until all are done: a member that left early would miss nothing, but would
  // make the others' counts differ from what the test expects.
  troupe::receive([](go) {});
}

}  // namespace

int main() {
  troupe::runtime rt;
  const int failures = rt.run([] {
    troupe::trap_exit(true);
    const chat::server srv = chat::start_link(chat::protocol::chat, 0);
    const troupe::pid me = troupe::self();
    std::vector<troupe::pid> cs;
    for (int i = 0; i < clients; ++i) cs.push_back(troupe::spawn([i, port = srv.port, me] { client(i, port, me); }));
    for (int i = 0; i < clients; ++i) troupe::receive([](joined) {});
    for (troupe::pid c : cs) troupe::send(c, go{});
    int bad = 0;
    for (int i = 0; i < clients; ++i) {
      const verdict v = troupe::receive_for<verdict>(60s).value_or(verdict{-1, "no verdict within 60 s"});
      if (!v.problem.empty()) {
        std::fprintf(stderr, "client %d: %s\n", v.client, v.problem.c_str());
        ++bad;
      }
    }
    for (troupe::pid c : cs) troupe::send(c, go{});
    std::printf("chat: %d clients in %d rooms, %d messages each: %s\n", clients, rooms, messages, bad ? "FAILED" : "every message reached every other member once, in order");

    const chat::server echo = chat::start_link(chat::protocol::echo, 0);
    net::tcp_socket e = net::tcp_socket::connect({"127.0.0.1", echo.port}, 5s);
    for (int i = 0; i < 100; ++i) {
      const std::string m = fmt::format("echo {}", i);
      e.write_packet(m);
      if (e.read_packet(10s) != m) ++bad;
    }
    std::printf("echo: %s\n", bad ? "FAILED" : "100 frames came back");
    troupe::exit(srv.tree, troupe::exit_reason::shutdown());
    troupe::exit(echo.tree, troupe::exit_reason::shutdown());
    return bad;
  });
  return failures == 0 ? 0 : 1;
}
