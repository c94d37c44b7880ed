// Preemption: how long a ping-pong pair waits beside processes spinning in
// plain C++ (fairness), and what the safe points cost (instrument_cost).

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include <troupe/troupe.hpp>

#include "preempt/kernels.hpp"
#include "workloads.hpp"

namespace bench {

namespace {

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

}  // namespace

// fairness n=20000 hogs=4 instrumented=1: `hogs` processes spin in a loop of
// non-inlined calls (built with troupe_preemptible when instrumented=1,
// plain otherwise) while a ping-pong pair times each of n round trips.
void fairness(const args& a) {
  const std::int64_t n = a.count("n", 20'000);
  const std::int64_t hogs = a.get("hogs", 4);
  const bool instrumented = a.get("instrumented", 1) != 0;
  troupe::runtime rt(a.runtime());
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto spinning = std::make_shared<std::atomic<int>>(0);
  for (std::int64_t i = 0; i < hogs; ++i) {
    troupe::spawn([stop, spinning, instrumented] {
      spinning->fetch_add(1);
      if (instrumented) {
        preemptible::spin(*stop);
      } else {
        plain::spin(*stop);
      }
    });
  }
  // Every hog has been on a scheduler before the pair starts.
  while (spinning->load() < hogs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<std::int64_t> rtt = rt.run([n] {
    const troupe::pid me = troupe::self();
    const troupe::pid echo = troupe::spawn([me] {
      for (;;) {
        if (!troupe::receive([me](int v) {
              troupe::send(me, v);
              return v >= 0;
            }))
          return;
      }
    });
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      troupe::send(echo, static_cast<int>(i & 0x3fffffff));
      troupe::receive([](int) {});
      out.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    troupe::send(echo, -1);
    troupe::receive([](int) {});
    return out;
  });
  stop->store(true);
  rt.wait_idle();
  std::sort(rtt.begin(), rtt.end());
  result("fairness", kv("n", n), kv("hogs", hogs), kv("instrumented", instrumented ? 1 : 0),
         kv("schedulers", rt.schedulers()), kv("p50_ns", percentile(rtt, 0.50)), kv("p99_ns", percentile(rtt, 0.99)),
         kv("max_ns", rtt.empty() ? 0 : rtt.back()));
}

namespace {

// The shorter of `reps` runs of f, in seconds.
template <class F>
double best_of(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

std::atomic<std::uint64_t> sink{0};  // keeps the kernels' results alive

}  // namespace

// instrument_cost: each kernel built with troupe_preemptible over the same
// kernel built plain, in a process (best of a few runs each, alternating).
void instrument_cost(const args& a) {
  const bool quick = a.quick();
  const int reps = static_cast<int>(a.get("reps", quick ? 1 : 7));
  const int sort_n = quick ? 10'000 : 1'000'000;
  const int fib_n = static_cast<int>(a.get("fib", quick ? 20 : 32));
  const int hash_n = quick ? 10'000 : 1'000'000;
  const int mat_n = quick ? 32 : 256;
  troupe::runtime_options o = a.runtime();
  o.long_schedule = std::chrono::hours(1);  // the plain kernels hold their scheduler on purpose
  if (a.get("slice_us", 0) > 0) o.time_slice = std::chrono::microseconds(a.get("slice_us", 0));
  troupe::runtime rt(o);
  struct ratio {
    const char* name;
    double value;
  };
  const std::vector<ratio> ratios = rt.run([&] {
    std::vector<int> input(static_cast<std::size_t>(sort_n));
    std::uint32_t x = 12345;
    for (int& v : input) v = static_cast<int>(x = x * 1664525u + 1013904223u);
    std::string json;
    for (int i = 0; json.size() < (quick ? 10'000u : 4'000'000u); ++i)
      json += fmt::format("{{\"id\":{},\"name\":\"item \\\"{}\\\"\",\"tags\":[\"a\",\"b\"],\"price\":{}}},", i, i, i * 7);
    std::string hay;
    for (int i = 0; hay.size() < (quick ? 10'000u : 4'000'000u); ++i) hay += "abracadabra alakazam ";
    const std::string needle = "cadabra ala";
    auto pair = [&](auto&& plain_run, auto&& preemptible_run) {
      double p = 1e300, q = 1e300;
      for (int r = 0; r < reps; ++r) {
        p = std::min(p, best_of(1, plain_run));
        q = std::min(q, best_of(1, preemptible_run));
      }
      return q / p;
    };
    std::vector<ratio> out;
    out.push_back({"sort_ratio", pair(
                                     [&] {
                                       std::vector<int> v = input;
                                       sink += plain::sort_ints(v);
                                     },
                                     [&] {
                                       std::vector<int> v = input;
                                       sink += preemptible::sort_ints(v);
                                     })});
    out.push_back({"fib_ratio", pair([&] { sink += plain::fib(fib_n); }, [&] { sink += preemptible::fib(fib_n); })});
    out.push_back(
        {"hash_ratio", pair([&] { sink += plain::hash_build(hash_n); }, [&] { sink += preemptible::hash_build(hash_n); })});
    out.push_back({"parse_ratio", pair([&] { sink += plain::parse(json); }, [&] { sink += preemptible::parse(json); })});
    out.push_back({"matmul_ratio", pair([&] { sink += static_cast<std::uint64_t>(plain::matmul(mat_n)); },
                                        [&] { sink += static_cast<std::uint64_t>(preemptible::matmul(mat_n)); })});
    out.push_back({"search_ratio", pair([&] { sink += plain::search(hay, needle); },
                                        [&] { sink += preemptible::search(hay, needle); })});
    return out;
  });
  double log_sum = 0;
  for (const ratio& r : ratios) log_sum += std::log(r.value);
  const double geomean = std::exp(log_sum / static_cast<double>(ratios.size()));
  std::string line = fmt::format("RESULT workload=instrument_cost schedulers={}", rt.schedulers());
  for (const ratio& r : ratios) line += fmt::format(" {}={:.3f}", r.name, r.value);
  line += fmt::format(" geomean_ratio={:.3f}", geomean);
  std::puts(line.c_str());
  std::fflush(stdout);
}

}  // namespace bench
