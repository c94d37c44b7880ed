// Throw-point traces (troupe/stack_trace.hpp): a throw inside a process
// records its stack with the exception object; reason_from_current_exception
// (src/failure/exception_reason.hpp) turns the exception being handled into an exit
// reason carrying it; the crash report prints it. Also exit_reason::shutdown
// with any term.

#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <troupe/stack_trace.hpp>

#include "../src/failure/crash_report.hpp"
#include "../src/failure/exception_reason.hpp"
#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using troupe::stack_trace;
using kind = troupe::exit_kind;

class StackTraceTest : public RuntimeTest {};

TROUPE_INSTANTIATE_SCHEDULERS(StackTraceTest);

// ------------------------------------------------------------------ helpers

std::vector<std::string> function_names(const stack_trace& t) {
  std::vector<std::string> out;
  for (const troupe::stack_frame& f : t.symbolize()) out.push_back(f.function);
  return out;
}

// The index of the first frame whose function's name contains `needle`, or -1.
int frame_of(const stack_trace& t, const std::string& needle) {
  const std::vector<std::string> names = function_names(t);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i].find(needle) != std::string::npos) return static_cast<int>(i);
  }
  return -1;
}

std::string dump(const stack_trace& t) { return t.empty() ? std::string("(empty trace)") : t.to_string("  "); }

// Restores the recording setting a test changes.
class traces_setting {
 public:
  traces_setting() : depth_(troupe::exception_trace_depth()) {}
  ~traces_setting() {
    troupe::set_exception_trace_depth(depth_);
    troupe::set_exception_traces(depth_ != 0);
  }
  traces_setting(const traces_setting&) = delete;
  traces_setting& operator=(const traces_setting&) = delete;

 private:
  std::size_t depth_;
};

// The throwers. noinline, and each different, so that each has a frame of
// its own with its own name.
__attribute__((noinline)) void throw_runtime_error_here(int v) {
  if (v >= 0) throw std::runtime_error("boom " + std::to_string(v));
  std::puts("unreachable");
}
__attribute__((noinline)) void throw_logic_error_elsewhere(int v) {
  if (v >= 0) throw std::logic_error("nested " + std::to_string(v));
  std::puts("unreachable");
}
__attribute__((noinline)) int vector_at_out_of_range(const std::vector<int>& v, std::size_t i) { return v.at(i) + 1; }
__attribute__((noinline)) int stoi_of_garbage(const std::string& s) { return std::stoi(s) + 1; }
__attribute__((noinline)) void throw_std_string(int v) {
  if (v >= 0) throw std::string("a string " + std::to_string(v));
}
__attribute__((noinline)) void throw_int(int v) {
  if (v >= 0) throw v + 1;
}
__attribute__((noinline)) void throw_c_string(int v) {
  if (v >= 0) throw "a C string";
}
struct custom_thing {
  int n;
};
__attribute__((noinline)) void throw_custom(int v) {
  if (v >= 0) throw custom_thing{v};
}
// Rethrows what it catches with `throw;` from a frame of its own.
__attribute__((noinline)) void rethrow_from_here(int v) {
  try {
    throw_runtime_error_here(v);
  } catch (...) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    throw;
  }
}

// Inside a process: throws from `thrower`, catches, and returns the reason.
template <class F>
exit_reason reason_of(F thrower) {
  try {
    thrower();
  } catch (...) {
    return troupe::detail::reason_from_current_exception();
  }
  ADD_FAILURE() << "nothing was thrown";
  return {};
}

// ------------------------------------------------- reason_from_current_exception

TEST_P(StackTraceTest, ReasonFromCatchNamesTheThrowingFunctionFirst) {
  const exit_reason r = rt().run([] { return reason_of([] { throw_runtime_error_here(7); }); });
  EXPECT_TRUE(r.is(kind::exception));
  EXPECT_EQ(r.exception_type(), "std::runtime_error");
  EXPECT_EQ(r.detail(), "boom 7");
  ASSERT_FALSE(r.stack().empty());
  EXPECT_EQ(frame_of(r.stack(), "throw_runtime_error_here"), 0) << dump(r.stack());
  // One line for the reason, the trace on its own.
  EXPECT_EQ(fmt::format("{}", r), "{exception,std::runtime_error,\"boom 7\"}");
  const std::string trace = fmt::format("{}", r.stack());
  EXPECT_NE(trace.find("#0 "), std::string::npos) << trace;
  EXPECT_NE(trace.find("throw_runtime_error_here"), std::string::npos) << trace;
  EXPECT_NE(trace.find("stack_trace_test.cpp"), std::string::npos) << "file and line from debug info:\n" << trace;
  EXPECT_NE(trace.find('\n'), std::string::npos) << "one frame a line:\n" << trace;
}

TEST_P(StackTraceTest, ThrowsFromInsideLibstdcxxAreTraced) {
  rt().run([] {
    const exit_reason at = reason_of([] {
      const std::vector<int> v{1, 2, 3};
      vector_at_out_of_range(v, 5);
    });
    EXPECT_EQ(at.exception_type(), "std::out_of_range");
    const int at_frame = frame_of(at.stack(), "vector_at_out_of_range");
    EXPECT_GE(at_frame, 0) << dump(at.stack());
    EXPECT_LE(at_frame, 3) << dump(at.stack());  // under libstdc++'s __throw_out_of_range_fmt

    const exit_reason stoi = reason_of([] { stoi_of_garbage("not a number"); });
    EXPECT_EQ(stoi.exception_type(), "std::invalid_argument");
    const int stoi_frame = frame_of(stoi.stack(), "stoi_of_garbage");
    EXPECT_GE(stoi_frame, 0) << dump(stoi.stack());
    EXPECT_LE(stoi_frame, 4) << dump(stoi.stack());
  });
}

TEST_P(StackTraceTest, RethrowKeepsTheOriginalTrace) {
  rt().run([] {
    // `throw;` from another function.
    const exit_reason r = reason_of([] { rethrow_from_here(1); });
    EXPECT_EQ(frame_of(r.stack(), "throw_runtime_error_here"), 0) << dump(r.stack());
    EXPECT_GT(frame_of(r.stack(), "rethrow_from_here"), 0) << dump(r.stack());

    // std::rethrow_exception of a stored exception_ptr, from here.
    std::exception_ptr kept;
    try {
      throw_runtime_error_here(2);
    } catch (...) {
      kept = std::current_exception();
    }
    const exit_reason again = reason_of([&] { std::rethrow_exception(kept); });
    EXPECT_EQ(again.detail(), "boom 2");
    EXPECT_EQ(frame_of(again.stack(), "throw_runtime_error_here"), 0) << dump(again.stack());
    EXPECT_EQ(frame_of(troupe::exception_trace(kept), "throw_runtime_error_here"), 0);
  });
}

TEST_P(StackTraceTest, NestedThrowAndCatchInAHandlerDoesNotChangeTheTrace) {
  rt().run([] {
    try {
      throw_runtime_error_here(3);
    } catch (...) {
      try {
        throw_logic_error_elsewhere(4);
      } catch (...) {
        const exit_reason inner = troupe::detail::reason_from_current_exception();
        EXPECT_EQ(inner.exception_type(), "std::logic_error");
        EXPECT_EQ(frame_of(inner.stack(), "throw_logic_error_elsewhere"), 0) << dump(inner.stack());
      }
      const exit_reason outer = troupe::detail::reason_from_current_exception();
      EXPECT_EQ(outer.exception_type(), "std::runtime_error");
      EXPECT_EQ(outer.detail(), "boom 3");
      EXPECT_EQ(frame_of(outer.stack(), "throw_runtime_error_here"), 0) << dump(outer.stack());
      EXPECT_EQ(frame_of(outer.stack(), "throw_logic_error_elsewhere"), -1) << dump(outer.stack());
    }
  });
}

TEST_P(StackTraceTest, TracesOffGiveAnEmptyTraceAndDepthLimitsIt) {
  traces_setting restore;
  rt().run([] {
    troupe::set_exception_traces(false);
    EXPECT_EQ(troupe::exception_trace_depth(), 0u);
    const exit_reason off = reason_of([] { throw_runtime_error_here(5); });
    EXPECT_EQ(off.detail(), "boom 5");
    EXPECT_TRUE(off.stack().empty()) << dump(off.stack());

    troupe::set_exception_traces(true);
    EXPECT_GT(troupe::exception_trace_depth(), 0u);
    EXPECT_FALSE(reason_of([] { throw_runtime_error_here(6); }).stack().empty());

    troupe::set_exception_trace_depth(2);
    const exit_reason two = reason_of([] { rethrow_from_here(7); });
    EXPECT_EQ(two.stack().size(), 2u) << dump(two.stack());
    EXPECT_EQ(frame_of(two.stack(), "throw_runtime_error_here"), 0) << dump(two.stack());

    troupe::set_exception_trace_depth(0);
    EXPECT_TRUE(reason_of([] { throw_runtime_error_here(8); }).stack().empty());
  });
}

TEST(StackTraceOutsideProcesses, NothingIsRecordedOnAPlainThread) {
  EXPECT_FALSE(troupe::in_process());
  const exit_reason r = reason_of([] { throw_runtime_error_here(9); });
  EXPECT_EQ(r.detail(), "boom 9");
  EXPECT_TRUE(r.stack().empty()) << dump(r.stack());
  // Outside any catch block.
  EXPECT_EQ(troupe::detail::reason_from_current_exception().exception_type(), "(no exception)");
  EXPECT_TRUE(troupe::current_exception_trace().empty());
}

__attribute__((noinline)) stack_trace capture_here(std::size_t depth) {
  stack_trace t = stack_trace::capture(depth);
  std::atomic_signal_fence(std::memory_order_seq_cst);  // no tail call
  return t;
}

TEST(StackTraceOutsideProcesses, CaptureNamesItsCaller) {
  const stack_trace here = capture_here(32);
  ASSERT_FALSE(here.empty());
  EXPECT_EQ(frame_of(here, "capture_here"), 0) << dump(here);
  EXPECT_EQ(frame_of(here, "CaptureNamesItsCaller"), 1) << dump(here);
  EXPECT_EQ(capture_here(1).size(), 1u);
  EXPECT_TRUE(capture_here(0).empty());
  // Every frame, without the readable view's trimming, has at least as many.
  EXPECT_GE(here.symbolize(stack_trace::frames::all).size(), here.symbolize().size());
}

TEST(StackTraceOutsideProcesses, FramesPrintWhatIsKnown) {
  troupe::stack_frame f;
  f.address = reinterpret_cast<const void*>(0x1234);
  f.module = "/lib/libx.so";
  f.module_offset = 0x34;
  EXPECT_EQ(fmt::format("{}", f), "/lib/libx.so+0x34");
  f.function = "fn(int)";
  EXPECT_EQ(fmt::format("{}", f), "fn(int) in /lib/libx.so");
  f.file = "a.cpp";
  f.line = 12;
  f.inlined = true;
  EXPECT_EQ(fmt::format("{}", f), "fn(int) at a.cpp:12 (inlined)");
  EXPECT_EQ(fmt::format("{}", stack_trace()), "");
}

TEST_P(StackTraceTest, ExceptionsOfAnyTypeAreNamed) {
  rt().run([] {
    const exit_reason s = reason_of([] { throw_std_string(1); });
    EXPECT_EQ(s.exception_type(), "std::string");
    EXPECT_EQ(s.detail(), "a string 1");
    EXPECT_EQ(frame_of(s.stack(), "throw_std_string"), 0) << dump(s.stack());
    EXPECT_EQ(fmt::format("{}", s), "{exception,std::string,\"a string 1\"}");

    const exit_reason i = reason_of([] { throw_int(1); });
    EXPECT_EQ(i.exception_type(), "int");
    EXPECT_EQ(i.detail(), "");
    EXPECT_EQ(frame_of(i.stack(), "throw_int"), 0) << dump(i.stack());

    const exit_reason c = reason_of([] { throw_c_string(1); });
    EXPECT_EQ(c.exception_type(), "const char*");
    EXPECT_EQ(c.detail(), "a C string");
    EXPECT_EQ(frame_of(c.stack(), "throw_c_string"), 0) << dump(c.stack());

    const exit_reason x = reason_of([] { throw_custom(1); });
    EXPECT_NE(x.exception_type().find("custom_thing"), std::string_view::npos) << x.exception_type();
    EXPECT_EQ(frame_of(x.stack(), "throw_custom"), 0) << dump(x.stack());

    // A process_error is its reason.
    const exit_reason p = reason_of([] { throw troupe::process_error(exit_reason::noproc()); });
    EXPECT_TRUE(p.is(kind::noproc));
  });
}

// A process switched out in the middle of unwinding (a destructor that waits)
// resumes, perhaps on another scheduler, with its exception's trace intact,
// while other processes throw and catch on the threads it left.
// The calling thread, read afresh each time (pthread_self, behind
// std::this_thread::get_id, is declared const: the compiler may reuse an
// answer from before a switch).
long thread_now() { return ::syscall(SYS_gettid); }

struct waits_in_destructor {
  plain_thread_waker* waker;
  int* moves;
  ~waits_in_destructor() {
    troupe::sleep_for(1ms);  // switched out (a timer wakes it)
    long last = thread_now();
    for (int i = 0; i < 200 && *moves < 3; ++i) {
      if (waker) {
        // Woken from a plain thread: it goes to the global queue, where any
        // scheduler may take it.
        waker->wake(troupe::self());
        (void)troupe::receive_for<std::string>(hang_timeout);
      } else {
        (void)troupe::receive_for<std::string>(1ms);  // times out: switched out again
      }
      if (thread_now() != last) {
        ++*moves;
        last = thread_now();
      }
    }
  }
};

__attribute__((noinline)) void throw_while_holding_a_waiter(plain_thread_waker* waker, int* moves) {
  waits_in_destructor w{waker, moves};
  throw std::runtime_error("unwound across switches");
}

TEST_P(StackTraceTest, TraceSurvivesSwitchesAndSchedulerMovesDuringUnwinding) {
  std::optional<plain_thread_waker> waker;
  if (schedulers() > 1) waker.emplace();
  plain_thread_waker* w = waker ? &*waker : nullptr;
  std::atomic<bool> stop{false};
  const auto [moves, r] = rt().run([w, &stop] {
    // Others throwing and catching meanwhile, on every scheduler.
    std::vector<troupe::monitor_ref> noise;
    for (int k = 0; k < 4; ++k) {
      noise.push_back(troupe::spawn_monitor([&stop] {
                        while (!stop.load()) {
                          try {
                            throw_logic_error_elsewhere(1);
                          } catch (const std::logic_error&) {
                          }
                          troupe::yield();
                        }
                      }).second);
    }
    int moves = 0;
    exit_reason got = reason_of([&] { throw_while_holding_a_waiter(w, &moves); });
    stop = true;
    for (auto ref : noise) recv_down(ref);
    return std::make_pair(moves, got);
  });
  // Whether it resumed on another thread depends on the schedulers' timing
  // (rarely it never does, with shared stacks): recorded, not required.
  if (w && moves == 0) std::fprintf(stderr, "note: never resumed on another scheduler thread\n");
  EXPECT_EQ(r.detail(), "unwound across switches");
  EXPECT_EQ(frame_of(r.stack(), "throw_while_holding_a_waiter"), 0) << dump(r.stack());
  EXPECT_EQ(frame_of(r.stack(), "throw_logic_error_elsewhere"), -1) << dump(r.stack());
}

// ------------------------------------------------------------ crash reports

TEST_P(StackTraceTest, CrashReportPrintsTheStackUnderTheSummary) {
  log_capture logs;
  rt().run([] {
    const exit_reason r = reason_of([] { throw_runtime_error_here(11); });
    troupe::detail::report_crash(troupe::self(), "reporter", r);
  });
  const std::vector<std::string> lines = logs.sink().lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::string& report = lines[0];
  EXPECT_NE(report.find("exited with reason {exception,std::runtime_error,\"boom 11\"}\n"), std::string::npos)
      << report;
  EXPECT_NE(report.find("\n    in function  "), std::string::npos) << report;
  const std::size_t first = report.find("in function  ");
  EXPECT_NE(report.find("throw_runtime_error_here", first), std::string::npos) << report;
  EXPECT_NE(report.find("\n    in call from "), std::string::npos) << report;
}

// The reason run_body makes (with reason_from_current_exception) names any
// exception type and carries the stack; so does the crash report.
TEST_P(StackTraceTest, CrashedProcessDownReasonAndReportCarryTheStack) {
  log_capture logs;
  const exit_reason r = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] { throw_std_string(12); });
    const exit_reason why = recv_down(ref).reason;
    wait_gone(p);
    return why;
  });
  ASSERT_TRUE(r.is(kind::exception)) << fmt::format("{}", r);
  EXPECT_EQ(r.exception_type(), "std::string");
  EXPECT_EQ(frame_of(r.stack(), "throw_std_string"), 0) << dump(r.stack());
  EXPECT_EQ(logs.sink().count_containing("in function  "), 1u);
  EXPECT_EQ(logs.sink().count_containing("throw_std_string"), 1u);
}

// ------------------------------------------------------ {shutdown, Term}

struct shutdown_why {
  int code;
  std::string where;
};
struct opaque_term {
  int n;
};

}  // namespace

template <>
struct fmt::formatter<shutdown_why> : fmt::formatter<fmt::string_view> {
  template <class Ctx>
  auto format(const shutdown_why& w, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{{{},{}}}", w.code, w.where);
  }
};

namespace {

TEST(ExitReasonShutdown, AnyTermIsKeptAndPrinted) {
  const exit_reason n = exit_reason::shutdown(42);
  EXPECT_TRUE(n.is(kind::shutdown));
  EXPECT_TRUE(n.is_quiet());
  EXPECT_EQ(n.detail(), "42");
  ASSERT_NE(n.value<int>(), nullptr);
  EXPECT_EQ(*n.value<int>(), 42);
  EXPECT_EQ(n.value<long>(), nullptr);
  EXPECT_EQ(fmt::format("{}", n), "{shutdown,42}");

  const exit_reason w = exit_reason::shutdown(shutdown_why{3, "db"});
  EXPECT_EQ(fmt::format("{}", w), "{shutdown,{3,db}}");
  ASSERT_NE(w.value<shutdown_why>(), nullptr);
  EXPECT_EQ(w.value<shutdown_why>()->where, "db");

  const exit_reason o = exit_reason::shutdown(opaque_term{5});
  EXPECT_EQ(fmt::format("{}", o), "{shutdown,<term>}");
  ASSERT_NE(o.value<opaque_term>(), nullptr);
  EXPECT_EQ(o.value<opaque_term>()->n, 5);

  // Text still goes the old way, and plain shutdown has no term.
  EXPECT_EQ(fmt::format("{}", exit_reason::shutdown("why")), "{shutdown,why}");
  EXPECT_EQ(fmt::format("{}", exit_reason::shutdown()), "shutdown");
  EXPECT_FALSE(exit_reason::shutdown("why").has_value());
}

TEST_P(StackTraceTest, ShutdownTermTravelsToMonitors) {
  log_capture logs;
  const exit_reason r = rt().run([] {
    auto [p, ref] = troupe::spawn_monitor([] { troupe::exit(exit_reason::shutdown(shutdown_why{7, "cache"})); });
    const exit_reason why = recv_down(ref).reason;
    wait_gone(p);
    return why;
  });
  EXPECT_TRUE(r.is(kind::shutdown));
  ASSERT_NE(r.value<shutdown_why>(), nullptr);
  EXPECT_EQ(r.value<shutdown_why>()->code, 7);
  EXPECT_EQ(fmt::format("{}", r), "{shutdown,{7,cache}}");
  EXPECT_EQ(logs.sink().count_containing("CRASH REPORT"), 0u) << "shutdown is quiet";
}

}  // namespace
