// ring.cpp: N processes in a ring pass a token around M times.
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdint>

#include <fmt/format.h>

struct token {
  std::uint64_t hops = 0;
};

constexpr int ring_size = 10'000;
constexpr int rounds = 20;

int main() {
  troupe::runtime rt;

  auto start = std::chrono::steady_clock::now();
  std::uint64_t hops = rt.run([] {
    // Spawned back to front, so that each process is created knowing its
    // successor's pid; the last one closes the ring on this process.
    troupe::pid next = troupe::self();
    for (int i = 1; i < ring_size; ++i) {
      next = troupe::spawn([next] {
        // Each member sees the token once per round, then ends normally.
        for (int r = 0; r < rounds; ++r) {
          auto t = troupe::receive<token>();
          ++t.hops;
          troupe::send(next, t);
        }
      });
    }

    token t;
    for (int r = 0; r < rounds; ++r) {
      ++t.hops;
      troupe::send(next, t);
      t = troupe::receive<token>();
    }
    return t.hops;
  });
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);

  fmt::print("ring of {} processes: token made {} hops in {} rounds ({:.1f} ms)\n", ring_size, hops, rounds,
             elapsed.count());
  return hops == std::uint64_t{ring_size} * rounds ? 0 : 1;
}
