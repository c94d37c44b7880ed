// Runtime and process lifecycle: run(), one runtime at a time, calls without a
// runtime, crashes, shutdown with live processes, many live processes, stack
// sizes, the process table's capacity.

#include <fmt/format.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;

class LifecycleTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(LifecycleTest);

// ---------------------------------------------------------------- run()

TEST_P(LifecycleTest, RunReturnsTheResultOfTheRootProcess) {
  EXPECT_EQ(rt().run([] { return 42; }), 42);
  EXPECT_EQ(rt().run([](int a, std::string b) { return b + std::to_string(a); }, 7, std::string("x")), "x7");
  auto p = rt().run([](std::unique_ptr<int> v) { return std::move(v); }, std::make_unique<int>(3));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 3);
  bool ran = false;
  rt().run([&ran] { ran = troupe::in_process(); });
  EXPECT_TRUE(ran);
}

TEST_P(LifecycleTest, RunRethrowsTheRootProcessException) {
  log_capture quiet;
  EXPECT_THROW(rt().run([]() -> int { throw std::out_of_range("root failed"); }), std::out_of_range);
  // The runtime is still usable.
  EXPECT_EQ(rt().run([] { return 1; }), 1);
}

// ---------------------------------------------------------------- one runtime at a time

TEST_P(LifecycleTest, SecondRuntimeWhileOneExistsThrowsLogicError) {
  rt();
  EXPECT_THROW(troupe::runtime second(default_options()), std::logic_error);
  EXPECT_THROW(troupe::runtime second, std::logic_error);
  // The first one is unaffected.
  EXPECT_EQ(rt().run([] { return 5; }), 5);
}

TEST(Runtime, SequentialRuntimes) {
  for (unsigned i = 1; i <= 3; ++i) {
    troupe::runtime r({.schedulers = i});
    EXPECT_EQ(r.schedulers(), i);
    EXPECT_EQ(r.run([i] { return i * 10; }), i * 10);
  }
}

TEST(Runtime, DefaultSchedulerCountIsOnePerCore) {
  troupe::runtime r;
  EXPECT_EQ(r.schedulers(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(Runtime, CallsWithoutARuntime) {
  EXPECT_THROW(troupe::spawn([] {}), std::logic_error);
  EXPECT_THROW(troupe::send_after(troupe::pid(1, 1), 1ms, 1), std::logic_error);
  EXPECT_THROW(troupe::receive<int>(), std::logic_error);
  const long before = tracked::live.load();
  troupe::send(troupe::pid(1, 1), tracked(1));  // a silent no-op
  EXPECT_EQ(tracked::live.load(), before);
  EXPECT_EQ(troupe::self(), troupe::pid{});
  EXPECT_FALSE(troupe::in_process());
  EXPECT_EQ(troupe::reductions(), 0u);
  EXPECT_EQ(troupe::heap(), std::pmr::new_delete_resource());
  EXPECT_EQ(troupe::heap_bytes(), 0u);
}

// ---------------------------------------------------------------- crashes

// One process throws while 10,000 others are alive and working: they all
// still answer, and the crash is logged with the exception's message.
TEST_P(LifecycleTest, ExceptionEndsOnlyTheProcessThatThrew) {
  constexpr int workers = live_processes(10'000);
  log_capture logs;
  struct outcome {
    int replies = 0;
    troupe::pid crasher;
  };
  const outcome out = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ws;
    troupe::pid crasher;
    for (int i = 0; i < workers; ++i) {
      ws.push_back(troupe::spawn([root] {
        for (int round = 0; round < 2; ++round) {
          const int n = recv<int>();
          troupe::send(root, n + 1);
        }
      }));
      if (i == workers / 2) {
        crasher = troupe::spawn([] {
          stack_probe on_stack;
          throw std::runtime_error("boom-from-the-crasher");
        });
      }
    }
    outcome o;
    o.crasher = crasher;
    for (int round = 0; round < 2; ++round) {
      for (troupe::pid w : ws) troupe::send(w, round);
      for (int i = 0; i < workers; ++i) o.replies += recv<int>() == round + 1;
    }
    return o;
  });
  EXPECT_EQ(out.replies, 2 * workers);
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  EXPECT_EQ(logs.sink().count_containing("boom-from-the-crasher"), 1u);
  // (Its crash report; a long_schedule warning on a loaded machine may name it too.)
  EXPECT_EQ(logs.sink().count_containing(fmt::format("CRASH REPORT process {}", out.crasher)), 1u)
      << "the report names the process";
  EXPECT_EQ(stack_probe::live.load(), probes_base()) << "the crashed process's stack was not unwound";
}

TEST_P(LifecycleTest, EveryCrashIsReportedOnce) {
  constexpr int n = 100;
  log_capture logs;
  rt();
  for (int i = 0; i < n; ++i) {
    if (i % 2) {
      troupe::spawn([i] { throw std::invalid_argument("bad-" + std::to_string(i)); });
    } else {
      troupe::spawn([] { throw 42; });  // not a std::exception
    }
  }
  rt().wait_idle();
  const auto lines = logs.sink().lines();
  EXPECT_EQ(lines.size(), static_cast<std::size_t>(n));
  for (int i = 1; i < n; i += 2) {
    // The reason prints what() in quotes, so "bad-1" does not match bad-11.
    const std::string quoted = "\"bad-" + std::to_string(i) + "\"";
    EXPECT_EQ(logs.sink().count_containing(quoted), 1u) << quoted;
  }
  EXPECT_EQ(logs.sink().count_containing("{exception,int,"), static_cast<std::size_t>(n / 2));  // any type is named
  EXPECT_EQ(logs.sink().count_containing("invalid_argument"), static_cast<std::size_t>(n / 2));
}

TEST_P(LifecycleTest, ACrashedProcessIsGoneAndItsMailboxFreed) {
  log_capture quiet;
  const troupe::pid victim = rt().run([] {
    const troupe::pid root = troupe::self();
    const troupe::pid v = troupe::spawn([root] {
      troupe::send(root, std::string("ready"));
      recv<int>();
      throw std::runtime_error("told to crash");
    });
    recv<std::string>();
    for (int i = 0; i < 10; ++i) troupe::send(v, tracked(i));  // never received
    troupe::send(v, 0);
    return v;
  });
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == 0; }));
  EXPECT_EQ(tracked::live.load(), tracked_base());
  troupe::send(victim, tracked(1));  // to the dead pid: dropped
  EXPECT_EQ(tracked::live.load(), tracked_base());
  EXPECT_EQ(quiet.sink().count_containing("told to crash"), 1u);
}

// ---------------------------------------------------------------- shutdown

// Destroying the runtime with 1,000 processes blocked in receive unwinds them
// (their stack objects are destroyed) and frees the messages in their mailboxes.
TEST_P(LifecycleTest, ShutdownUnwindsProcessesBlockedInReceive) {
  constexpr int n = 1'000;
  std::atomic<int> unwound{0};
  rt().run([&unwound] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ps;
    for (int i = 0; i < n; ++i) {
      ps.push_back(troupe::spawn([root, &unwound] {
        stack_probe on_stack;
        struct on_unwind {
          std::atomic<int>& c;
          ~on_unwind() { c.fetch_add(1); }
        } mark{unwound};
        troupe::send(root, std::string("ready"));
        troupe::receive([](double) {});  // never comes
      }));
    }
    for (int i = 0; i < n; ++i) recv<std::string>();
    for (troupe::pid p : ps) {
      troupe::send(p, tracked(1));  // not what they wait for: stays in the mailbox
      troupe::send(p, tracked(2));
    }
  });
  // run() returns as the root process finishes; wait until it is gone.
  ASSERT_TRUE(wait_until([&] { return rt().process_count() == static_cast<std::size_t>(n); }));
  EXPECT_EQ(stack_probe::live.load(), probes_base() + n);
  EXPECT_EQ(tracked::live.load(), tracked_base() + 2 * n);
  expect_processes_left();
  stop_runtime();
  EXPECT_EQ(unwound.load(), n);
  EXPECT_EQ(stack_probe::live.load(), probes_base()) << "destructors on blocked processes' stacks did not run";
  EXPECT_EQ(tracked::live.load(), tracked_base()) << "messages left in mailboxes were not freed";
}

TEST_P(LifecycleTest, ShutdownStopsSleepingWaitingAndLoopingProcesses) {
  rt();
  std::atomic<int> started{0};
  for (int i = 0; i < 20; ++i) {
    troupe::spawn([&started] {  // sleeping
      stack_probe p;
      started.fetch_add(1);
      troupe::sleep_for(1h);
    });
    troupe::spawn([&started] {  // waiting with a long timeout
      stack_probe p;
      started.fetch_add(1);
      (void)troupe::receive_for<int>(1h);
    });
    troupe::spawn([&started] {  // busy, yielding
      stack_probe p;
      started.fetch_add(1);
      for (;;) troupe::yield();
    });
    troupe::spawn([&started] {  // busy, charging reductions
      stack_probe p;
      started.fetch_add(1);
      for (;;) troupe::consume_reductions(1);
    });
  }
  ASSERT_TRUE(wait_until([&] { return started.load() == 80; }));
  expect_processes_left();
  stop_runtime();  // must return
  EXPECT_EQ(stack_probe::live.load(), probes_base());
}

// Processes spawned just before shutdown may never have run: their closures
// (and what they captured) and their messages are freed all the same.
TEST_P(LifecycleTest, ShutdownFreesProcessesThatNeverRan) {
  rt();
  for (int i = 0; i < 1'000; ++i) {
    const troupe::pid p = troupe::spawn([probe = stack_probe()] { troupe::receive([](double) {}); });
    troupe::send(p, tracked(i));
  }
  expect_processes_left();
  stop_runtime();
  EXPECT_EQ(stack_probe::live.load(), probes_base());
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

TEST_P(LifecycleTest, ClosuresAreDestroyedWhenProcessesEnd) {
  rt();
  for (int i = 0; i < 100; ++i) troupe::spawn([probe = stack_probe(), msg = tracked(i)] {});
  rt().wait_idle();
  EXPECT_EQ(stack_probe::live.load(), probes_base());
  EXPECT_EQ(tracked::live.load(), tracked_base());
}

// While the runtime shuts down, unwinding processes run destructors that send
// and spawn (an RAII "notify on exit" guard is a common pattern). Shutdown must
// not end the program. Run in a child process (death-test machinery), so a
// std::terminate fails this test only.
class ShutdownDeathTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(ShutdownDeathTest);

void shutdown_with_destructors_calling_the_runtime(unsigned schedulers) {
  constexpr int n = 200;
  const long probes0 = stack_probe::live.load();
  const long tracked0 = tracked::live.load();
  {
    troupe::runtime r({.schedulers = schedulers});
    std::atomic<int> ready{0};
    const troupe::pid watcher = troupe::spawn([] { troupe::receive([](double) {}); });
    for (int i = 0; i < n; ++i) {
      troupe::spawn([&ready, watcher] {
        struct notify_on_exit {
          troupe::pid to;
          ~notify_on_exit() {
            troupe::send(to, tracked(1));
            troupe::spawn([probe = stack_probe()] { troupe::receive([](double) {}); });
          }
        } guard{watcher};
        ready.fetch_add(1);
        troupe::receive([](double) {});
      });
    }
    while (ready.load() < n) std::this_thread::sleep_for(1ms);
  }
  const bool clean = stack_probe::live.load() == probes0 && tracked::live.load() == tracked0;
  std::fprintf(stderr, "shutdown finished%s\n", clean ? "" : " but leaked");
  std::exit(clean ? 0 : 1);
}

TEST_P(ShutdownDeathTest, DestructorsMaySendAndSpawnWhileProcessesAreUnwound) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(shutdown_with_destructors_calling_the_runtime(schedulers()), ::testing::ExitedWithCode(0),
              "shutdown finished\n");
}

// ---------------------------------------------------------------- many processes

TEST_P(LifecycleTest, HundredThousandProcessesBlockedInReceiveAtOnce) {
  constexpr int n = live_processes(100'000);
  troupe::runtime* const r = &rt();
  struct outcome {
    std::size_t alive_at_peak = 0;
    long long sum = 0;
    int replies = 0;
  };
  const outcome out = r->run([r] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ps;
    ps.reserve(n);
    for (int i = 0; i < n; ++i) {
      ps.push_back(troupe::spawn([root] {
        const int x = troupe::receive([](int v) { return v; });
        troupe::send(root, x + 1);
      }));
    }
    outcome o;
    o.alive_at_peak = r->process_count();  // none can have exited yet
    for (int i = 0; i < n; ++i) troupe::send(ps[i], i);
    for (int i = 0; i < n; ++i) {
      o.sum += recv<int>();
      ++o.replies;
    }
    return o;
  });
  EXPECT_EQ(out.alive_at_peak, static_cast<std::size_t>(n) + 1);
  EXPECT_EQ(out.replies, n);
  EXPECT_EQ(out.sum, static_cast<long long>(n) * (n + 1) / 2);
}

// ---------------------------------------------------------------- stacks

// Recursion with a 4 KiB frame, touching every frame; returns how far the
// stack reached (bytes between the outermost and innermost frame).
__attribute__((noinline)) std::size_t dig(int depth, const volatile char* top) {
  volatile char frame[4096];
  for (std::size_t i = 0; i < sizeof(frame); i += 512) frame[i] = static_cast<char>(depth);
  frame[sizeof(frame) - 1] = 1;
  std::size_t reach = static_cast<std::size_t>(top - frame);
  if (depth > 0) reach = dig(depth - 1, top);
  return reach + static_cast<std::size_t>(frame[0] & 0);  // keeps the frame alive across the call
}

std::size_t use_stack(std::size_t bytes) {
  volatile char top = 0;
  return dig(static_cast<int>(bytes / 4096), &top);
}

TEST_P(LifecycleTest, LargerStackSizeAllowsDeepStacks) {
  const auto reached = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn(troupe::spawn_options{.stack_size = 1 << 20}, [root] { troupe::send(root, use_stack(512 * 1024)); });
    // Above the pooled sizes: a dedicated mapping.
    troupe::spawn(troupe::spawn_options{.stack_size = 8 << 20}, [root] { troupe::send(root, use_stack(6 << 20)); });
    return std::make_pair(recv<std::size_t>(), recv<std::size_t>());
  });
  const auto [a, b] = std::minmax(reached.first, reached.second);
  EXPECT_GE(a, 512u * 1024);
  EXPECT_GE(b, 6u << 20);
}

TEST_P(LifecycleTest, DefaultStackHoldsModestFrames) {
  const std::size_t reached = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn([root] { troupe::send(root, use_stack(24 * 1024)); });
    return recv<std::size_t>();
  });
  EXPECT_GE(reached, 24u * 1024);
}

TEST_P(LifecycleTest, TinyStackSizeIsRoundedUpToTheMinimum) {
  const std::size_t reached = rt().run([] {
    const troupe::pid root = troupe::self();
    troupe::spawn(troupe::spawn_options{.stack_size = 0}, [root] { troupe::send(root, use_stack(4 * 1024)); });
    return recv<std::size_t>();
  });
  EXPECT_GE(reached, 4u * 1024);
}

TEST_P(LifecycleTest, ManyProcessesWithLargeStacks) {
  // 200 processes with 1 MiB of stack each, alive at once, each using 256 KiB.
  constexpr int n = 200;
  const int ok = rt().run([] {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ps;
    for (int i = 0; i < n; ++i) {
      ps.push_back(troupe::spawn(troupe::spawn_options{.stack_size = 1 << 20}, [root] {
        const std::size_t r = use_stack(256 * 1024);
        recv<int>();
        troupe::send(root, r >= 256 * 1024);
      }));
    }
    for (troupe::pid p : ps) troupe::send(p, 0);
    int good = 0;
    for (int i = 0; i < n; ++i) good += recv<bool>();
    return good;
  });
  EXPECT_EQ(ok, n);
}

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer. Process stacks are unmapped when the runtime goes
// away, but ASan keeps their shadow: redzones of frames that never returned
// (a process switches away for good when it exits) would stay poisoned, and
// whatever is mapped there next (another runtime's stacks, its process table,
// user memory) would raise false reports. The runtime must unpoison its
// stacks before it lets them go.
TEST_P(LifecycleTest, StacksLeaveNoAsanPoisonBehind) {
  constexpr int n = 2'000;
  std::vector<std::uintptr_t> spots;
  rt().run([&spots] {
    const troupe::pid root = troupe::self();
    for (int i = 0; i < n; ++i) {
      const auto opts = troupe::spawn_options{.stack_size = i % 2 ? std::size_t{64} << 10 : std::size_t{2} << 20};
      troupe::spawn(opts, [root, i] {
        volatile char here = 0;
        troupe::send(root, reinterpret_cast<std::uintptr_t>(&here));
        if (i % 3 == 0) troupe::receive([](double) {});  // still blocked at shutdown
      });
    }
    for (int i = 0; i < n; ++i) spots.push_back(recv<std::uintptr_t>());
  });
  expect_processes_left();
  stop_runtime();
  int poisoned = 0;
  for (std::uintptr_t a : spots) {
    // Around a spot that was on a process stack: from 4 KiB below it up to
    // 2 KiB above (the frames above it, up to the top of the stack).
    poisoned += __asan_region_is_poisoned(reinterpret_cast<void*>(a - 4096), 4096 + 2048) != nullptr;
  }
  EXPECT_EQ(poisoned, 0) << "of " << n << " released stacks still carry ASan poison";
}
#endif

// ---------------------------------------------------------------- process table

// max_processes is "the most processes alive at once": a process must be able
// to spawn children well within it.
TEST_P(LifecycleTest, SmallProcessTableAllowsSpawningFromAProcess) {
  troupe::runtime_options o = default_options();
  o.max_processes = 100;
  auto& r = start(o);
  const std::string error = r.run([]() -> std::string {
    const troupe::pid root = troupe::self();
    std::vector<troupe::pid> ps;
    try {
      for (int i = 0; i < 50; ++i) ps.push_back(troupe::spawn([] { troupe::receive([](int) {}); }));
    } catch (const std::system_error& e) {
      for (troupe::pid p : ps) troupe::send(p, 0);
      return fmt::format("spawn #{} failed with {} process(es) alive: {}", ps.size() + 1, ps.size() + 1, e.what());
    }
    for (troupe::pid p : ps) troupe::send(p, 0);
    (void)root;
    return {};
  });
  EXPECT_EQ(error, "");
}

TEST_P(LifecycleTest, SpawningBeyondMaxProcessesThrowsSystemError) {
  troupe::runtime_options o = default_options();
  o.max_processes = 300;
  auto& r = start(o);
  std::vector<troupe::pid> ps;
  for (int i = 0; i < 300; ++i) ps.push_back(troupe::spawn([] { troupe::receive([](int) {}); }));
  EXPECT_EQ(r.process_count(), 300u);
  EXPECT_THROW(troupe::spawn([] {}), std::system_error);
  EXPECT_EQ(r.process_count(), 300u);
  for (troupe::pid p : ps) troupe::send(p, 0);
  r.wait_idle();
}

// Spawning from a plain thread, one process alive at a time, many more times
// than the table has slots: exited processes' slots must be reused.
TEST_P(LifecycleTest, SlotsAreReusedForSpawnsFromAPlainThread) {
  troupe::runtime_options o = default_options();
  o.max_processes = 500;
  auto& r = start(o);
  int spawned = 0;
  std::string error;
  try {
    for (; spawned < 2'000; ++spawned) {
      std::promise<void> done;
      auto f = done.get_future();
      troupe::spawn([&done] { done.set_value(); });
      ASSERT_EQ(f.wait_for(hang_timeout), std::future_status::ready);
      r.wait_idle();
    }
  } catch (const std::system_error& e) {
    error = e.what();
  }
  EXPECT_EQ(spawned, 2'000) << "with at most one process alive: " << error;
}

}  // namespace
