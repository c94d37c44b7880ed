// Minimal program built against an *installed* troupe (see CMakeLists.txt):
// a process spawns a child, the child sends a message back, the parent
// receives it.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

int main() {
  troupe::runtime rt({.schedulers = 2});

  std::string reply = rt.run([] {
    troupe::pid parent = troupe::self();
    troupe::pid child = troupe::spawn([parent] {
      troupe::send(parent, fmt::format("hello from {}", troupe::self()));
    });
    auto msg = troupe::receive_for<std::string>(std::chrono::seconds(10));
    return msg ? fmt::format("{} got \"{}\" (child {})", parent, *msg, child)
               : std::string();
  });

  if (reply.empty()) {
    std::fputs("troupe consumer: FAILED, no reply within 10s\n", stderr);
    return 1;
  }
  fmt::print("troupe consumer: {}\n", reply);
  return 0;
}
