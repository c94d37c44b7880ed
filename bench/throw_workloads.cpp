// throw_catch: what a throw costs, and what recording its stack adds.

#include <chrono>
#include <stdexcept>

#include <troupe/stack_trace.hpp>
#include <troupe/troupe.hpp>

#include "workloads.hpp"

namespace bench {

namespace {

// `depth` frames of calls, then a throw; none is a tail call or inlined.
__attribute__((noinline)) std::int64_t dive(std::int64_t depth) {
  if (depth == 0) throw std::runtime_error("throw_catch");
  const std::int64_t below = dive(depth - 1);
  asm volatile("" ::: "memory");
  return below + 1;
}

// n throws from `depth` calls down, each caught here; seconds taken.
double throw_n(std::int64_t n, std::int64_t depth) {
  std::int64_t caught = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      dive(depth);
    } catch (const std::runtime_error&) {
      ++caught;
    }
  }
  const double s = seconds_since(t0);
  if (caught != n) throw std::logic_error("throw_catch: a throw was not caught");
  return s;
}

}  // namespace

// throw_catch n=100000 depth=10 traces=1 [trace_depth=32] [in_process=1]:
// one process throws std::runtime_error from `depth` calls down and catches
// it, n times, with throw-point recording on (traces=1) or off (traces=0).
// in_process=0 does the same on the main thread (where nothing is recorded).
void throw_catch(const args& a) {
  const std::int64_t n = a.count("n", 100'000);
  const std::int64_t depth = a.get("depth", 10);
  const bool traces = a.get("traces", 1) != 0;
  const std::int64_t trace_depth = a.get("trace_depth", 32);
  const bool in_process = a.get("in_process", 1) != 0;
  troupe::set_exception_trace_depth(static_cast<std::size_t>(trace_depth));
  troupe::set_exception_traces(traces);
  troupe::runtime_options o = a.runtime();
  if (a.get("schedulers", 0) == 0) o.schedulers = 1;  // one process: one scheduler
  troupe::runtime rt(o);
  throw_n(n / 100 + 1, depth);  // warm-up: unwind tables, the heap
  const double s = in_process ? rt.run([&] {
    throw_n(n / 100 + 1, depth);
    return throw_n(n, depth);
  })
                              : throw_n(n, depth);
  result("throw_catch", kv("n", n), kv("depth", depth), kv("traces", traces ? 1 : 0),
         kv("trace_depth", traces ? trace_depth : 0), kv("in_process", in_process ? 1 : 0),
         kv("schedulers", rt.schedulers()), kv("seconds", s),
         kv("ns_per_throw", s * 1e9 / static_cast<double>(n)));
}

}  // namespace bench
