// send: delivery, ownership, per-sender ordering, many senders, sends from
// plain threads, and freeing of messages that are never received.

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class MessagingTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(MessagingTest);

struct seq_msg {
  int sender;
  int seq;
};

TEST_P(MessagingTest, SendToSelfAndReceive) {
  const auto got = rt().run([] {
    troupe::send(troupe::self(), 5);
    troupe::send(troupe::self(), std::string("five"));
    const int i = recv<int>();
    const std::string s = recv<std::string>();
    return std::make_pair(i, s);
  });
  EXPECT_EQ(got.first, 5);
  EXPECT_EQ(got.second, "five");
}

TEST_P(MessagingTest, MoveOnlyMessageTransfersOwnership) {
  const auto got = rt().run([] {
    auto box = std::make_unique<int>(99);
    const int* const addr = box.get();
    const troupe::pid root = troupe::self();
    const troupe::pid echo = troupe::spawn([root] {
      auto p = recv<std::unique_ptr<int>>();
      troupe::send(root, std::move(p));
    });
    troupe::send(echo, std::move(box));
    auto back = recv<std::unique_ptr<int>>();
    return std::make_tuple(box == nullptr, back.get() == addr, *back);
  });
  EXPECT_TRUE(std::get<0>(got)) << "send did not move from an rvalue";
  EXPECT_TRUE(std::get<1>(got)) << "the receiver did not get the very object that was sent";
  EXPECT_EQ(std::get<2>(got), 99);
}

TEST_P(MessagingTest, LvalueIsCopiedAndSenderKeepsIt) {
  const auto got = rt().run([] {
    std::string s = "keep me";
    troupe::send(troupe::self(), s);
    return std::make_pair(s, recv<std::string>());
  });
  EXPECT_EQ(got.first, "keep me");
  EXPECT_EQ(got.second, "keep me");
}

TEST_P(MessagingTest, OneSenderTenThousandMessagesArriveInOrder) {
  constexpr int n = 10'000;
  const std::vector<int> got = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] {
      for (int i = 0; i < n; ++i) troupe::send(root, i);
    });
    std::vector<int> v;
    v.reserve(n);
    for (int i = 0; i < n; ++i) v.push_back(recv<int>());
    return v;
  });
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(got[i], i) << "at position " << i;
}

TEST_P(MessagingTest, SeveralSendersEachArriveInOrder) {
  constexpr int senders = 8;
  constexpr int per_sender = 2'000;
  const std::vector<std::vector<int>> got = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int s = 0; s < senders; ++s) {
      troupe::spawn([root, s] {
        for (int i = 0; i < per_sender; ++i) {
          troupe::send(root, seq_msg{s, i});
          if (i % 100 == 0) troupe::yield();  // mix the senders' messages
        }
      });
    }
    std::vector<std::vector<int>> v(senders);
    for (int k = 0; k < senders * per_sender; ++k) {
      const seq_msg m = recv<seq_msg>();
      v.at(m.sender).push_back(m.seq);
    }
    return v;
  });
  for (int s = 0; s < senders; ++s) {
    ASSERT_EQ(got[s].size(), static_cast<std::size_t>(per_sender)) << "sender " << s;
    for (int i = 0; i < per_sender; ++i) ASSERT_EQ(got[s][i], i) << "sender " << s << " position " << i;
  }
}

// 200 senders x 2,000 messages to one receiver: no loss, no duplicate, and
// every sender's messages in the order it sent them.
TEST_P(MessagingTest, ManySendersOneReceiverNoLossNoDuplicatePerSenderOrder) {
  constexpr int senders = 200;
  constexpr int per_sender = 2'000;
  struct report {
    long received = 0;
    long out_of_order = 0;
    long duplicates_or_gaps = 0;
    std::vector<int> next;  // next expected seq per sender
    bool extra = false;
  };
  const report r = rt().run([] {
    const troupe::pid root = troupe::self();
    // The senders start together, so they really do run at once.
    std::vector<troupe::pid> ss;
    for (int s = 0; s < senders; ++s) {
      ss.push_back(troupe::spawn([root, s] {
        recv<std::string>();
        for (int i = 0; i < per_sender; ++i) troupe::send(root, seq_msg{s, i});
      }));
    }
    for (troupe::pid p : ss) troupe::send(p, std::string("go"));
    report rep;
    rep.next.assign(senders, 0);
    for (long k = 0; k < long{senders} * per_sender; ++k) {
      const seq_msg m = recv<seq_msg>();
      ++rep.received;
      int& expected = rep.next.at(m.sender);
      if (m.seq < expected) ++rep.duplicates_or_gaps;
      if (m.seq != expected) ++rep.out_of_order;
      expected = std::max(expected, m.seq + 1);
    }
    // Nothing beyond what was sent.
    rep.extra = !troupe::receive([](seq_msg) { return false; }, troupe::after(20ms, [] { return true; }));
    return rep;
  });
  EXPECT_EQ(r.received, long{senders} * per_sender);
  EXPECT_EQ(r.out_of_order, 0);
  EXPECT_EQ(r.duplicates_or_gaps, 0);
  EXPECT_FALSE(r.extra);
  for (int s = 0; s < senders; ++s) EXPECT_EQ(r.next[s], per_sender) << "sender " << s;
}

TEST_P(MessagingTest, SendFromAPlainThreadReachesAProcess) {
  rt();
  std::promise<troupe::pid> ready;
  std::promise<std::vector<int>> result;
  auto ready_f = ready.get_future();
  auto result_f = result.get_future();
  troupe::spawn([&ready, &result] {
    ready.set_value(troupe::self());
    std::vector<int> v;
    for (int i = 0; i < 3; ++i) {
      auto m = troupe::receive_for<int>(hang_timeout);
      if (!m) break;
      v.push_back(*m);
    }
    result.set_value(v);
  });
  ASSERT_EQ(ready_f.wait_for(hang_timeout), std::future_status::ready);
  const troupe::pid p = ready_f.get();
  EXPECT_FALSE(troupe::in_process());
  troupe::send(p, 1);
  troupe::send(p, 2);
  troupe::send(p, 3);
  ASSERT_EQ(result_f.wait_for(hang_timeout), std::future_status::ready);
  EXPECT_EQ(result_f.get(), (std::vector<int>{1, 2, 3}));
}

TEST_P(MessagingTest, SeveralPlainThreadsSendConcurrently) {
  constexpr int threads = 4;
  constexpr int per_thread = 5'000;
  rt();
  std::promise<troupe::pid> ready;
  std::promise<std::vector<int>> result;  // next expected seq per thread, at the end
  auto ready_f = ready.get_future();
  auto result_f = result.get_future();
  troupe::spawn([&] {
    ready.set_value(troupe::self());
    std::vector<int> next(threads, 0);
    int bad = 0;
    for (int k = 0; k < threads * per_thread; ++k) {
      auto m = troupe::receive_for<seq_msg>(hang_timeout);
      if (!m) break;
      if (m->seq != next.at(m->sender)) ++bad;
      next.at(m->sender) = m->seq + 1;
    }
    next.push_back(bad);
    result.set_value(next);
  });
  ASSERT_EQ(ready_f.wait_for(hang_timeout), std::future_status::ready);
  const troupe::pid p = ready_f.get();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([p, t] {
      for (int i = 0; i < per_thread; ++i) troupe::send(p, seq_msg{t, i});
    });
  }
  for (auto& t : ts) t.join();
  ASSERT_EQ(result_f.wait_for(hang_timeout), std::future_status::ready);
  const std::vector<int> next = result_f.get();
  for (int t = 0; t < threads; ++t) EXPECT_EQ(next[t], per_thread) << "thread " << t;
  EXPECT_EQ(next.back(), 0) << "messages out of order";
}

// Messages a process never received are freed when it exits, whether they
// were already looked at (skipped by a selective receive) or not.
TEST_P(MessagingTest, UnreceivedMessagesAreFreedWhenTheProcessExits) {
  rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid p = troupe::spawn([root] {
      // Skips the tracked messages already here, takes the int, and exits.
      recv<int>();
      troupe::send(root, std::string("exiting"));
    });
    for (int i = 0; i < 100; ++i) troupe::send(p, tracked(i));
    troupe::send(p, 0);
    for (int i = 0; i < 100; ++i) troupe::send(p, tracked(i));  // maybe never pulled from the mailbox
    recv<std::string>();
  });
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  // Before the runtime is destroyed: exiting freed them.
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

TEST_P(MessagingTest, ReceivedMessagesAreFreedAfterTheHandler) {
  const auto counts = rt().run([] {
    troupe::send(troupe::self(), tracked(1));
    troupe::send(troupe::self(), tracked(2));
    const long inside = troupe::receive([](const tracked&) { return tracked::live.load(); });
    const long between = tracked::live.load();
    troupe::receive([](tracked t) { (void)t; });
    return std::make_tuple(inside, between, tracked::live.load());
  });
  EXPECT_EQ(std::get<0>(counts), tracked_base() + 2);  // both alive while the first handler runs
  EXPECT_EQ(std::get<1>(counts), tracked_base() + 1);  // the received one is gone
  EXPECT_EQ(std::get<2>(counts), tracked_base());
}

TEST_P(MessagingTest, MessagesOfDifferentTypesAreDistinguished) {
  struct a_msg {
    int v;
  };
  struct b_msg {
    int v;
  };
  const auto got = rt().run([] {
    troupe::send(troupe::self(), b_msg{2});
    troupe::send(troupe::self(), a_msg{1});
    troupe::send(troupe::self(), 3L);  // long, not int
    troupe::send(troupe::self(), 4);
    const int a = recv<a_msg>().v;
    const int b = recv<b_msg>().v;
    const int i = recv<int>();
    const long l = recv<long>();
    return std::make_tuple(a, b, i, l);
  });
  EXPECT_EQ(got, std::make_tuple(1, 2, 4, 3L));
}

struct throws_on_move {
  throws_on_move() = default;
  throws_on_move(const throws_on_move&) { throw std::runtime_error("copy failed"); }
  throws_on_move(throws_on_move&&) { throw std::runtime_error("move failed"); }
  tracked t;
};

TEST_P(MessagingTest, ASendWhoseMessageCannotBeBuiltThrowsAndDeliversNothing) {
  const auto got = rt().run([] {
    bool threw = false;
    try {
      troupe::send(troupe::self(), throws_on_move{});
    } catch (const std::runtime_error&) {
      threw = true;
    }
    troupe::send(troupe::self(), 1);
    // The first message in the mailbox is the int: nothing else was queued.
    const bool int_first = troupe::receive([](int) { return true; }, [](throws_on_move&) { return false; });
    return std::make_pair(threw, int_first);
  });
  EXPECT_TRUE(got.first);
  EXPECT_TRUE(got.second);
}

struct alignas(64) over_aligned {
  int v;
};

TEST_P(MessagingTest, OverAlignedMessagesAreAligned) {
  const auto got = rt().run([] {
    int misaligned = 0, sum = 0;
    for (int i = 0; i < 100; ++i) troupe::send(troupe::self(), over_aligned{i});
    for (int i = 0; i < 100; ++i) {
      troupe::receive([&](const over_aligned& m) {
        misaligned += reinterpret_cast<std::uintptr_t>(&m) % 64 != 0;
        sum += m.v;
      });
    }
    return std::make_pair(misaligned, sum);
  });
  EXPECT_EQ(got.first, 0);
  EXPECT_EQ(got.second, 99 * 100 / 2);
}

// Round trips between many pairs at once: a lost wake-up hangs a pair.
TEST_P(MessagingTest, ManyPingPongPairsNeverLoseAWakeUp) {
  constexpr int pairs = 50;
  constexpr int rounds = 2'000;
  const std::vector<int> finished = rt().run([] {
    const troupe::pid root = troupe::self();
    for (int k = 0; k < pairs; ++k) {
      const troupe::pid ponger = troupe::spawn([] {
        for (;;) {
          auto [from, n] = recv<std::pair<troupe::pid, int>>();
          troupe::send(from, n + 1);
          if (n < 0) return;
        }
      });
      troupe::spawn([root, ponger, k] {
        int ok = 0;
        for (int i = 0; i < rounds; ++i) {
          troupe::send(ponger, std::make_pair(troupe::self(), i));
          ok += recv<int>() == i + 1;
        }
        troupe::send(ponger, std::make_pair(troupe::self(), -1));
        recv<int>();
        troupe::send(root, std::make_pair(k, ok));
      });
    }
    std::vector<int> v(pairs, -1);
    for (int k = 0; k < pairs; ++k) {
      auto [who, ok] = recv<std::pair<int, int>>();
      v.at(who) = ok;
    }
    return v;
  });
  for (int k = 0; k < pairs; ++k) EXPECT_EQ(finished[k], rounds) << "pair " << k;
}

// ---------------------------------------------------------------- back-pressure

struct ping {
  troupe::pid from;
};
struct pong {};

// A receiver whose ints pile up unmatched, and which answers pings (taking
// everything in its mailbox to find them).
troupe::pid spawn_hoarder() {
  return troupe::spawn([] {
    for (bool running = true; running;) {
      troupe::receive([](ping p) { troupe::send(p.from, pong{}); }, [&](double) { running = false; });
    }
    drain<int>();
  });
}

std::uint64_t reductions_to_send(troupe::pid to, int n) {
  const std::uint64_t before = troupe::reductions();
  for (int i = 0; i < n; ++i) troupe::send(to, i);
  return troupe::reductions() - before;
}

std::chrono::nanoseconds time_to_send(troupe::pid to, int n) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) troupe::send(to, i);
  return std::chrono::steady_clock::now() - t0;
}

// Sending to a process that falls behind makes the sender wait, longer the
// further behind it is (the BEAM's sender punishment, paid in time: see
// deliver in messaging.cpp), so its mailbox cannot grow unchecked. A lower
// bound only: the waits are at least what the rule gives (here about 32 ms
// over the 20,000 sends).
TEST_P(MessagingTest, SendingToABackloggedReceiverMakesTheSenderWait) {
  const auto [first, later] = rt().run([] {
    const troupe::pid hoarder = spawn_hoarder();
    const std::uint64_t first_reductions = reductions_to_send(hoarder, 1000);
    const auto waited = time_to_send(hoarder, 20'000);
    troupe::send(hoarder, 0.0);
    return std::make_pair(first_reductions, waited);
  });
  EXPECT_EQ(first, 1000u) << "a short queue: one reduction per send, no wait";
  EXPECT_GE(later, std::chrono::milliseconds(20)) << "a long queue: the sender waits";
}

// A process sending to itself cannot wait for itself to catch up: it spends
// reductions instead, so its slice ends sooner.
TEST_P(MessagingTest, SendingToOneselfFarBehindCostsReductions) {
  const std::uint64_t spent = rt().run([] { return reductions_to_send(troupe::self(), 20'000); });
  EXPECT_GT(spent, 500'000u);
}

// The backlog counts what the receiver has taken from its mailbox and not
// consumed yet: right after it took a long batch it is still behind.
TEST_P(MessagingTest, ABatchTakenButNotConsumedStillCountsAsBacklog) {
  const auto waited = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid hoarder = spawn_hoarder();
    for (int i = 0; i < 10'000; ++i) troupe::send(hoarder, i);
    troupe::send(hoarder, ping{me});
    recv<pong>();  // the hoarder has taken all 10,000 ints
    const auto t = time_to_send(hoarder, 2000);  // about 2 ms of waits at a backlog of 10,000-12,000
    troupe::send(hoarder, 0.0);
    return t;
  });
  // With the taken batch left out of the backlog, 2,000 sends stay under
  // long_queue and wait not at all; an ASan run once measured 0.95 ms.
  EXPECT_GE(waited, std::chrono::microseconds(500));
}

}  // namespace
