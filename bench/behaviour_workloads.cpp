// genserver_call and supervisor_restart: what the behaviours cost.

#include <chrono>
#include <cstdint>
#include <string>

#include <vector>

#include "troupe/dynamic_supervisor.hpp"
#include "troupe/gen_server.hpp"
#include "troupe/log.hpp"
#include "troupe/supervisor.hpp"
#include "troupe/troupe.hpp"
#include "workloads.hpp"

namespace bench {

namespace {

struct get {};
struct counter : troupe::gen_server<counter> {
  std::int64_t n = 0;
  std::int64_t handle_call(get) { return ++n; }
};

struct crash {};
struct crasher : troupe::gen_server<crasher> {
  void handle_cast(crash) { troupe::exit(troupe::exit_reason::user("crash")); }
};

struct idle : troupe::gen_server<idle> {
  std::int64_t id;
  explicit idle(std::int64_t i) : id(i) {}
  std::int64_t handle_call(get) { return id; }
};

}  // namespace

// n small gen_servers started under a dynamic supervisor, all idle: the time
// to start them and what each costs (RSS delta / n).
void genserver_idle(const args& a) {
  const std::int64_t n = a.count("n", 1'000'000);
  troupe::runtime rt(a.runtime());
  std::int64_t rss0 = 0, rss1 = 0;
  const double secs = rt.run([&] {
    auto sup = troupe::dynamic_supervisor<std::int64_t>::start_link([](std::int64_t i) {
                 return idle::start_link(i);
               }).value();
    rss0 = rss_bytes();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) sup.start_child(i).value();
    const double t = seconds_since(t0);
    rss1 = rss_bytes();
    troupe::unlink(sup.pid());
    const troupe::monitor_ref ref = troupe::monitor(sup.pid());
    troupe::exit(sup.pid(), troupe::exit_reason::shutdown());
    troupe::receive(troupe::when([ref](const troupe::down_message& d) { return d.ref == ref; },
                                 [](troupe::down_message&&) {}));
    return t;
  });
  result("genserver_idle", kv("n", n), kv("schedulers", rt.schedulers()), kv("start_seconds", secs),
         kv("bytes_per_server", (rss1 - rss0) / n));
}

// `clients` processes each make `n` calls to one server; with `backlog`, each
// client first queues that many unrelated messages in its own mailbox.
void genserver_call(const args& a) {
  const std::int64_t n = a.count("n", 1'000'000);
  const std::int64_t clients = a.get("clients", 1);
  const std::int64_t backlog = a.get("backlog", 0);
  troupe::runtime rt(a.runtime());
  const double secs = rt.run([&] {
    const auto server = counter::start_link().value();
    const troupe::pid me = troupe::self();
    std::vector<troupe::pid> ps;
    for (std::int64_t c = 0; c < clients; ++c) {
      ps.push_back(troupe::spawn([=] {
        for (std::int64_t i = 0; i < backlog; ++i) troupe::send(troupe::self(), i);
        troupe::send(me, troupe::self());
        troupe::receive([](std::string&&) {});
        for (std::int64_t i = 0; i < n; ++i) troupe::call(server, get{});
        troupe::send(me, 1.0);
      }));
    }
    for (std::int64_t c = 0; c < clients; ++c) troupe::receive([](troupe::pid) {});
    const auto t0 = std::chrono::steady_clock::now();
    for (troupe::pid p : ps) troupe::send(p, std::string("go"));
    for (std::int64_t c = 0; c < clients; ++c) troupe::receive([](double) {});
    const double t = seconds_since(t0);
    troupe::stop(server);
    return t;
  });
  result("genserver_call", kv("n", n), kv("clients", clients), kv("backlog", backlog),
         kv("schedulers", rt.schedulers()), kv("seconds", secs),
         kv("calls_per_sec", static_cast<double>(n * clients) / secs));
}

// A one_for_one supervisor restarts a child that crashes on every message.
void supervisor_restart(const args& a) {
  const std::int64_t n = a.count("n", 20'000);
  // As the BEAM's figure: crash and supervisor reports off.
  const auto level = troupe::logger()->level();
  troupe::logger()->set_level(spdlog::level::off);
  troupe::runtime rt(a.runtime());
  const double secs = rt.run([&] {
    troupe::trap_exit(true);
    const troupe::pid sup = troupe::supervisor::start_link(
                                {.max_restarts = 1'000'000'000, .max_seconds = std::chrono::seconds(1)},
                                {troupe::worker("crasher", [] { return crasher::start_link(); })})
                                .value();
    const auto t0 = std::chrono::steady_clock::now();
    troupe::pid child = troupe::supervisor::which_children(sup).front().child;
    for (std::int64_t i = 0; i < n; ++i) {
      // Wait for the crash, then ask for the new child: the supervisor had
      // the exit signal before this request, so one ask is nearly always
      // enough (a busy poll would starve the restart on one scheduler).
      const troupe::monitor_ref ref = troupe::monitor(child);
      troupe::cast(troupe::server<crasher>(child), crash{});
      troupe::receive(troupe::when([ref](const troupe::down_message& d) { return d.ref == ref; },
                                   [](troupe::down_message&&) {}));
      troupe::pid next;
      while (!(next = troupe::supervisor::which_children(sup).front().child) || next == child) troupe::yield();
      child = next;
    }
    const double t = seconds_since(t0);
    troupe::unlink(sup);
    troupe::exit(sup, troupe::exit_reason::shutdown());
    return t;
  });
  troupe::logger()->set_level(level);
  result("supervisor_restart", kv("n", n), kv("schedulers", rt.schedulers()), kv("seconds", secs),
         kv("restarts_per_sec", static_cast<double>(n) / secs));
}

}  // namespace bench
