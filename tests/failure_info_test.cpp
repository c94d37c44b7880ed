// Failure model, introspection and heap limits: process_info, processes,
// max_heap_size (OTP 25's process_info/1,2, processes/0, and the
// max_heap_size process flag).

#include <fmt/format.h>

#include <atomic>
#include <memory_resource>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;
using troupe::process_status;

class FailureInfoTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureInfoTest);

// ---------------------------------------------------------------- status

TEST_P(FailureInfoTest, StatusRunningWaitingAndGone) {
  rt();
  const process_status self_status = rt().run([] { return troupe::process_info(troupe::self())->status; });
  EXPECT_EQ(self_status, process_status::running);

  std::atomic<bool> ready{false};
  const troupe::pid blocked = troupe::spawn([&ready] {
    ready.store(true);
    troupe::receive([](std::string) {});
  });
  const troupe::pid sleeper = troupe::spawn([] { troupe::sleep_for(std::chrono::hours(1)); });
  ASSERT_TRUE(ready.load() || wait_until([&] { return ready.load(); }));
  // From the test thread (outside the runtime).
  EXPECT_TRUE(wait_until([&] {
    const auto i = troupe::process_info(blocked);
    return i && i->status == process_status::waiting;
  }));
  EXPECT_TRUE(wait_until([&] {
    const auto i = troupe::process_info(sleeper);
    return i && i->status == process_status::waiting;
  }));
  EXPECT_EQ(fmt::format("{}", process_status::waiting), "waiting");
  troupe::send(blocked, std::string("done"));
  troupe::exit(sleeper, exit_reason::shutdown());
  EXPECT_TRUE(wait_gone(blocked));
  EXPECT_TRUE(wait_gone(sleeper));
  EXPECT_FALSE(troupe::process_info(blocked).has_value());
  EXPECT_FALSE(troupe::process_info(troupe::pid{}).has_value());
  EXPECT_FALSE(troupe::process_info(troupe::pid(123456, 7)).has_value());
}

TEST(FailureInfoNoRuntime, NothingWithoutARuntime) {
  EXPECT_FALSE(troupe::process_info(troupe::pid(1, 1)).has_value());
  EXPECT_TRUE(troupe::processes().empty());
}

// ---------------------------------------------------------------- message queue

TEST_P(FailureInfoTest, MessageQueueLenCountsUnmatchedMessages) {
  rt();
  std::atomic<bool> ready{false};
  const troupe::pid p = troupe::spawn([&ready] {
    ready.store(true);
    for (;;) {
      const int take = recv<double>() > 0 ? 2 : -1;  // blocked here, with ints piling up
      if (take < 0) return;
      for (int i = 0; i < take; ++i) recv<int>();
    }
  });
  ASSERT_TRUE(wait_until([&] { return ready.load(); }));
  for (int i = 0; i < 5; ++i) troupe::send(p, i);
  EXPECT_TRUE(wait_until([&] {
    const auto info = troupe::process_info(p);
    return info && info->message_queue_len == 5 && info->status == process_status::waiting;
  })) << "queue length " << troupe::process_info(p)->message_queue_len;
  troupe::send(p, 1.0);  // takes the double and two ints
  EXPECT_TRUE(wait_until([&] {
    const auto info = troupe::process_info(p);
    return info && info->message_queue_len == 3 && info->status == process_status::waiting;
  })) << "queue length " << troupe::process_info(p)->message_queue_len;
  troupe::send(p, -1.0);
  EXPECT_TRUE(wait_gone(p));
}

TEST_P(FailureInfoTest, MessageQueueLenOfSelf) {
  const std::size_t n = rt().run([] {
    for (int i = 0; i < 7; ++i) troupe::send(troupe::self(), i);
    troupe::receive([](std::string) {}, troupe::after(std::chrono::milliseconds(0), [] {}));  // looks at all 7
    troupe::send(troupe::self(), 7);  // one more, not looked at yet
    const std::size_t len = troupe::process_info(troupe::self())->message_queue_len;
    drain<int>();
    return len;
  });
  EXPECT_EQ(n, 8u);
}

// ---------------------------------------------------------------- reductions

TEST_P(FailureInfoTest, ReductionsArePositiveAndGrow) {
  struct outcome {
    std::uint64_t first = 0, second = 0, own = 0;
  };
  const outcome o = rt().run([] {
    outcome r;
    troupe::yield();  // a fresh process has spent nothing yet
    r.first = troupe::process_info(troupe::self())->reductions;
    for (int i = 0; i < 100; ++i) troupe::send(troupe::self(), i);
    drain<int>();
    r.second = troupe::process_info(troupe::self())->reductions;
    r.own = troupe::reductions();
    return r;
  });
  EXPECT_GT(o.first, 0u);
  EXPECT_GT(o.second, o.first + 100) << "100 sends and 100 receives";
  EXPECT_GE(o.own, o.second);
}

TEST_P(FailureInfoTest, ReductionsOfAnotherProcessFromTheTestThread) {
  rt();
  std::atomic<int> phase{0};
  const troupe::pid p = troupe::spawn([&phase] {
    for (int i = 0; i < 50; ++i) troupe::yield();
    phase.store(1);
    recv<std::string>();
    for (int i = 0; i < 5'000; ++i) troupe::consume_reductions(1);
    phase.store(2);
    recv<std::string>();
  });
  ASSERT_TRUE(wait_until([&] { return phase.load() == 1; }));
  ASSERT_TRUE(wait_until([&] { return troupe::process_info(p)->status == process_status::waiting; }));
  const std::uint64_t a = troupe::process_info(p)->reductions;
  troupe::send(p, std::string("work"));
  ASSERT_TRUE(wait_until([&] { return phase.load() == 2; }));
  ASSERT_TRUE(wait_until([&] { return troupe::process_info(p)->status == process_status::waiting; }));
  const std::uint64_t b = troupe::process_info(p)->reductions;
  troupe::send(p, std::string("done"));
  EXPECT_GE(a, 50u);
  EXPECT_GE(b, a + 5'000);
  EXPECT_TRUE(wait_gone(p));
}

// ---------------------------------------------------------------- heap

TEST_P(FailureInfoTest, HeapBytesTrackHeapAllocations) {
  struct outcome {
    std::size_t before = 0, during = 0, after = 0, own = 0;
    std::size_t vec = 0;
  };
  const outcome o = rt().run([] {
    outcome r;
    r.before = troupe::process_info(troupe::self())->heap_bytes;
    std::pmr::memory_resource* h = troupe::heap();
    void* block = h->allocate(10'000, 16);
    r.during = troupe::process_info(troupe::self())->heap_bytes;
    r.own = troupe::heap_bytes();
    h->deallocate(block, 10'000, 16);
    r.after = troupe::process_info(troupe::self())->heap_bytes;
    {
      std::pmr::vector<char> v(troupe::heap());
      v.resize(50'000);
      r.vec = troupe::process_info(troupe::self())->heap_bytes;
    }
    return r;
  });
  EXPECT_EQ(o.during, o.before + 10'000);
  EXPECT_EQ(o.own, o.during);
  EXPECT_EQ(o.after, o.before);
  EXPECT_GE(o.vec, o.before + 50'000);
}

TEST_P(FailureInfoTest, HeapBytesOfABlockedProcessFromTheTestThread) {
  rt();
  std::atomic<bool> ready{false};
  const troupe::pid p = troupe::spawn([&ready] {
    std::pmr::vector<char> v(1 << 20, 'x', troupe::heap());
    ready.store(true);
    recv<std::string>();
  });
  ASSERT_TRUE(wait_until([&] { return ready.load(); }));
  const auto info = troupe::process_info(p);
  ASSERT_TRUE(info.has_value());
  EXPECT_GE(info->heap_bytes, std::size_t{1} << 20);
  troupe::send(p, std::string("done"));
  EXPECT_TRUE(wait_gone(p));
}

// ---------------------------------------------------------------- stacks

TEST_P(FailureInfoTest, StackSizeReflectsTheSpawnOption) {
  rt();
  auto blocked = [](troupe::spawn_options o) {
    o.link = false;
    return troupe::spawn(o, [] { recv<std::string>(); });
  };
  const troupe::pid d = blocked({});
  const troupe::pid big = blocked({.stack_size = 1 << 20});
  const troupe::pid mid = blocked({.stack_size = 200 * 1024});  // rounded up to a power of two
  const troupe::pid tiny = blocked({.stack_size = 1});           // rounded up to the minimum
  std::vector<troupe::pid> all{d, big, mid, tiny};
  for (troupe::pid p : all) {
    ASSERT_TRUE(wait_until([&] { return troupe::process_info(p)->status == process_status::waiting; }));
  }
  EXPECT_EQ(troupe::process_info(d)->stack_size, troupe::default_stack_size);
  EXPECT_EQ(troupe::process_info(d)->stack_size, 64u * 1024);
  EXPECT_EQ(troupe::process_info(big)->stack_size, 1u << 20);
  EXPECT_EQ(troupe::process_info(mid)->stack_size, 256u * 1024);
  EXPECT_EQ(troupe::process_info(tiny)->stack_size, 16u * 1024);
  for (troupe::pid p : all) troupe::send(p, std::string("done"));
  for (troupe::pid p : all) EXPECT_TRUE(wait_gone(p));
}

// ---------------------------------------------------------------- links, monitors, name, trap_exit

TEST_P(FailureInfoTest, LinksMonitorsNameAndTrapExitFromTheTestThread) {
  rt();
  std::atomic<int> ready{0};
  const troupe::pid a = troupe::spawn([&ready] {
    troupe::trap_exit(true);
    ready.fetch_add(1);
    recv<std::string>();
  });
  const troupe::pid b = troupe::spawn([&ready, a] {
    troupe::link(a);
    troupe::monitor(a);
    troupe::monitor(a);
    troupe::register_name("info-b", troupe::self());
    ready.fetch_add(1);
    recv<std::string>();
  });
  ASSERT_TRUE(wait_until([&] { return ready.load() == 2; }));
  const auto ia = troupe::process_info(a);
  const auto ib = troupe::process_info(b);
  ASSERT_TRUE(ia && ib);
  EXPECT_EQ(ia->links, std::vector<troupe::pid>{b});
  EXPECT_EQ(ib->links, std::vector<troupe::pid>{a});
  EXPECT_TRUE(ia->monitors.empty());
  EXPECT_EQ(ia->monitored_by, (std::vector<troupe::pid>{b, b}));
  EXPECT_EQ(ib->monitors, (std::vector<troupe::pid>{a, a}));
  EXPECT_TRUE(ib->monitored_by.empty());
  EXPECT_EQ(ia->registered_name, std::nullopt);
  EXPECT_EQ(ib->registered_name, std::optional<std::string>("info-b"));
  EXPECT_TRUE(ia->trap_exit);
  EXPECT_FALSE(ib->trap_exit);
  // b ends normally: a (trapping) gets an exit message and stays; its links
  // and monitored_by empty out.
  troupe::send(b, std::string("done"));
  ASSERT_TRUE(wait_gone(b));
  // b's exit signal reaches a after b is gone: a drops the link when it
  // takes the signal, on its own scheduler (TSan caught the test asking first).
  EXPECT_TRUE(wait_until([&] {
    const auto after = troupe::process_info(a);
    return after && after->links.empty() && after->monitored_by.empty();
  }));
  EXPECT_EQ(troupe::whereis("info-b"), troupe::pid{});
  troupe::send(a, std::string("done"));
  EXPECT_TRUE(wait_gone(a));
}

// ---------------------------------------------------------------- processes()

TEST_P(FailureInfoTest, ProcessesListsEveryLiveProcess) {
  constexpr int n = 100;
  rt();
  std::atomic<int> ready{0};
  std::vector<troupe::pid> ps;
  for (int i = 0; i < n; ++i) {
    ps.push_back(troupe::spawn([&ready] {
      ready.fetch_add(1);
      recv<std::string>();
    }));
  }
  ASSERT_TRUE(wait_until([&] { return ready.load() == n; }));
  const std::vector<troupe::pid> live = troupe::processes();
  EXPECT_EQ(live.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(live.size(), rt().process_count());
  int found = 0;
  for (troupe::pid p : ps) found += contains(live, p);
  EXPECT_EQ(found, n);
  // From inside a process: the caller is listed too.
  const bool self_listed = rt().run([] { return contains(troupe::processes(), troupe::self()); });
  EXPECT_TRUE(self_listed);
  for (troupe::pid p : ps) troupe::send(p, std::string("done"));
  rt().wait_idle();
  const std::vector<troupe::pid> after = troupe::processes();
  int still = 0;
  for (troupe::pid p : ps) still += contains(after, p);
  EXPECT_EQ(still, 0);
  EXPECT_TRUE(after.empty());
}

// process_info and processes() from plain threads while processes come and
// go (and their slots are reused): never a crash, never a snapshot of the
// wrong process.
TEST_P(FailureInfoTest, InfoIsSafeWhileProcessesChurn) {
  log_capture quiet;
  rt();
  std::atomic<bool> stop{false};
  std::atomic<long> looks{0}, mismatched{0};
  auto looker = [&] {
    while (!stop.load()) {
      for (troupe::pid p : troupe::processes()) {
        if (auto i = troupe::process_info(p)) {
          // A process is never linked to itself, and a named one here always
          // bears the name of its own index.
          mismatched += contains(i->links, p);
          if (i->registered_name && *i->registered_name != fmt::format("churn-{}", p.index())) ++mismatched;
        }
        ++looks;
      }
    }
  };
  std::thread t1(looker), t2(looker);
  rt().run([] {
    std::mt19937 rng(42);
    for (int round = 0; round < stress_work(20); ++round) {
      std::vector<troupe::monitor_ref> refs;
      for (int i = 0; i < 200; ++i) {
        const int how = static_cast<int>(rng() % 3);
        refs.push_back(troupe::spawn_monitor([how] {
                         troupe::register_name(fmt::format("churn-{}", troupe::self().index()), troupe::self());
                         if (how == 0) return;
                         troupe::spawn_link([] { troupe::receive([](double) {}); });
                         if (how == 1) throw std::runtime_error("churn");
                         troupe::exit(exit_reason::kill());
                       }).second);
      }
      for (auto ref : refs) recv_down(ref);
    }
  });
  rt().wait_idle();
  stop.store(true);
  t1.join();
  t2.join();
  EXPECT_GT(looks.load(), 0);
  EXPECT_EQ(mismatched.load(), 0);
}

// ---------------------------------------------------------------- max_heap_size

TEST_P(FailureInfoTest, ProcessOutgrowingMaxHeapSizeIsKilled) {
  log_capture logs;
  struct outcome {
    exit_reason down;
    troupe::pid who;
    int allocations = 0;
  };
  std::atomic<int> allocations{0};
  const outcome o = rt().run([&allocations] {
    outcome r;
    troupe::spawn_options opts;
    opts.max_heap_size = 64 * 1024;
    troupe::monitor_ref ref;
    std::tie(r.who, ref) = troupe::spawn_monitor(opts, [&allocations] {
      stack_probe probe;
      std::pmr::memory_resource* h = troupe::heap();
      for (;;) {
        (void)h->allocate(4096, 16);  // never freed: the heap goes with the process
        allocations.fetch_add(1);
      }
    });
    r.down = recv_down(ref).reason;
    return r;
  });
  rt().wait_idle();
  EXPECT_TRUE(o.down.is(kind::max_heap_size)) << fmt::format("{}", o.down);
  EXPECT_EQ(fmt::format("{}", o.down), "max_heap_size");
  EXPECT_EQ(allocations.load(), 16) << "64 KiB holds sixteen 4 KiB blocks, no more";
  EXPECT_EQ(logs.sink().count_containing("max_heap_size"), 1u);
  EXPECT_EQ(logs.sink().count_containing(fmt::format("{}", o.who)), 1u);
  EXPECT_EQ(stack_probe::live.load(), probes_base()) << "the killed process was unwound";
}

TEST_P(FailureInfoTest, MaxHeapSizeCountsLiveBytesOnly) {
  const bool ok = rt().run([] {
    troupe::spawn_options opts;
    opts.max_heap_size = 64 * 1024;
    const troupe::monitor_ref ref = troupe::spawn_monitor(opts, [] {
      std::pmr::memory_resource* h = troupe::heap();
      for (int i = 0; i < 1'000; ++i) {  // 40 MB in all, 40 KB at a time
        void* b = h->allocate(40 * 1024, 16);
        h->deallocate(b, 40 * 1024, 16);
      }
      void* exact = h->allocate(64 * 1024, 16);  // exactly the limit is allowed
      h->deallocate(exact, 64 * 1024, 16);
    }).second;
    return recv_down(ref).reason.is_normal();
  });
  EXPECT_TRUE(ok);
}

TEST_P(FailureInfoTest, MaxHeapSizeWithPmrContainersAndLinks) {
  log_capture quiet;
  struct outcome {
    exit_reason down, trapped;
  };
  const outcome o = rt().run([] {
    troupe::trap_exit(true);
    troupe::spawn_options opts;
    opts.max_heap_size = 1 << 20;
    opts.link = true;
    const troupe::pid p = troupe::spawn(opts, [] {
      std::pmr::vector<int> v(troupe::heap());
      for (int i = 0;; ++i) v.push_back(i);
    });
    const auto ref = troupe::monitor(p);  // may already be dead: then noproc
    outcome r;
    r.trapped = recv_exit_from(p).reason;
    r.down = recv_down(ref).reason;
    return r;
  });
  rt().wait_idle();
  EXPECT_TRUE(o.trapped.is(kind::max_heap_size)) << fmt::format("{}", o.trapped);
  EXPECT_TRUE(o.down.is(kind::max_heap_size) || o.down.is(kind::noproc)) << fmt::format("{}", o.down);
}

}  // namespace
