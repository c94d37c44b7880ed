// counter_server.cpp: a hand-written server process (the loop GenServer will
// formalise), its clients, and a crash that stays inside the process that
// crashed.
#include <troupe/troupe.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

using namespace std::chrono_literals;

// --- The protocol --------------------------------------------------------

struct increment {  // a cast: no reply
  long by;
};
struct get {  // a call: the server answers `from` with a count tagged `ref`
  troupe::pid from;
  std::uint64_t ref;
};
struct count {
  std::uint64_t ref;
  long value;
};

// --- The server ----------------------------------------------------------

void counter_server(long n) {
  // Nothing stops this loop: the runtime ends the process at shutdown by
  // unwinding it out of receive, so destructors (this one included) run.
  struct on_exit {
    const long& n;
    ~on_exit() { fmt::print("counter server: stopped at {}\n", n); }
  } report{n};

  for (;;) {
    troupe::receive([&](increment i) { n += i.by; },
                    [&](get g) { troupe::send(g.from, count{g.ref, n}); });
  }
}

// --- The client API ------------------------------------------------------

void increment_counter(troupe::pid server, long by) { troupe::send(server, increment{by}); }

long get_count(troupe::pid server) {
  // A fresh ref per call (Erlang's make_ref()) so that a late reply to an
  // earlier, timed-out call is never taken for this one's.
  static std::atomic<std::uint64_t> next_ref{1};
  const std::uint64_t ref = next_ref.fetch_add(1, std::memory_order_relaxed);
  troupe::send(server, get{troupe::self(), ref});
  return troupe::receive(
      troupe::when([ref](const count& c) { return c.ref == ref; }, [](count c) { return c.value; }),
      troupe::after(5s, []() -> long { throw std::runtime_error("get_count: no reply within 5 s"); }));
}

// --- Using it ------------------------------------------------------------

struct client_done {};

int main() {
  troupe::runtime rt;
  long total = rt.run([] {
    troupe::pid server = troupe::spawn(counter_server, 0L);
    troupe::pid me = troupe::self();

    constexpr int clients = 4;
    constexpr int increments = 1000;
    for (int c = 0; c < clients; ++c) {
      troupe::spawn([server, me] {
        for (int i = 0; i < increments; ++i) increment_counter(server, 1);
        // Casts from one sender arrive in order, so once this call is answered
        // the server has applied all of this client's increments.
        get_count(server);
        troupe::send(me, client_done{});
      });
    }
    for (int c = 0; c < clients; ++c) troupe::receive([](client_done) {});

    // A process that fails: the exception ends it alone. The runtime logs a
    // crash report (to stderr) and nobody else is disturbed; without links
    // or monitors nobody is told either, exactly like a bare spawn in Erlang.
    troupe::spawn([server] {
      std::vector<int> readings{3, 1, 4};
      increment_counter(server, static_cast<long>(readings.at(7)));  // throws std::out_of_range
    });

    // The pause only lets the crash report come out before our last answer;
    // the server never saw the bad increment and answers either way.
    troupe::sleep_for(20ms);
    increment_counter(server, 1);
    return get_count(server);
  });

  fmt::print("counter: {} (expected {})\n", total, 4 * 1000 + 1);
  // Leaving main destroys rt, and that is what stops the server.
  return total == 4 * 1000 + 1 ? 0 : 1;
}
