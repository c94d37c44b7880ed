// ring, pingpong and fanin: the cost of moving messages.

#include <chrono>
#include <vector>

#include <troupe/troupe.hpp>

#include "workloads.hpp"

namespace bench {

namespace {
struct next_is {
  troupe::pid next;
};
struct token {
  std::int64_t hops_left;
};
struct done {};
struct stop {};
}  // namespace

// n processes in a ring; `tokens` tokens each travel n*rounds hops.
void ring(const args& a) {
  const std::int64_t n = a.count("n", 10'000);
  const std::int64_t rounds = a.get("rounds", 100);
  const std::int64_t tokens = std::min(a.get("tokens", 1), n);
  troupe::runtime rt(a.runtime());
  const double s = rt.run([&] {
    const troupe::pid parent = troupe::self();
    std::vector<troupe::pid> members(static_cast<std::size_t>(n));
    for (auto& m : members) {
      m = troupe::spawn([parent] {
        const troupe::pid next = troupe::receive<next_is>().next;
        for (bool running = true; running;) {
          troupe::receive(
              [&](token t) {
                if (t.hops_left == 0) {
                  troupe::send(parent, done{});
                } else {
                  troupe::send(next, token{t.hops_left - 1});
                }
              },
              [&](stop) { running = false; });
        }
      });
    }
    for (std::size_t i = 0; i < members.size(); ++i) troupe::send(members[i], next_is{members[(i + 1) % members.size()]});
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t k = 0; k < tokens; ++k) {
      troupe::send(members[static_cast<std::size_t>(k * n / tokens)], token{n * rounds});
    }
    for (std::int64_t k = 0; k < tokens; ++k) troupe::receive([](done) {});
    const double secs = seconds_since(t0);
    for (auto m : members) troupe::send(m, stop{});
    return secs;
  });
  const double msgs = static_cast<double>(tokens) * static_cast<double>(n * rounds);
  result("ring", kv("n", n), kv("rounds", rounds), kv("tokens", tokens), kv("schedulers", rt.schedulers()),
         kv("seconds", s), kv("msgs_per_sec", msgs / s));
}

void pingpong(const args& a) {
  const std::int64_t n = a.count("n", 1'000'000);
  troupe::runtime rt(a.runtime());
  const double s = rt.run([n] {
    const troupe::pid pong = troupe::spawn([] {
      for (;;) {
        auto [from, v] = troupe::receive<std::pair<troupe::pid, std::int64_t>>();
        if (v < 0) return;
        troupe::send(from, v);
      }
    });
    const troupe::pid me = troupe::self();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      troupe::send(pong, std::pair{me, i});
      troupe::receive<std::int64_t>();
    }
    const double secs = seconds_since(t0);
    troupe::send(pong, std::pair{me, std::int64_t{-1}});
    return secs;
  });
  result("pingpong", kv("n", n), kv("schedulers", rt.schedulers()), kv("seconds", s),
         kv("ns_per_roundtrip", s * 1e9 / static_cast<double>(n)));
}

// Many senders, one receiver.
void fanin(const args& a) {
  const std::int64_t senders = a.count("senders", 1'000);
  const std::int64_t msgs = a.get("msgs", 1'000);
  troupe::runtime rt(a.runtime());
  const double s = rt.run([&] {
    const troupe::pid sink = troupe::self();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < senders; ++i) {
      troupe::spawn([sink, msgs] {
        for (std::int64_t k = 0; k < msgs; ++k) troupe::send(sink, k);
      });
    }
    for (std::int64_t i = 0, total = senders * msgs; i < total; ++i) troupe::receive([](std::int64_t) {});
    return seconds_since(t0);
  });
  result("fanin", kv("senders", senders), kv("msgs", msgs), kv("schedulers", rt.schedulers()), kv("seconds", s),
         kv("msgs_per_sec", static_cast<double>(senders * msgs) / s));
}

}  // namespace bench
