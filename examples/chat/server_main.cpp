// troupe-chat-server and troupe-echo-server (the same file, built twice):
// serve on 127.0.0.1 --port N until SIGTERM or SIGINT.

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <troupe/troupe.hpp>

#include "chat_server.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

int usage(const char* me) {
  std::fprintf(stderr, "usage: %s [--port N]   (N: 0 picks a free port, printed on stdout)\n", me);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 5555;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      char* end = nullptr;
      port = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  // A connection is a descriptor: take all the system allows, as Go's
  // runtime does at start (the soft limit is often 1,024).
  if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  troupe::runtime rt;
  rt.run([port] {
    troupe::trap_exit(true);
    const chat::server s = chat::start_link(CHAT_PROTOCOL, static_cast<std::uint16_t>(port));
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(s.port));
    std::fflush(stdout);
    while (!stop_requested) troupe::sleep_for(std::chrono::milliseconds(50));
    // As an OTP application stops: the tree shuts its children down in
    // order, connections (and their sockets) first.
    troupe::exit(s.tree, troupe::exit_reason::shutdown());
    troupe::receive(troupe::when([&](const troupe::exit_message& e) { return e.from == s.tree; }, [](troupe::exit_message) {}));
  });
  return 0;
}
