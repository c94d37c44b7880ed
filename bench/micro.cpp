// Google Benchmark microbenchmarks of the primitives, each measured inside a
// process on a one-scheduler runtime.

#include <benchmark/benchmark.h>

#include <troupe/troupe.hpp>

namespace {

// Two processes yielding to each other: one iteration is two switches
// (process -> scheduler -> process).
void BM_ContextSwitch(benchmark::State& state) {
  troupe::runtime rt({.schedulers = 1});
  rt.run([&] {
    std::atomic<bool> stop{false};
    troupe::spawn([&] {
      while (!stop.load(std::memory_order_relaxed)) troupe::yield();
    });
    for (auto _ : state) troupe::yield();
    stop = true;
  });
}
BENCHMARK(BM_ContextSwitch)->UseRealTime();

// A process sends itself a message and receives it.
void BM_SendReceiveSelf(benchmark::State& state) {
  troupe::runtime rt({.schedulers = 1});
  rt.run([&] {
    const troupe::pid me = troupe::self();
    for (auto _ : state) {
      troupe::send(me, 1);
      benchmark::DoNotOptimize(troupe::receive<int>());
    }
  });
}
BENCHMARK(BM_SendReceiveSelf)->UseRealTime();

// Spawn a process that exits at once, and wait for it to say so.
void BM_SpawnExit(benchmark::State& state) {
  troupe::runtime rt({.schedulers = 1});
  rt.run([&] {
    const troupe::pid me = troupe::self();
    for (auto _ : state) {
      troupe::spawn([me] { troupe::send(me, 1); });
      troupe::receive<int>();
    }
  });
}
BENCHMARK(BM_SpawnExit)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
