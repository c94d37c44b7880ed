// spawn, spawn_exit and skynet: the cost of creating and ending processes.

#include <atomic>
#include <chrono>

#include <troupe/log.hpp>
#include <troupe/troupe.hpp>

#include "workloads.hpp"

namespace bench {

namespace {
struct ready {};
struct stop {};
struct gone {};
}  // namespace

// A million processes that each block in receive. The last to get there, and
// later the last to exit, tells the parent (an atomic count, like Go's
// WaitGroup, rather than a million extra messages).
void spawn_blocked(const args& a) {
  const std::int64_t n = a.count("n", 1'000'000);
  troupe::runtime rt(a.runtime());
  const std::int64_t rss0 = rss_bytes();
  std::atomic<std::int64_t> waiting{0}, exited{0};
  double spawn_s = 0, teardown_s = 0;
  std::int64_t rss1 = 0;
  rt.run([&] {
    const troupe::pid parent = troupe::self();
    std::vector<troupe::pid> kids;
    kids.reserve(static_cast<std::size_t>(n));
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      kids.push_back(troupe::spawn([parent, n, &waiting, &exited] {
        if (waiting.fetch_add(1, std::memory_order_relaxed) + 1 == n) troupe::send(parent, ready{});
        troupe::receive([](stop) {});
        if (exited.fetch_add(1, std::memory_order_relaxed) + 1 == n) troupe::send(parent, gone{});
      }));
    }
    troupe::receive([](ready) {});
    spawn_s = seconds_since(t0);
    rss1 = rss_bytes();
    const auto t1 = std::chrono::steady_clock::now();
    for (troupe::pid k : kids) troupe::send(k, stop{});
    troupe::receive([](gone) {});
    teardown_s = seconds_since(t1);
  });
  result("spawn", kv("n", n), kv("schedulers", rt.schedulers()), kv("spawn_seconds", spawn_s),
         kv("per_sec", static_cast<double>(n) / spawn_s), kv("bytes_per_process", (rss1 - rss0) / n),
         kv("teardown_seconds", teardown_s));
}

void spawn_exit(const args& a) {
  const std::int64_t n = a.count("n", 1'000'000);
  troupe::runtime rt(a.runtime());
  const double s = rt.run([n] {
    const troupe::pid parent = troupe::self();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) troupe::spawn([parent] { troupe::send(parent, 1); });
    for (std::int64_t i = 0; i < n; ++i) troupe::receive([](int) {});
    return seconds_since(t0);
  });
  result("spawn_exit", kv("n", n), kv("schedulers", rt.schedulers()), kv("seconds", s),
         kv("per_sec", static_cast<double>(n) / s));
}

namespace {
void skynet_node(troupe::pid parent, std::int64_t num, std::int64_t size) {
  if (size == 1) {
    troupe::send(parent, num);
    return;
  }
  const troupe::pid me = troupe::self();
  const std::int64_t child = size / 10;
  for (std::int64_t i = 0; i < 10; ++i) troupe::spawn(skynet_node, me, num + i * child, child);
  std::int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += troupe::receive<std::int64_t>();
  troupe::send(parent, sum);
}
}  // namespace

// Skynet: a tree of processes, ten children per node, down to n leaves.
void skynet(const args& a) {
  std::int64_t n = a.count("n", 1'000'000);
  std::int64_t leaves = 1;
  while (leaves * 10 <= n) leaves *= 10;  // a power of ten
  n = leaves;
  troupe::runtime rt(a.runtime());
  std::int64_t sum = 0;
  const double s = rt.run([n, &sum] {
    const auto t0 = std::chrono::steady_clock::now();
    troupe::spawn(skynet_node, troupe::self(), std::int64_t{0}, n);
    sum = troupe::receive<std::int64_t>();
    return seconds_since(t0);
  });
  result("skynet", kv("n", n), kv("schedulers", rt.schedulers()), kv("sum", sum), kv("seconds", s));
}

}  // namespace bench

namespace bench {

// A trapping parent spawn_links a process that exits at once with a
// non-normal reason, and receives its exit message.
void link_exit(const args& a) {
  const std::int64_t n = a.count("n", 100'000);
  troupe::runtime rt(a.runtime());
  // Plain Erlang processes (the peer's loop) log no crash report; measure the
  // signal path, not the logger.
  const auto level = troupe::logger()->level();
  troupe::logger()->set_level(spdlog::level::off);
  const double s = rt.run([n] {
    troupe::trap_exit(true);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      troupe::spawn_link([] { troupe::exit(troupe::exit_reason::user("boom")); });
      troupe::receive([](troupe::exit_message) {});
    }
    return seconds_since(t0);
  });
  troupe::logger()->set_level(level);
  result("link_exit", kv("n", n), kv("schedulers", rt.schedulers()), kv("seconds", s),
         kv("per_sec", static_cast<double>(n) / s));
}

// Monitor a process that exits normally and receive its down message.
void monitor_down(const args& a) {
  const std::int64_t n = a.count("n", 100'000);
  troupe::runtime rt(a.runtime());
  const double s = rt.run([n] {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      troupe::spawn_monitor([] {});
      troupe::receive([](troupe::down_message) {});
    }
    return seconds_since(t0);
  });
  result("monitor_down", kv("n", n), kv("schedulers", rt.schedulers()), kv("seconds", s),
         kv("per_sec", static_cast<double>(n) / s));
}

}  // namespace bench
