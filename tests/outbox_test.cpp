// Messages to a receiver that is behind go over in batches (the scheduler's
// outbox) and a sender far behind waits: what must hold regardless. Each
// receiver here waits for a `go` before it consumes, so that its backlog
// passes the point where batching starts.

#include <chrono>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class OutboxTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(OutboxTest);

struct go {
  troupe::pid from;
};
struct numbered {
  int sender;
  int seq;
};
struct tally {
  std::vector<int> per_sender_count;
  bool in_order = true;
};

// Waits for go, then takes `total` numbered messages, checking each sender's
// order, and reports to go's sender.
troupe::pid spawn_checker(int senders, int total) {
  return troupe::spawn([senders, total] {
    const troupe::pid report_to = recv<go>().from;
    tally t;
    t.per_sender_count.assign(static_cast<std::size_t>(senders), 0);
    for (int i = 0; i < total; ++i) {
      const numbered m = recv<numbered>();
      int& seen = t.per_sender_count[static_cast<std::size_t>(m.sender)];
      if (m.seq != seen) t.in_order = false;
      ++seen;
    }
    troupe::send(report_to, t);
  });
}

TEST_P(OutboxTest, EachSendersOrderHoldsWhenItsMessagesGoInBatches) {
  constexpr int senders = 8, each = 3000;
  const tally t = rt().run([] {
    const troupe::pid checker = spawn_checker(senders, senders * each);
    const troupe::pid me = troupe::self();
    for (int s = 0; s < senders; ++s) {
      troupe::spawn([=] {
        for (int i = 0; i < each; ++i) {
          troupe::send(checker, numbered{s, i});
          if (i % 500 == 0) troupe::yield();  // move between schedulers midway
        }
        troupe::send(me, 0);
      });
    }
    for (int s = 0; s < senders; ++s) recv<int>();
    troupe::send(checker, go{me});
    return recv<tally>();
  });
  EXPECT_TRUE(t.in_order);
  for (int n : t.per_sender_count) EXPECT_EQ(n, each);
}

// A signal goes behind the messages its sender sent before it: the exit
// signal a trapping receiver gets is its last message.
TEST_P(OutboxTest, AnExitSignalStaysBehindTheMessagesSentBeforeIt) {
  constexpr int n = 1000;
  const int before_exit = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid receiver = troupe::spawn([me] {
      troupe::trap_exit(true);
      troupe::send(me, go{troupe::self()});
      const troupe::pid report_to = recv<go>().from;
      int ints = 0;
      for (bool exited = false; !exited;) {
        troupe::receive([&](int) { ++ints; }, [&](const troupe::exit_message&) { exited = true; });
      }
      troupe::send(report_to, ints);
    });
    recv<go>();  // it traps exits
    for (int i = 0; i < n; ++i) troupe::send(receiver, i);
    troupe::exit(receiver, troupe::exit_reason::user("after"));
    troupe::send(receiver, go{me});  // it takes the rest in their order of arrival
    return recv<int>();
  });
  EXPECT_EQ(before_exit, n);
}

// process_info of a receiver counts what the caller has just sent it (in
// OTP, process_info is a signal behind the caller's messages).
TEST_P(OutboxTest, ProcessInfoCountsEverythingTheCallerSent) {
  constexpr int n = 1000;
  const std::size_t len = rt().run([] {
    const troupe::pid hoarder = troupe::spawn([] { recv<go>(); });
    for (int i = 0; i < n; ++i) troupe::send(hoarder, i);
    const std::size_t queued = troupe::process_info(hoarder)->message_queue_len;
    troupe::send(hoarder, go{});
    return queued;
  });
  EXPECT_EQ(len, static_cast<std::size_t>(n));
}

// A process's own receive sees what it sent itself, however long its queue.
TEST_P(OutboxTest, MessagesToSelfAreNeverHeldBack) {
  const bool found = rt().run([] {
    for (int i = 0; i < 1000; ++i) troupe::send(troupe::self(), i);
    troupe::send(troupe::self(), 0.5);
    return troupe::receive([](double) { return true; }, troupe::after(std::chrono::milliseconds(0), [] { return false; }));
  });
  EXPECT_TRUE(found);
}

// What a sender still held back when it ended reaches the receiver.
TEST_P(OutboxTest, ASenderThatEndsRightAfterSendingLosesNothing) {
  constexpr int n = 1000;
  const int got = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid counter = troupe::spawn([] {
      const troupe::pid report_to = recv<go>().from;
      troupe::send(report_to, static_cast<int>(drain<int>().size()));
    });
    const troupe::pid sender = troupe::spawn([counter] {
      for (int i = 0; i < n; ++i) troupe::send(counter, i);
    });
    wait_gone(sender);
    troupe::send(counter, go{me});
    return recv<int>();
  });
  EXPECT_EQ(got, n);
}

// A sender that waits for an answer gets it: what it held back went over
// when it started waiting.
TEST_P(OutboxTest, ASenderThatWaitsForAnAnswerToItsLastMessageGetsIt) {
  const bool answered = rt().run([] {
    const troupe::pid me = troupe::self();
    const troupe::pid echo = troupe::spawn([] {
      recv<go>();
      for (;;) {
        const auto m = recv<numbered>();
        if (m.seq < 0) break;
      }
      troupe::send(recv<go>().from, true);
    });
    for (int i = 0; i < 999; ++i) troupe::send(echo, numbered{0, i});
    troupe::send(echo, go{me});
    troupe::send(echo, numbered{0, -1});
    troupe::send(echo, go{me});
    return troupe::receive([](bool b) { return b; }, troupe::after(std::chrono::seconds(30), [] { return false; }));
  });
  EXPECT_TRUE(answered);
}

}  // namespace
