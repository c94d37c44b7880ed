// timers.cpp: send_after, cancel_timer and sleep_for.
#include <troupe/troupe.hpp>

#include <chrono>
#include <string>

#include <fmt/format.h>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct tick {
  int n;
};

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

int main() {
  troupe::runtime rt;
  bool ok = rt.run([] {
    const auto t0 = clock_type::now();
    troupe::pid me = troupe::self();

    // A timer delivers an ordinary message: the process just receives it, so
    // timeouts and messages go through one selective receive.
    troupe::send_after(me, 30ms, tick{1});
    tick t = troupe::receive<tick>();
    fmt::print("tick {} after {:.0f} ms\n", t.n, ms_since(t0));

    // A cancelled timer never delivers its message.
    troupe::timer_ref reminder = troupe::send_after(me, 20ms, std::string("reminder"));
    bool cancelled = troupe::cancel_timer(reminder);
    auto got = troupe::receive_for<std::string>(50ms);
    fmt::print("cancel_timer: {}, reminder {}\n", cancelled, got ? "arrived" : "never arrived");

    // Cancelling after it fired tells you so: the message is already sent.
    troupe::timer_ref fired = troupe::send_after(me, 1ms, tick{2});
    troupe::receive([](tick) {});
    bool cancelled_late = troupe::cancel_timer(fired);
    fmt::print("cancel_timer after firing: {}\n", cancelled_late);

    // sleep_for suspends only this process (the scheduler runs others) and
    // leaves the mailbox alone: the tick that arrives meanwhile waits for us.
    troupe::send_after(me, 5ms, tick{3});
    troupe::sleep_for(50ms);
    auto waiting = troupe::receive_for<tick>(0ms);
    fmt::print("after sleep_for(50ms): tick {} was waiting\n", waiting ? waiting->n : -1);

    return t.n == 1 && cancelled && !got && !cancelled_late && waiting && waiting->n == 3;
  });
  return ok ? 0 : 1;
}
