// Failure model, crash reports: one error through troupe::logger() per
// abnormal death, naming the pid, the registered name, the reason (with an
// exception's what()) and the message being handled; nothing for normal and
// shutdown exits.

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace troupe_test;
using troupe::exit_reason;
using kind = troupe::exit_kind;

class FailureReportsTest : public RuntimeTest {};
TROUPE_INSTANTIATE_SCHEDULERS(FailureReportsTest);

// Keeps (level, payload) of everything logged but the watchdog's warnings.
class level_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::pair<spdlog::level::level_enum, std::string>> entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (is_long_schedule_report(payload)) return;
    entries_.emplace_back(msg.level, std::string(payload));
  }
  void flush_() override {}

 private:
  std::vector<std::pair<spdlog::level::level_enum, std::string>> entries_;
};

class level_capture {
 public:
  level_capture() : prev_(troupe::logger()), sink_(std::make_shared<level_sink>()) {
    troupe::set_logger(std::make_shared<spdlog::logger>("troupe", sink_));
  }
  ~level_capture() { troupe::set_logger(prev_); }
  level_capture(const level_capture&) = delete;
  level_capture& operator=(const level_capture&) = delete;
  std::vector<std::pair<spdlog::level::level_enum, std::string>> entries() { return sink_->entries(); }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    for (auto& e : sink_->entries()) out.push_back(e.second);
    return out;
  }

 private:
  std::shared_ptr<spdlog::logger> prev_;
  std::shared_ptr<level_sink> sink_;
};

bool has(const std::string& line, const std::string& needle) { return line.find(needle) != std::string::npos; }

// Runs `body` in a monitored process, waits until it is completely gone (its
// report written) and returns its pid and exit reason.
template <class F>
std::pair<troupe::pid, exit_reason> run_to_death(troupe::runtime& r, F body) {
  return r.run([body] {
    auto [p, ref] = troupe::spawn_monitor(body);
    const exit_reason why = recv_down(ref).reason;
    wait_gone(p);
    return std::make_pair(p, why);
  });
}

TEST_P(FailureReportsTest, ExceptionCrashIsReportedOnceWithPidReasonAndWhat) {
  level_capture logs;
  const auto [p, why] = run_to_death(rt(), [] { throw std::runtime_error("kaboom-1"); });
  const auto entries = logs.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].first, spdlog::level::err);
  const std::string& line = entries[0].second;
  EXPECT_TRUE(has(line, fmt::format("{}", p))) << line;
  EXPECT_TRUE(has(line, "{exception,std::runtime_error,\"kaboom-1\"}")) << line;
  EXPECT_TRUE(has(line, "kaboom-1")) << line;
  EXPECT_FALSE(has(line, "last message")) << "no message was being handled: " << line;
}

TEST_P(FailureReportsTest, RegisteredNameIsInTheReport) {
  level_capture logs;
  const auto [p, why] = run_to_death(rt(), [] {
    troupe::register_name("named-crasher", troupe::self());
    throw std::logic_error("with a name");
  });
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(has(lines[0], "named-crasher")) << lines[0];
  EXPECT_TRUE(has(lines[0], fmt::format("{}", p))) << lines[0];
  EXPECT_TRUE(has(lines[0], "with a name")) << lines[0];
}

// The message being handled when an exception escaped the handler is named.
TEST_P(FailureReportsTest, LastMessageIsInTheReport) {
  level_capture logs;
  rt();
  struct opaque {
    int x = 0;
  };
  const auto outcome = rt().run([] {
    const troupe::pid a = troupe::spawn([] {
      troupe::receive([](const std::string& s) {
        if (s == "poison") throw std::runtime_error("swallowed poison");
      });
    });
    const troupe::pid b = troupe::spawn([] {
      troupe::receive([](int n) { throw std::out_of_range(fmt::format("bad number {}", n - 1)); });
    });
    const troupe::pid c = troupe::spawn([] { troupe::receive([](opaque) { throw std::runtime_error("thrown by c"); }); });
    // By value: the handler owns (and may have moved from) its argument, so
    // the report can only name the message's type.
    const troupe::pid d = troupe::spawn([] {
      troupe::receive([](std::string s) {
        if (s == "poison-by-value") throw std::runtime_error("thrown by d");
      });
    });
    const troupe::pid e = troupe::spawn([] {
      troupe::receive([](std::string&& s) {
        std::string mine = std::move(s);
        throw std::runtime_error("thrown by e after taking " + std::to_string(mine.size()) + " chars");
      });
    });
    const auto ra = troupe::monitor(a), rb = troupe::monitor(b), rc = troupe::monitor(c);
    const auto rd = troupe::monitor(d), re = troupe::monitor(e);
    troupe::send(a, std::string("poison"));
    troupe::send(b, 1234);
    troupe::send(c, opaque{});
    troupe::send(d, std::string("poison-by-value"));
    troupe::send(e, std::string("poison-moved-out"));
    recv_down(ra), recv_down(rb), recv_down(rc), recv_down(rd), recv_down(re);
    for (troupe::pid p : {a, b, c, d, e}) wait_gone(p);
    return std::vector<troupe::pid>{a, b, c, d, e};
  });
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), 5u);
  auto line_of = [&](troupe::pid p) {
    for (const auto& l : lines) {
      if (has(l, fmt::format("{} ", p))) return l;
    }
    return std::string();
  };
  const std::string la = line_of(outcome[0]), lb = line_of(outcome[1]), lc = line_of(outcome[2]);
  EXPECT_TRUE(has(la, "poison")) << la;
  EXPECT_TRUE(has(la, "swallowed poison")) << la;
  EXPECT_TRUE(has(lb, "1234")) << lb;
  EXPECT_TRUE(has(lb, "bad number 1233")) << lb;
  EXPECT_TRUE(has(lc, "opaque")) << "a message that cannot be printed is named by its type: " << lc;
  const std::string ld = line_of(outcome[3]), le = line_of(outcome[4]);
  EXPECT_TRUE(has(ld, "thrown by d")) << ld;
  EXPECT_TRUE(has(ld, "basic_string")) << "handler taking the message by value: " << ld;
  EXPECT_TRUE(has(le, "thrown by e")) << le;
  EXPECT_TRUE(has(le, "basic_string")) << "handler that moved the message out: " << le;
}

// A message whose handler threw, but the process caught the exception and
// went on, is not what the process was handling when it later crashed.
TEST_P(FailureReportsTest, ReportDoesNotBlameAMessageWhoseExceptionWasCaught) {
  level_capture logs;
  run_to_death(rt(), [] {
    troupe::send(troupe::self(), std::string("first-recovered"));
    try {
      troupe::receive([](const std::string&) { throw std::runtime_error("handled"); });
    } catch (const std::runtime_error&) {
    }
    troupe::send(troupe::self(), std::string("second-fine"));
    troupe::receive([](std::string) {});
    throw std::runtime_error("later, outside any handler");
  });
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(has(lines[0], "later, outside any handler")) << lines[0];
  EXPECT_FALSE(has(lines[0], "first-recovered")) << lines[0];
}

TEST_P(FailureReportsTest, NothingIsLoggedForNormalOrShutdownExits) {
  level_capture logs;
  rt().run([] {
    std::vector<troupe::monitor_ref> refs;
    refs.push_back(troupe::spawn_monitor([] {}).second);
    refs.push_back(troupe::spawn_monitor([] { troupe::exit(exit_reason::normal()); }).second);
    refs.push_back(troupe::spawn_monitor([] { troupe::exit(troupe::self(), exit_reason::normal()); }).second);
    refs.push_back(troupe::spawn_monitor([] { troupe::exit(exit_reason::shutdown()); }).second);
    refs.push_back(troupe::spawn_monitor([] { troupe::exit(exit_reason::shutdown("maintenance")); }).second);
    refs.push_back(troupe::spawn_monitor([] { throw troupe::process_error(exit_reason::shutdown("via error")); }).second);
    // Killed through a link by a shutdown: quiet too.
    refs.push_back(troupe::spawn_monitor([] {
                     troupe::spawn_link([] { troupe::exit(exit_reason::shutdown("cascade")); });
                     troupe::receive([](double) {});
                   }).second);
    // exit/2 with shutdown.
    auto [p, ref] = troupe::spawn_monitor([] { troupe::receive([](double) {}); });
    troupe::exit(p, exit_reason::shutdown());
    refs.push_back(ref);
    for (auto r : refs) recv_down(r);
  });
  rt().wait_idle();
  EXPECT_TRUE(logs.lines().empty()) << logs.lines().front();
}

TEST_P(FailureReportsTest, OtherReasonsAreLoggedOnceEach) {
  level_capture logs;
  std::vector<troupe::pid> ps = rt().run([] {
    const troupe::pid dead = dead_pid();
    std::vector<std::pair<troupe::pid, troupe::monitor_ref>> ms;
    ms.push_back(troupe::spawn_monitor([] { troupe::exit(exit_reason::user("user-reason-x")); }));
    ms.push_back(troupe::spawn_monitor([dead] { troupe::link(dead); }));  // noproc
    ms.push_back(troupe::spawn_monitor([] { throw 42; }));
    auto victim = troupe::spawn_monitor([] { troupe::receive([](double) {}); });
    troupe::exit(victim.first, exit_reason::kill());
    ms.push_back(victim);
    std::vector<troupe::pid> out;
    for (auto& [p, ref] : ms) {
      recv_down(ref);
      wait_gone(p);
      out.push_back(p);
    }
    return out;
  });
  rt().wait_idle();
  // The killed process logs nothing: it did not fail, it was killed (OTP).
  const auto entries = logs.entries();
  ASSERT_EQ(entries.size(), 3u);
  for (const auto& e : entries) EXPECT_EQ(e.first, spdlog::level::err) << e.second;
  const std::vector<std::string> expected{"user-reason-x", "noproc", "exception"};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    int n = 0;
    for (const auto& e : entries) n += has(e.second, fmt::format("{} ", ps[i])) && has(e.second, expected[i]);
    EXPECT_EQ(n, 1) << expected[i];
  }
}

// Only the process whose own code failed reports, as in OTP: the processes
// that die of its exit signal along the links log nothing.
TEST_P(FailureReportsTest, OnlyTheCrasherIsReported) {
  level_capture logs;
  rt().run([] {
    auto [a, ref] = troupe::spawn_monitor([] {
      troupe::spawn_link([] {
        troupe::spawn_link([] { throw std::runtime_error("bottom of the chain"); });
        troupe::receive([](double) {});
      });
      troupe::receive([](double) {});
    });
    EXPECT_TRUE(recv_down(ref).reason.is(kind::exception));
    wait_gone(a);
  });
  rt().wait_idle();
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(has(lines[0], "bottom of the chain")) << lines[0];
}

// Exit signals, whatever their reason, are not the receiver's failure.
TEST_P(FailureReportsTest, ProcessesEndedByExitSignalsLogNothing) {
  level_capture logs;
  rt().run([] {
    std::vector<troupe::monitor_ref> refs;
    for (exit_reason r : {exit_reason::kill(), exit_reason::user("from outside"), exit_reason::noconnection()}) {
      auto [p, ref] = troupe::spawn_monitor([] { troupe::receive([](double) {}); });
      troupe::exit(p, r);
      refs.push_back(ref);
    }
    for (auto ref : refs) recv_down(ref);
  });
  rt().wait_idle();
  EXPECT_TRUE(logs.lines().empty()) << logs.lines().front();
}

TEST_P(FailureReportsTest, ManyCrashesManyReports) {
  constexpr int n = 300;
  level_capture logs;
  rt().run([] {
    std::vector<troupe::monitor_ref> refs;
    for (int i = 0; i < n; ++i) {
      refs.push_back(troupe::spawn_monitor([i] { throw std::runtime_error(fmt::format("crash #{}#", i)); }).second);
    }
    for (auto r : refs) recv_down(r);
  });
  rt().wait_idle();
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    int hits = 0;
    for (const auto& l : lines) hits += has(l, fmt::format("crash #{}#", i));
    EXPECT_EQ(hits, 1) << i;
  }
}

// Reports go through troupe::logger(): its level applies.
TEST_P(FailureReportsTest, ReportsHonourTheLoggersLevel) {
  level_capture logs;
  troupe::logger()->set_level(spdlog::level::critical);
  run_to_death(rt(), [] { throw std::runtime_error("filtered out"); });
  EXPECT_TRUE(logs.lines().empty());
  troupe::logger()->set_level(spdlog::level::err);
  run_to_death(rt(), [] { throw std::runtime_error("let through"); });
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(has(lines[0], "let through"));
}

}  // namespace
