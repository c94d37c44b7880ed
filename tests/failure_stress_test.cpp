// Failure model under load: a 10,000-process linked chain taken down by one
// crash, and 10,000 randomly linked processes killed at random while they
// work. Checked: the same reason everywhere, every monitor fires exactly
// once, nothing hangs, and the process count returns to its baseline.

#include <fmt/format.h>

#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureStressTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureStressTest);

constexpr int chain_length = live_processes(10'000);

struct chain_member {
  troupe::pid pid;
  bool last = false;
};

// Each process spawn_links the next and reports to the root; the last one
// waits for "go" and throws.
void chain_link(troupe::pid root, int left) {
  if (left > 1) troupe::spawn_link(chain_link, root, left - 1);
  troupe::send(root, chain_member{troupe::self(), left == 1});
  if (left == 1) {
    recv<std::string>();
    throw std::runtime_error("end of the chain");
  }
  troupe::receive([](double) {});  // until a linked process takes us down
}

// The root monitors every process of the chain: all die with the crash's
// reason, each monitor fires once, and the process count is back to the
// baseline.
TEST_P(FailureStressTest, LinkedChainDiesWithTheSameReason) {
  log_capture quiet;
  troupe::runtime* const r = &rt();
  const std::size_t baseline = r->process_count();
  const exit_reason expected = exit_reason::exception("std::runtime_error", "end of the chain");
  struct outcome {
    int same_reason = 0, downs = 0, distinct = 0;
    std::size_t alive_at_peak = 0, alive_after = 0;
  };
  const outcome o = r->run([r, expected] {
    const troupe::pid root = troupe::self();
    const std::size_t root_baseline = r->process_count();
    std::vector<std::pair<troupe::pid, troupe::monitor_ref>> chain;
    chain.reserve(chain_length);
    troupe::spawn(chain_link, root, chain_length);
    troupe::pid last;
    for (int i = 0; i < chain_length; ++i) {
      const chain_member m = recv<chain_member>();
      chain.emplace_back(m.pid, troupe::monitor(m.pid));
      if (m.last) last = m.pid;
    }
    outcome res;
    res.alive_at_peak = r->process_count() - root_baseline;
    troupe::send(last, std::string("go"));
    std::unordered_map<std::uint64_t, int> seen;
    for (int i = 0; i < chain_length; ++i) {
      const auto d = recv<troupe::down_message>();
      ++res.downs;
      ++seen[d.ref.id()];
      res.same_reason += d.reason == expected;
    }
    for (auto& [p, ref] : chain) res.distinct += seen[ref.id()] == 1;
    process_wait_until([r, root_baseline] { return r->process_count() == root_baseline; });
    res.alive_after = r->process_count() - root_baseline;
    res.downs += static_cast<int>(drain<troupe::down_message>().size());  // none more
    return res;
  });
  rt().wait_idle();
  EXPECT_EQ(o.alive_at_peak, static_cast<std::size_t>(chain_length));
  EXPECT_EQ(o.downs, chain_length);
  EXPECT_EQ(o.distinct, chain_length);
  EXPECT_EQ(o.same_reason, chain_length);
  EXPECT_EQ(o.alive_after, 0u);
  EXPECT_EQ(r->process_count(), baseline);
}

// The same chain, seen by a trapping root linked to its first process.
TEST_P(FailureStressTest, LinkedChainReachesATrappingRoot) {
  log_capture quiet;
  troupe::runtime* const r = &rt();
  const exit_reason expected = exit_reason::exception("std::runtime_error", "end of the chain");
  const std::pair<exit_reason, bool> o = r->run([r] {
    const troupe::pid root = troupe::self();
    troupe::trap_exit(true);
    const std::size_t base = r->process_count();
    const troupe::pid first = troupe::spawn_link(chain_link, root, chain_length);
    troupe::pid last;
    for (int i = 0; i < chain_length; ++i) {
      const chain_member m = recv<chain_member>();
      if (m.last) last = m.pid;
    }
    troupe::send(last, std::string("go"));
    const exit_reason why = recv_exit_from(first).reason;
    const bool back = process_wait_until([r, base] { return r->process_count() == base; });
    return std::make_pair(why, back);
  });
  EXPECT_EQ(o.first, expected) << fmt::format("{}", o.first);
  EXPECT_TRUE(o.second);
}

// Chaos: workers linked at random (some trapping) pass tokens around while a
// killer sends exit signals (mostly kill) to random ones; in the end every
// survivor is killed. The collector (the root) monitors every worker.
TEST_P(FailureStressTest, ChaosOfLinksAndKills) {
  static constexpr int workers = live_processes(10'000);
  static constexpr int links_each = 3;
  static constexpr int tokens = stress_work(500);
  static constexpr int hops = 40;
  static constexpr int kills = stress_work(3'000);
  log_capture quiet;
  troupe::runtime* const r = &rt();
  const std::size_t baseline = r->process_count();

  struct peers_msg {
    std::shared_ptr<const std::vector<troupe::pid>> all;
  };
  struct token {
    int hops_left;
  };
  struct outcome {
    int downs = 0, once = 0, unknown = 0, normal = 0, extra = 0;
    int by_killer = 0;
    std::size_t alive_after = 99;
  };
  const outcome o = r->run([r] {
    const troupe::pid root = troupe::self();
    const std::size_t root_base = r->process_count();
    std::vector<troupe::pid> ws;
    std::unordered_map<std::uint64_t, int> fired;
    ws.reserve(workers);
    for (int i = 0; i < workers; ++i) {
      auto [p, ref] = troupe::spawn_monitor([i, root] {
        const bool trapping = i % 4 == 0;
        if (trapping) troupe::trap_exit(true);
        const peers_msg peers = recv<peers_msg>();
        std::minstd_rand rng(static_cast<unsigned>(i) * 7919u + 1u);
        const auto& all = *peers.all;
        for (int k = 0; k < links_each; ++k) {
          try {
            troupe::link(all[rng() % all.size()]);
          } catch (const troupe::process_error&) {
            // already dead: fine, carry on
          }
        }
        for (;;) {
          troupe::receive(
              [&](token t) {
                if (t.hops_left > 0) {
                  troupe::send(all[rng() % all.size()], token{t.hops_left - 1});
                } else {
                  troupe::send(root, t);
                }
              },
              [](troupe::exit_message) { /* trapped: carry on */ });
        }
      });
      ws.push_back(p);
      fired.emplace(ref.id(), 0);
    }
    auto all = std::make_shared<const std::vector<troupe::pid>>(ws);
    for (troupe::pid p : ws) troupe::send(p, peers_msg{all});
    std::minstd_rand rng(12345);
    for (int i = 0; i < tokens; ++i) troupe::send(ws[rng() % ws.size()], token{hops});
    // The killer: mostly kill, some ordinary reasons (trappable), some normal.
    auto [killer, kref] = troupe::spawn_monitor([all] {
      std::minstd_rand krng(777);
      for (int i = 0; i < kills; ++i) {
        const troupe::pid victim = (*all)[krng() % all->size()];
        switch (krng() % 5) {
          case 0: troupe::exit(victim, exit_reason::user("chaos")); break;
          case 1: troupe::exit(victim, exit_reason::normal()); break;
          default: troupe::exit(victim, exit_reason::kill()); break;
        }
        if (i % 16 == 0) troupe::yield();
      }
    });
    (void)killer;
    outcome res;
    auto count = [&](const troupe::down_message& d) {
      ++res.downs;
      auto it = fired.find(d.ref.id());
      if (it == fired.end()) {
        ++res.unknown;
      } else {
        ++it->second;
      }
      res.normal += d.reason.is_normal();
    };
    // Collect while the killer works, until it is done.
    for (;;) {
      const bool killer_done = troupe::receive(
          troupe::when([kref = kref](const troupe::down_message& d) { return d.ref == kref; },
                       [](troupe::down_message) { return true; }),
          [&](troupe::down_message d) {
            count(d);
            return false;
          },
          [](token) { return false; });
      if (killer_done) break;
    }
    res.by_killer = res.downs;
    // End: kill every survivor, collect the rest.
    for (troupe::pid p : ws) troupe::exit(p, exit_reason::kill());
    while (res.downs < workers) {
      troupe::receive([&](troupe::down_message d) { count(d); }, [](token) {},
                      troupe::after(hang_timeout, [&] {
                        ADD_FAILURE() << "hang: " << res.downs << " of " << workers << " down messages";
                        throw receive_timeout("chaos");
                      }));
    }
    process_wait_until([r, root_base] { return r->process_count() == root_base; });
    res.alive_after = r->process_count() - root_base;
    res.extra = static_cast<int>(drain<troupe::down_message>().size());
    drain<token>();
    for (auto& [ref, n] : fired) res.once += n == 1;
    return res;
  });
  rt().wait_idle();
  RecordProperty("died_before_the_final_sweep", o.by_killer);
  EXPECT_EQ(o.downs, workers);
  EXPECT_EQ(o.once, workers) << "every monitor fires exactly once";
  EXPECT_EQ(o.unknown, 0);
  EXPECT_EQ(o.extra, 0);
  EXPECT_EQ(o.normal, 0) << "no worker ends normally: normal exit signals are ignored or trapped";
  EXPECT_EQ(o.alive_after, 0u);
  EXPECT_EQ(r->process_count(), baseline);
}

// Links made and broken at random while the processes die: link/unlink
// racing with exits never leaves a dangling link (a survivor's links only
// name live processes) and never hangs.
TEST_P(FailureStressTest, LinkUnlinkRacingWithDeaths) {
  static constexpr int n = live_processes(2'000);
  log_capture quiet;
  troupe::runtime* const r = &rt();
  struct outcome {
    int downs = 0;
    int dangling = 0;
  };
  const outcome o = r->run([r] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ps;
    std::vector<troupe::monitor_ref> refs;
    for (int i = 0; i < n; ++i) {
      auto [p, ref] = troupe::spawn_monitor([i, root] {
        troupe::trap_exit(true);  // survive the others' deaths
        auto peers = recv<std::shared_ptr<const std::vector<troupe::pid>>>();
        std::minstd_rand rng(static_cast<unsigned>(i) + 1u);
        for (int k = 0; k < 20; ++k) {
          const troupe::pid q = (*peers)[rng() % peers->size()];
          troupe::link(q);
          if (rng() % 2) troupe::unlink(q);
        }
        if (i % 2) return;  // half of them die (normally) right away
        troupe::send(root, std::string("settled"));
        for (;;) troupe::receive([](troupe::exit_message) {}, [](std::string) {});
      });
      ps.push_back(p);
      refs.push_back(ref);
    }
    auto shared = std::make_shared<const std::vector<troupe::pid>>(ps);
    for (troupe::pid p : ps) troupe::send(p, shared);
    for (int i = 0; i < n / 2; ++i) recv<std::string>();
    outcome res;
    // Wait until every odd one is gone; then, once the survivors have taken
    // in the exit signals (a link goes when its signal is received, as in
    // OTP), no survivor is linked to a dead process.
    for (int i = 1; i < n; i += 2) wait_gone(ps[i]);
    auto dangling = [&ps] {
      int d = 0;
      for (int i = 0; i < n; i += 2) {
        const auto info = troupe::process_info(ps[i]);
        if (!info) continue;
        for (troupe::pid l : info->links) d += !troupe::process_info(l).has_value();
      }
      return d;
    };
    process_wait_until([&] { return dangling() == 0; });
    res.dangling = dangling();
    for (troupe::pid p : ps) troupe::exit(p, exit_reason::kill());
    for (auto ref : refs) res.downs += recv_down(ref).ref == ref;
    (void)r;
    return res;
  });
  rt().wait_idle();
  EXPECT_EQ(o.downs, n);
  EXPECT_EQ(o.dangling, 0);
}

}  // namespace
