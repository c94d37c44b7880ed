// selective_receive.cpp: several message types, when() guards, after()
// timeouts, and messages that no clause accepts waiting for a later receive.
#include <troupe/troupe.hpp>

#include <chrono>
#include <string>

#include <fmt/format.h>

using namespace std::chrono_literals;

struct job {
  int id;
  bool urgent;
};
struct batch_done {};

void producer(troupe::pid to) {
  troupe::send(to, job{1, false});
  troupe::send(to, std::string("disk 91% full"));
  troupe::send(to, job{2, true});
  troupe::send(to, 42);
  troupe::send(to, job{3, false});
  troupe::send(to, job{4, true});
  troupe::send(to, batch_done{});
}

int main() {
  troupe::runtime rt;
  rt.run([] {
    troupe::spawn(producer, troupe::self());

    // Waiting for the marker first makes the rest deterministic: everything
    // sent before it is in the mailbox by then, left there in order.
    troupe::receive([](batch_done) {});

    // Urgent jobs jump the queue. after(0ms) turns the receive into a poll, so
    // the loop ends as soon as no urgent job is left.
    while (troupe::receive(
        troupe::when([](const job& j) { return j.urgent; },
                     [](job j) {
                       fmt::print("urgent job {}\n", j.id);
                       return true;
                     }),
        troupe::after(0ms, [] { return false; }))) {
    }

    // The rest, whatever its type, in the order it arrived.
    while (troupe::receive(
        [](job j) {
          fmt::print("job {}\n", j.id);
          return true;
        },
        [](const std::string& note) {
          fmt::print("note: {}\n", note);
          return true;
        },
        [](int n) {
          fmt::print("int {}\n", n);
          return true;
        },
        troupe::after(0ms, [] { return false; }))) {
    }

    // A real timeout: nothing else will come.
    troupe::receive([](job j) { fmt::print("late job {}\n", j.id); },
                    troupe::after(50ms, [] { fmt::print("no more jobs after 50 ms\n"); }));
  });
}
