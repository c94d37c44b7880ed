// counter_server.cpp: a hand-written server process (the loop GenServer will
// formalise), its clients, and a crash that stays inside the process that
// crashed. This shows what a server and a call are made of; the GenServer
// behaviour (coming) is the real thing, and real code should use it.
#include <troupe/troupe.hpp>

#include <chrono>
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
  troupe::monitor_ref ref;
};
struct count {
  troupe::monitor_ref ref;
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
  // A call monitors the server while it waits, as gen_server:call does: if
  // the server is dead or dies before it answers, the down_message ends the
  // wait at once instead of the timeout. The monitor's ref, unique, also
  // tags the request, so a late reply to an earlier call is never taken for
  // this one's.
  const troupe::monitor_ref ref = troupe::monitor(server);
  troupe::send(server, get{troupe::self(), ref});
  return troupe::receive(
      troupe::when([ref](const count& c) { return c.ref == ref; },
                   [ref](count c) {
                     troupe::demonitor(ref, true);  // true: drop a down_message that came meanwhile
                     return c.value;
                   }),
      troupe::when([ref](const troupe::down_message& d) { return d.ref == ref; },
                   [](const troupe::down_message& d) -> long {
                     throw std::runtime_error(fmt::format("get_count: the server exited ({})", d.reason));
                   }),
      troupe::after(5s, [ref]() -> long {
        troupe::demonitor(ref, true);
        throw std::runtime_error("get_count: no reply within 5 s");
      }));
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
    const long count = get_count(server);

    // A call to a server that is gone fails at once: its monitor reports
    // noproc, and nobody waits for the timeout.
    auto [gone, gone_ref] = troupe::spawn_monitor([] {});
    troupe::receive<troupe::down_message>();  // the only message we expect here: it has exited
    try {
      get_count(gone);
    } catch (const std::runtime_error& e) {
      fmt::print("{}\n", e.what());
      return count;
    }
    return -1L;
  });

  fmt::print("counter: {} (expected {})\n", total, 4 * 1000 + 1);
  // Leaving main destroys rt, and that is what stops the server.
  return total == 4 * 1000 + 1 ? 0 : 1;
}
