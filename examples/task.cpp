// task.cpp: run work in processes of its own and await the results; an
// exception in a task is rethrown in the process that awaits it. A task
// supervisor runs tasks whose crash must not end their caller.
#include <troupe/task.hpp>
#include <troupe/task_supervisor.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

using namespace std::chrono_literals;

long expensive(long n) {
  long s = 0;
  for (long i = 1; i <= n; ++i) s += i * i;
  return s;
}

int main() {
  troupe::runtime rt;
  return rt.run([] {
    auto t = troupe::task::async([] { return expensive(1000); });  // async_task<long>, linked
    const long v = troupe::task::await(t, 5s);
    fmt::print("sum of squares: {}\n", v);

    std::vector<troupe::async_task<long>> many;
    for (long n = 1; n <= 4; ++n) many.push_back(troupe::task::async([n] { return expensive(n); }));
    const std::vector<long> all = troupe::task::await_many(many);
    fmt::print("in order: {}, {}, {}, {}\n", all[0], all[1], all[2], all[3]);

    auto bad = troupe::task::async([]() -> long { throw std::invalid_argument("no such input"); });
    try {
      troupe::task::await(bad);
    } catch (const std::invalid_argument& e) {
      fmt::print("the task threw: {}\n", e.what());
    }

    auto tasks = troupe::task::supervisor::start_link().value();  // in a real tree, a child
    auto risky = tasks.async_nolink([]() -> long { throw std::runtime_error("the network is down"); });
    try {
      troupe::task::await(risky);
    } catch (const std::runtime_error& e) {
      fmt::print("a supervised task failed ({}), and its caller goes on\n", e.what());
    }
    return v == 333'833'500 && all[3] == 30 ? 0 : 1;
  });
}
