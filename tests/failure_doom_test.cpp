// A process told to exit ends, whatever its code does about it: kill through
// `catch (...)`, exit signals during unwinding and in destructors, waits in
// destructors during shutdown. See docs/failure.md, "When a process must end".

#include <atomic>
#include <chrono>
#include <future>
#include <memory_resource>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_kind;
using troupe::exit_reason;

// Once `p` has said "ready": kills it, and checks that it ended `killed`.
void kill_once_ready(troupe::pid p, troupe::monitor_ref ref) {
  EXPECT_EQ(recv<std::string>(), "ready");
  troupe::exit(p, exit_reason::kill());
  EXPECT_EQ(recv_down(ref).reason, exit_reason::killed());
}

class FailureDoomTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureDoomTest);

// A process that swallows every exception, its exit included; it tells
// `ready` once it is in its loop (a signal that comes before it runs ends it
// at its start, where nothing can swallow it).
void swallow_forever(troupe::pid ready = {}) {
  if (ready) troupe::send(ready, std::string("ready"));
  for (;;) {
    try {
      troupe::receive([](int) {});
    } catch (...) {
    }
  }
}

// Runs `f` on a plain thread and fails (ends the test binary) if it does not
// return within hang_timeout: a hang must fail, not wait.
template <class F>
void within_hang_timeout(const char* what, F f) {
  auto done = std::async(std::launch::async, std::move(f));
  if (done.wait_for(hang_timeout) != std::future_status::ready) {
    ADD_FAILURE() << what << " did not finish (hang)";
    std::fflush(nullptr);
    std::_Exit(3);
  }
  done.get();
}

TEST_P(FailureDoomTest, KillEndsAProcessThatCatchesEverything) {
  log_capture logs;
  rt().run([] {
    auto [p, ref] = troupe::spawn_monitor(swallow_forever, troupe::self());
    kill_once_ready(p, ref);
    wait_gone(p);
  });
  EXPECT_EQ(logs.sink().count_containing("ended without running its remaining destructors"), 1u);
}

TEST_P(FailureDoomTest, AnExitSignalEndsAProcessThatCatchesEverything) {
  log_capture logs;
  rt().run([] {
    auto [p, ref] = troupe::spawn_monitor(swallow_forever, troupe::self());
    EXPECT_EQ(recv<std::string>(), "ready");
    troupe::exit(p, exit_reason::user("go away"));
    EXPECT_EQ(recv_down(ref).reason, exit_reason::user("go away"));
  });
}

TEST_P(FailureDoomTest, ALinkedCrashEndsAProcessThatCatchesEverything) {
  log_capture logs;
  rt().run([] {
    const troupe::pid me = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([me] {
      const troupe::pid child = troupe::spawn_link([] {
        troupe::receive([](double) {});
        throw std::runtime_error("linked crash");
      });
      troupe::send(me, child);
      swallow_forever(me);
    });
    const troupe::pid child = recv<troupe::pid>();
    EXPECT_EQ(recv<std::string>(), "ready");
    troupe::send(child, 1.0);
    const auto down = recv_down(ref);
    EXPECT_TRUE(down.reason.is(exit_kind::exception)) << fmt::format("{}", down.reason);
    EXPECT_EQ(down.reason.detail(), "linked crash");
  });
}

// The first delivery unwinds: destructors between the throw and the
// swallowing catch run; the rest of the stack is reclaimed without them.
TEST_P(FailureDoomTest, TheFirstDeliveryUnwindsToTheCatch) {
  log_capture logs;
  rt().run([] {
    const troupe::pid me = troupe::self();
    struct note_on_exit {
      troupe::pid to;
      std::string what;
      ~note_on_exit() { troupe::send(to, what); }
    };
    auto [p, ref] = troupe::spawn_monitor([me] {
      note_on_exit outer{me, "outer"};  // below the swallowing catch: skipped
      for (;;) {
        try {
          note_on_exit inner{me, "inner"};  // between the throw and the catch: runs
          troupe::send(me, std::string("ready"));
          troupe::receive([](int) {});
        } catch (...) {
        }
      }
    });
    kill_once_ready(p, ref);
    wait_gone(p);
    // "inner" from the unwinding; then, in the loop, the next "ready" is the
    // call where the swallowed exit is found: the process ends there, and
    // neither that iteration's "inner" nor "outer" runs.
    const auto notes = drain<std::string>();
    EXPECT_EQ(notes, (std::vector<std::string>{"inner", "ready"}));
  });
}

// A catch that rethrows is not swallowing: everything unwinds.
TEST_P(FailureDoomTest, ACatchThatRethrowsUnwindsEverything) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([me] {
      stack_probe probe;
      try {
        troupe::send(me, std::string("ready"));
        troupe::receive([](int) {});
      } catch (...) {
        troupe::send(me, std::string("cleaning up"));
        throw;
      }
    });
    kill_once_ready(p, ref);
    EXPECT_EQ(recv<std::string>(), "cleaning up");
  });
}

TEST_P(FailureDoomTest, AProcessThatSwallowsItsExitAndReturnsEndsWithTheReason) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([me] {
      try {
        troupe::send(me, std::string("ready"));
        troupe::receive([](int) {});
      } catch (...) {
      }
    });
    kill_once_ready(p, ref);
  });
}

TEST_P(FailureDoomTest, AProcessThatOnlySendsIsKilledToo) {
  log_capture logs;
  rt().run([] {
    const troupe::pid nobody = dead_pid();
    const troupe::pid me = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([nobody, me] {
      troupe::send(me, std::string("sending"));
      for (;;) troupe::send(nobody, 1);
    });
    EXPECT_EQ(recv<std::string>(), "sending");
    troupe::exit(p, exit_reason::kill());
    EXPECT_EQ(recv_down(ref).reason, exit_reason::killed());
  });
}

TEST_P(FailureDoomTest, ShutdownEndsProcessesThatCatchEverything) {
  log_capture logs;
  rt();
  std::vector<troupe::pid> ps;
  for (int i = 0; i < 8; ++i) ps.push_back(troupe::spawn([] { swallow_forever(); }));
  wait_until([&] { return troupe::process_info(ps.back()).has_value() &&
                          troupe::process_info(ps.back())->status == troupe::process_status::waiting; });
  within_hang_timeout("shutdown", [&] { stop_runtime(); });
}

// A kill that is pending when a destructor sends (in ordinary scope exit, not
// unwinding) is not raised there: that would end the program.
TEST_P(FailureDoomTest, ASendFromADestructorDoesNotRaiseAPendingExit) {
  rt().run([] {
    const troupe::pid me = troupe::self();
    struct flags {
      std::atomic<bool> spinning{false}, killed{false};
    };
    auto f = std::make_shared<flags>();
    struct bye {
      troupe::pid to;
      ~bye() { troupe::send(to, std::string("bye")); }
    };
    auto [p, ref] = troupe::spawn_monitor([me, f] {
      {
        bye b{me};
        f->spinning = true;
        while (!f->killed) std::this_thread::yield();  // no runtime call: the kill stays pending
      }  // ~bye sends with the kill pending
      troupe::receive([](int) {});  // raised here
    });
    std::thread killer([p = p, f] {
      while (!f->spinning) std::this_thread::yield();
      troupe::exit(p, exit_reason::kill());
      f->killed = true;
    });
    const auto down = recv_down(ref);
    killer.join();
    EXPECT_EQ(down.reason, exit_reason::killed());
    EXPECT_EQ(recv<std::string>(), "bye");
  });
}

// Destructors of a killed process that grow its heap past max_heap_size get
// the memory: throwing max_heap_size from them would end the program.
TEST_P(FailureDoomTest, DestructorsOfAKilledProcessMayGrowItsHeap) {
  rt().run([] {
    troupe::spawn_options o;
    o.max_heap_size = 64 * 1024;
    const troupe::pid me = troupe::self();
    struct grows_on_exit {
      troupe::pid to;
      ~grows_on_exit() {
        std::pmr::vector<char> big(256 * 1024, 'x', troupe::heap());
        troupe::send(to, big.size());
      }
    };
    const auto [p, ref] = troupe::spawn_monitor(o, [me] {
      grows_on_exit g{me};
      troupe::send(me, std::string("ready"));
      troupe::receive([](int) {});
    });
    kill_once_ready(p, ref);
    EXPECT_EQ(recv<std::size_t>(), 256u * 1024u);
  });
}

// A spawn closure whose captures send when destroyed, destroyed after its
// process was unwound by shutdown.
TEST_P(FailureDoomTest, ClosuresMaySendWhenDestroyedAtShutdown) {
  rt();
  struct send_on_destroy {
    troupe::pid to;
    send_on_destroy(troupe::pid p) : to(p) {}
    send_on_destroy(send_on_destroy&& o) noexcept : to(std::exchange(o.to, troupe::pid{})) {}
    ~send_on_destroy() {
      if (to) troupe::send(to, 1);
    }
  };
  const troupe::pid sink = troupe::spawn([] { for (;;) troupe::receive([](int) {}); });
  for (int i = 0; i < 16; ++i) {
    troupe::spawn([g = send_on_destroy(sink)] { troupe::receive([](double) {}); });
  }
  wait_until([&] { return rt().process_count() == 17; });
  within_hang_timeout("shutdown", [&] { stop_runtime(); });
}

// Waiting in a destructor while shutdown unwinds the process: a receive with
// a timeout times out at once, one without ends the process, sleep_for returns.
TEST_P(FailureDoomTest, DestructorsThatWaitDoNotHoldUpShutdown) {
  log_capture logs;
  rt();
  struct waits_with_timeout {
    ~waits_with_timeout() { troupe::receive([](int) {}, troupe::after(std::chrono::hours(1), [] {})); }
  };
  struct sleeps {
    ~sleeps() { troupe::sleep_for(std::chrono::hours(1)); }
  };
  std::vector<troupe::pid> ps;
  ps.push_back(troupe::spawn([] { waits_with_timeout w; troupe::receive([](double) {}); }));
  ps.push_back(troupe::spawn([] { sleeps s; troupe::receive([](double) {}); }));
  wait_until([&] {
    for (auto p : ps) {
      auto i = troupe::process_info(p);
      if (!i || i->status != troupe::process_status::waiting) return false;
    }
    return true;
  });
  within_hang_timeout("shutdown", [&] { stop_runtime(); });
}

// The same waits in a killed process's destructors.
TEST_P(FailureDoomTest, AKilledProcessDoesNotWaitInItsDestructors) {
  rt().run([] {
    struct waits {
      ~waits() {
        troupe::receive([](int) {}, troupe::after(std::chrono::hours(1), [] {}));
        troupe::sleep_for(std::chrono::hours(1));
      }
    };
    const troupe::pid me = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([me] {
      waits w;
      troupe::send(me, std::string("ready"));
      troupe::receive([](double) {});
    });
    kill_once_ready(p, ref);
  });
}

// A receive with no timeout in a killed process's destructor could only wait
// for ever: the process ends there. (Under LeakSanitizer the exception in
// flight, which nothing can free, would be reported.)
TEST_P(FailureDoomTest, AKilledProcessThatWouldWaitForEverInADestructorEnds) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "leaks the exception in flight by design";
#endif
  log_capture logs;
  rt().run([] {
    struct waits_for_ever {
      ~waits_for_ever() { troupe::receive([](int) {}); }
    };
    const troupe::pid me = troupe::self();
    auto [p, ref] = troupe::spawn_monitor([me] {
      waits_for_ever w;
      troupe::send(me, std::string("ready"));
      troupe::receive([](double) {});
    });
    kill_once_ready(p, ref);
  });
  EXPECT_EQ(logs.sink().count_containing("while exiting"), 1u);
}

// A process unwinding its own exception when a kill comes: its exception is
// what it dies of (its code failed first), and the kill is not raised inside
// the unwinding.
TEST_P(FailureDoomTest, AKillDuringUnwindingIsNotRaisedThere) {
  log_capture logs;
  rt().run([] {
    const troupe::pid me = troupe::self();
    struct slow_cleanup {
      troupe::pid to;
      ~slow_cleanup() {
        troupe::send(to, std::string("unwinding"));
        troupe::receive([](int) {}, troupe::after(std::chrono::hours(1), [] {}));  // woken by the kill
        troupe::send(to, std::string("still unwinding"));
      }
    };
    auto [p, ref] = troupe::spawn_monitor([me] {
      slow_cleanup c{me};
      throw std::runtime_error("own failure");
    });
    EXPECT_EQ(recv<std::string>(), "unwinding");
    troupe::exit(p, exit_reason::kill());
    const auto down = recv_down(ref);
    EXPECT_EQ(recv<std::string>(), "still unwinding");
    EXPECT_TRUE(down.reason.is(exit_kind::exception)) << fmt::format("{}", down.reason);
  });
}

// ---------------------------------------------------------------- misuse

class RuntimeMisuseTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(RuntimeMisuseTest);

TEST_P(RuntimeMisuseTest, RunFromInsideAProcessThrows) {
  troupe::runtime& r = rt();
  const bool threw = r.run([&r] {
    try {
      r.run([] { return 1; });
    } catch (const std::logic_error&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(threw);
}

TEST_P(RuntimeMisuseTest, WaitIdleFromInsideAProcessThrows) {
  troupe::runtime& r = rt();
  EXPECT_TRUE(r.run([&r] {
    try {
      r.wait_idle();
    } catch (const std::logic_error&) {
      return true;
    }
    return false;
  }));
}

// In a child process of its own: the runtime it leaks on purpose would stay
// the program's one runtime.
TEST(RuntimeMisuseDeathTest, DestroyingTheRuntimeFromInsideAProcessThrows) {
  EXPECT_EXIT(
      {
        auto* r = new troupe::runtime({.schedulers = 2});
        const bool threw = r->run([r] {
          try {
            delete r;
          } catch (const std::logic_error&) {
            return true;
          }
          return false;
        });
        // The runtime keeps running: its object is gone, the free functions work.
        const bool spawns = static_cast<bool>(troupe::spawn([] {}));
        std::fflush(nullptr);
        std::_Exit(threw && spawns ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace

namespace troupe::detail {
extern std::atomic<int> fail_scheduler_start;
}

namespace {

TEST(RuntimeStartTest, ASchedulerThreadThatCannotStartIsAnError) {
  for (int fail_at : {0, 1, 3}) {
    troupe::detail::fail_scheduler_start = fail_at;
    EXPECT_THROW(troupe::runtime({.schedulers = 4}), std::system_error) << fail_at;
  }
  troupe::detail::fail_scheduler_start = -1;
  troupe::runtime rt({.schedulers = 4});  // nothing was left behind
  EXPECT_EQ(rt.run([] { return 7; }), 7);
}

}  // namespace

namespace {

class FailureAllocationTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureAllocationTest);

char* volatile kept_allocation = nullptr;

__attribute__((noinline)) void allocate_absurdly() {
  // 1 EiB: more than any allocator here can give; kept in a volatile so the
  // allocation cannot be elided.
  volatile std::size_t n = std::size_t{1} << 60;
  kept_allocation = static_cast<char*>(::operator new(n));
  ::operator delete(kept_allocation);
}

// operator new failing in a process throws std::bad_alloc there (instead of
// aborting the program): the process ends with it, the others go on.
TEST_P(FailureAllocationTest, AFailedAllocationEndsOnlyItsProcess) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers' allocators report a failed allocation and stop";
#endif
  log_capture logs;
  rt().run([] {
    auto bystander = troupe::spawn_monitor([] { troupe::receive([](int) {}); });
    auto [p, ref] = troupe::spawn_monitor([] { allocate_absurdly(); });
    const auto down = recv_down(ref);
    EXPECT_TRUE(down.reason.is(exit_kind::exception)) << fmt::format("{}", down.reason);
    EXPECT_NE(down.reason.exception_type().find("bad_alloc"), std::string_view::npos) << fmt::format("{}", down.reason);
    EXPECT_TRUE(troupe::is_process_alive(bystander.first));
    troupe::send(bystander.first, 1);
    recv_down(bystander.second);
  });
}

}  // namespace

namespace {

// Plain threads that keep spawning and arming timers while the runtime shuts
// down: shutdown ends, what they started before is run or freed (the
// sanitizer builds check the freeing), and afterwards they get a clear error.
TEST(ShutdownFromOutsideTest, PlainThreadsThatKeepSpawningDoNotHoldUpShutdown) {
  auto rt = std::make_unique<troupe::runtime>(troupe::runtime_options{.schedulers = 2});
  std::atomic<bool> stop{false};
  std::atomic<long> started{0}, refused{0};
  std::vector<std::thread> spammers;
  for (int t = 0; t < 2; ++t) {
    spammers.emplace_back([&] {
      while (!stop.load()) {
        try {
          const troupe::pid p = troupe::spawn([] { troupe::receive([](int) {}); });
          troupe::send_after(p, std::chrono::hours(1), 1);
          started.fetch_add(1);
        } catch (const std::logic_error& e) {
          refused.fetch_add(1);
          const std::string what = e.what();
          EXPECT_TRUE(what.find("shutting down") != std::string::npos ||
                      what.find("no runtime is running") != std::string::npos)
              << what;
        }
      }
    });
  }
  EXPECT_TRUE(wait_until([&] { return started.load() > 1000; }));
  within_hang_timeout("shutdown", [&] { rt.reset(); });
  EXPECT_TRUE(wait_until([&] { return refused.load() > 0; }));
  stop = true;
  for (auto& t : spammers) t.join();
}

}  // namespace
