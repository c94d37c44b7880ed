#pragma once
// Shared fixture and helpers for the troupe tests.
//
// RuntimeTest is parameterised over the number of schedulers (1, 2, 4). Each
// test gets its own runtime (only one may exist at a time), created lazily by
// rt() or explicitly by start(options). After the test body, TearDown checks
// that every process has exited (process_count() back to 0, waited for with a
// generous bound), destroys the runtime, and checks that every instrumented
// message (`tracked`) and every instrumented stack object (`stack_probe`) was
// destroyed.
//
// Timeouts in these tests only detect hangs: `hang_timeout` is far longer than
// anything should take, and is never a performance requirement.

#include <gtest/gtest.h>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include <troupe/log.hpp>
#include <troupe/troupe.hpp>

namespace troupe_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// True in a ThreadSanitizer build. TSan runs this code 5-20x slower and
/// makes a thread state for every fiber, and CI runs two TSan test processes
/// on its two cores: stress tests do less there, and hangs are called later.
inline constexpr bool under_tsan =
#if defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

/// Upper bound used to detect hangs (never a speed requirement).
inline constexpr std::chrono::seconds hang_timeout{under_tsan ? 60 : 30};

/// A message type that counts its live instances.
struct tracked {
  static inline std::atomic<long> live{0};
  int value = 0;

  tracked() noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  explicit tracked(int v) noexcept : value(v) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(const tracked& o) noexcept : value(o.value) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(tracked&& o) noexcept : value(o.value) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { live.fetch_sub(1, std::memory_order_relaxed); }
};

/// An RAII object for process stacks (and closures) that counts live instances.
struct stack_probe {
  static inline std::atomic<long> live{0};
  stack_probe() noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  stack_probe(const stack_probe&) noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  stack_probe(stack_probe&&) noexcept { live.fetch_add(1, std::memory_order_relaxed); }
  stack_probe& operator=(const stack_probe&) = default;
  ~stack_probe() { live.fetch_sub(1, std::memory_order_relaxed); }
};

/// Polls `pred` on the calling (non-process) thread until it holds or
/// `timeout` passes. Returns the last value of pred().
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout = hang_timeout) {
  const auto until = steady::now() + timeout;
  while (!pred()) {
    if (steady::now() >= until) return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// Inside a process: like wait_until, but sleeps the process (troupe::sleep_for).
template <class Pred>
bool process_wait_until(Pred&& pred, std::chrono::milliseconds timeout = hang_timeout) {
  const auto until = steady::now() + timeout;
  while (!pred()) {
    if (steady::now() >= until) return pred();
    troupe::sleep_for(1ms);
  }
  return true;
}

/// Thrown from a process when an expected message does not arrive in time.
struct receive_timeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Inside a process: receives a T, or records a failure and throws
/// receive_timeout when none arrives within hang_timeout.
template <class T>
T recv(std::chrono::milliseconds timeout = hang_timeout) {
  std::optional<T> v = troupe::receive_for<T>(timeout);
  if (!v) {
    ADD_FAILURE() << "no message of type " << typeid(T).name() << " arrived (hang?)";
    throw receive_timeout(std::string("timed out waiting for ") + typeid(T).name());
  }
  return std::move(*v);
}

/// Inside a process: true when the mailbox holds no message of type T (polls).
template <class T>
bool no_message_of() {
  return troupe::receive([](T&&) { return false; }, troupe::after(0ms, [] { return true; }));
}

/// The watchdog's long_schedule warning. Any process can earn one on a
/// loaded machine (the OS took its thread away for a few ms), so tests that
/// count log lines for another reason must not count these.
inline bool is_long_schedule_report(std::string_view payload) { return payload.starts_with("long_schedule:"); }

/// Whether a capture keeps the watchdog's long_schedule warnings.
enum class watchdog_lines { dropped, kept };

/// A spdlog sink that keeps the logged messages (payloads) in memory.
class capture_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit capture_sink(watchdog_lines w) : watchdog_(w) {}
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::size_t count_containing(const std::string& needle) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
    return n;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (watchdog_ == watchdog_lines::dropped && is_long_schedule_report(payload)) return;
    lines_.emplace_back(payload);
  }
  void flush_() override {}

 private:
  watchdog_lines watchdog_;
  std::vector<std::string> lines_;
};

/// Replaces troupe's logger with a capturing one for its lifetime (which also
/// keeps expected crash reports off stderr), then restores the previous one.
class log_capture {
 public:
  explicit log_capture(watchdog_lines w = watchdog_lines::dropped)
      : prev_(troupe::logger()), sink_(std::make_shared<capture_sink>(w)) {
    troupe::set_logger(std::make_shared<spdlog::logger>("troupe", sink_));
  }
  ~log_capture() { troupe::set_logger(prev_); }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  capture_sink& sink() { return *sink_; }

 private:
  std::shared_ptr<spdlog::logger> prev_;
  std::shared_ptr<capture_sink> sink_;
};

/// How much of a stress test's work to do (processes spawned, rounds run):
/// all of it, except under TSan, a fifth. The plain and ASan builds run the
/// full size; TSan is there to see races, which a fifth of the churn shows.
constexpr int stress_work(int wanted) { return under_tsan && wanted >= 5 ? wanted / 5 : wanted; }

/// How many processes a test keeps alive at once: what it asks for, except
/// under TSan, at most 1,000. TSan counts every live fiber against its limit
/// of 8,128 threads, and is slow to make them: a linked chain of 4,000 took
/// 50 s with a second TSan test beside it on two cores.
constexpr int live_processes(int wanted) { return under_tsan && wanted > 1000 ? 1000 : wanted; }

/// What a runtime test runs under: a scheduler count, and whether every
/// process takes turns on a handful of shared stacks (so their frames are
/// copied out and back at almost every switch) instead of having its own.
struct runtime_config {
  unsigned schedulers;
  bool shared_stacks = false;
};

inline void PrintTo(const runtime_config& c, std::ostream* os) {
  *os << c.schedulers << " scheduler(s)" << (c.shared_stacks ? ", shared stacks" : "");
}

/// Fixture: one runtime per test, parameterised over runtime_config.
class RuntimeTest : public ::testing::TestWithParam<runtime_config> {
 protected:
  void SetUp() override {
    tracked_base_ = tracked::live.load();
    probes_base_ = stack_probe::live.load();
  }

  void TearDown() override {
    if (rt_) {
      if (check_idle_) {
        const bool idle = wait_until([&] { return rt_->process_count() == 0; });
        EXPECT_TRUE(idle) << "processes still alive after the test: " << rt_->process_count();
      }
      rt_.reset();
    }
    EXPECT_EQ(tracked::live.load(), tracked_base_) << "instrumented messages leaked (or destroyed twice)";
    EXPECT_EQ(stack_probe::live.load(), probes_base_) << "instrumented stack objects leaked (or destroyed twice)";
  }

  unsigned schedulers() const { return GetParam().schedulers; }

  /// Options every test starts from: the parameterised configuration.
  troupe::runtime_options default_options() const {
    troupe::runtime_options o;
    o.schedulers = GetParam().schedulers;
    if (GetParam().shared_stacks) {
      o.dedicated_stacks = 0;
      o.shared_stacks = 3;
    }
    return o;
  }

  /// Creates the runtime with `opts` (must not exist yet).
  troupe::runtime& start(troupe::runtime_options opts) {
    if (rt_) throw std::logic_error("test bug: runtime already started");
    rt_.emplace(opts);
    return *rt_;
  }

  /// The test's runtime, created with default_options() on first use.
  troupe::runtime& rt() {
    if (!rt_) rt_.emplace(default_options());
    return *rt_;
  }

  /// Destroys the runtime now (whatever is still alive is shut down).
  void stop_runtime() { rt_.reset(); }

  /// The test leaves processes alive on purpose: skip the idle check.
  void expect_processes_left() { check_idle_ = false; }

  long tracked_base() const { return tracked_base_; }
  long probes_base() const { return probes_base_; }

 private:
  std::optional<troupe::runtime> rt_;
  bool check_idle_ = true;
  long tracked_base_ = 0;
  long probes_base_ = 0;
};

inline std::string scheduler_param_name(const ::testing::TestParamInfo<runtime_config>& info) {
  return "sched" + std::to_string(info.param.schedulers) + (info.param.shared_stacks ? "_shared" : "");
}

}  // namespace troupe_test

/// Instantiates a RuntimeTest-derived suite for 1, 2 and 4 schedulers, and
/// for 2 schedulers with every process on shared stacks.
/// `o` with no spare threads: for tests of what a process's own scheduler
/// does while it is held, which a spare standing in would hide.
inline troupe::runtime_options without_spares(troupe::runtime_options o) {
  o.spare_threads = 0;
  return o;
}

#define TROUPE_INSTANTIATE_SCHEDULERS(Suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(Schedulers, Suite,                                                           \
                           ::testing::Values(::troupe_test::runtime_config{1}, ::troupe_test::runtime_config{2}, \
                                             ::troupe_test::runtime_config{4},                          \
                                             ::troupe_test::runtime_config{2, true}),                   \
                           ::troupe_test::scheduler_param_name)

// ---------------------------------------------------------------------------
// Failure-model helpers (links, monitors, exit signals). All of them run
// inside a process unless said otherwise.
// ---------------------------------------------------------------------------
#include <algorithm>

namespace troupe_test {

/// The first T for which `match` holds (selective receive); records a failure
/// naming `what` and throws receive_timeout if none arrives within `timeout`
/// (a hang).
template <class T, class Match>
T recv_matching(Match match, const std::string& what, std::chrono::milliseconds timeout) {
  std::optional<T> got = troupe::receive(
      troupe::when(match, [](T m) { return std::optional<T>(std::move(m)); }),
      troupe::after(timeout, [] { return std::optional<T>(); }));
  if (!got) {
    ADD_FAILURE() << "no " << what << " arrived (hang?)";
    throw receive_timeout("timed out waiting for " + what);
  }
  return std::move(*got);
}

/// The down_message for `ref`; fails like recv_matching.
inline troupe::down_message recv_down(troupe::monitor_ref ref, std::chrono::milliseconds timeout = hang_timeout) {
  return recv_matching<troupe::down_message>([ref](const troupe::down_message& m) { return m.ref == ref; },
                                             fmt::format("down_message for {}", ref), timeout);
}

/// The exit_message from `from`; fails like recv_matching.
inline troupe::exit_message recv_exit_from(troupe::pid from, std::chrono::milliseconds timeout = hang_timeout) {
  return recv_matching<troupe::exit_message>([from](const troupe::exit_message& m) { return m.from == from; },
                                             fmt::format("exit_message from {}", from), timeout);
}

/// Removes every message of type T now in the mailbox (without waiting).
template <class T>
std::vector<T> drain() {
  std::vector<T> out;
  while (troupe::receive([&out](T&& v) { out.push_back(std::move(v)); return true; },
                         troupe::after(0ms, [] { return false; }))) {
  }
  return out;
}

/// Waits (sleeping, so it works on one scheduler) until `p` has completely
/// exited: process_info says it is gone, so its links and monitors have been
/// told and its crash report (if any) written. Works from a plain thread too.
inline bool wait_gone(troupe::pid p, std::chrono::milliseconds timeout = hang_timeout) {
  auto gone = [p] { return !troupe::process_info(p).has_value(); };
  return troupe::in_process() ? process_wait_until(gone, timeout) : wait_until(gone, timeout);
}

/// A pid whose process has certainly exited (normally).
inline troupe::pid dead_pid() {
  auto [p, ref] = troupe::spawn_monitor([] {});
  recv_down(ref);
  wait_gone(p);
  return p;
}

/// True if `pids` contains `p`.
inline bool contains(const std::vector<troupe::pid>& pids, troupe::pid p) {
  return std::find(pids.begin(), pids.end(), p) != pids.end();
}

}  // namespace troupe_test

namespace troupe_test {

/// A plain thread that sends std::string("go") to the pids processes ask it
/// to. A process woken by another process is queued on the waker's scheduler
/// (in a slot no other scheduler takes from); one woken from a plain thread
/// goes to the global queue, where an idle scheduler picks it up. So a process
/// that wants another to run *while it keeps running itself* (to race with
/// it) asks this thread to wake it. Needs at least two schedulers.
class plain_thread_waker {
 public:
  plain_thread_waker()
      : thread_([this] {
          while (!stop_.load(std::memory_order_acquire)) {
            if (const std::uint64_t b = pending_.exchange(0, std::memory_order_acq_rel)) {
              troupe::send(troupe::pid::from_bits(b), std::string("go"));
            } else {
              std::this_thread::yield();
            }
          }
        }) {}
  ~plain_thread_waker() {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  plain_thread_waker(const plain_thread_waker&) = delete;
  plain_thread_waker& operator=(const plain_thread_waker&) = delete;

  /// Asks the thread to send "go" to `p` (one request at a time).
  void wake(troupe::pid p) {
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    pending_.store(p.bits(), std::memory_order_release);
  }

 private:
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace troupe_test
