// preemption: a process crunching numbers in plain C++ does not hold up the
// others. crunch.cpp is built with troupe_preemptible(); this file is not.
#include <troupe/preempt.hpp>
#include <troupe/troupe.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "crunch.hpp"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

int main() {
  troupe::runtime rt({.schedulers = 1});  // one scheduler: the crunchers and the pinger share it
  std::atomic<std::uint64_t> crunched{0};

  // Two processes that would each hold the scheduler for an hour.
  troupe::pid a = troupe::spawn([&] { crunched += crunch::churn(1'000'000'000'000); });
  troupe::pid b = troupe::spawn([&] { crunched += crunch::churn(1'000'000'000'000); });

  // Meanwhile a third measures how long a message round trip waits.
  const double worst_us = rt.run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid echo = troupe::spawn([me] {
      for (int i = 0; i < 2000; ++i) troupe::receive([me](int v) { troupe::send(me, v); });
    });
    double worst = 0;
    for (int i = 0; i < 2000; ++i) {
      const auto t0 = steady::now();
      troupe::send(echo, i);
      troupe::receive([](int) {});
      worst = std::max(worst, std::chrono::duration<double, std::micro>(steady::now() - t0).count());
    }
    return worst;
  });
  fmt::print("2000 round trips beside two crunchers; the slowest took {:.0f} us\n", worst_us);

  // A blocking call (here a sleep) runs on the blocking pool: the process
  // waits without holding the scheduler.
  const std::string text = rt.run([] {
    return troupe::blocking([] {
      std::this_thread::sleep_for(20ms);
      return std::string("read from a slow disk");
    });
  });
  fmt::print("blocking returned \"{}\"\n", text);

  // A safe point is a runtime call: an exit signal stops a cruncher there.
  troupe::exit(a, troupe::exit_reason::killed());
  troupe::exit(b, troupe::exit_reason::killed());
  rt.wait_idle();
  fmt::print("both crunchers killed mid-loop\n");
  return worst_us < 1e6 && text == "read from a slow disk" ? 0 : 1;
}
