// hello.cpp: start a runtime, spawn a process, send it a message, get a reply.
#include <troupe/troupe.hpp>

#include <string>

#include <fmt/format.h>

// A message is any move-constructible value type. The sender's pid travels in
// the message because, as in Erlang, a process only knows whom to answer if it
// is told.
struct greet {
  troupe::pid from;
  std::string name;
};

void greeter() {
  greet g = troupe::receive<greet>();
  troupe::send(g.from, fmt::format("hello, {}, from {}", g.name, troupe::self()));
}

int main() {
  // One runtime per program, like one BEAM per OS process.
  troupe::runtime rt;

  // receive() only works inside a process, so main hands its work to one and
  // blocks until it returns.
  std::string reply = rt.run([] {
    troupe::pid p = troupe::spawn(greeter);
    troupe::send(p, greet{troupe::self(), "world"});
    return troupe::receive<std::string>();
  });

  fmt::print("{}\n", reply);
}
