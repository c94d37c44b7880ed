// failure.cpp: links, monitors, exit signals and registered names — how a
// failure travels, as in Erlang/OTP. docs/failure.md walks through it.
#include <troupe/log.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

using namespace std::chrono_literals;

static int failures = 0;
static void check(bool ok, const char* what) {
  fmt::print("{} {}\n", ok ? "ok  " : "FAIL", what);
  failures += !ok;
}

// [links]
// A link ties two processes' fates: when one dies abnormally, the other dies
// with the same reason, unless it traps exits, in which case the death
// arrives as an exit_message.
void links() {
  troupe::trap_exit(true);
  troupe::pid worker = troupe::spawn_link([] { throw std::runtime_error("disk on fire"); });
  auto m = troupe::receive<troupe::exit_message>();
  check(m.from == worker && m.reason.is(troupe::exit_kind::exception) && m.reason.detail() == "disk on fire",
        "a trapping parent hears of its linked child's crash");

  // A normal exit is not a failure: it does not take linked processes down.
  troupe::spawn_link([] {});
  auto normal = troupe::receive<troupe::exit_message>();
  check(normal.reason.is_normal(), "a normal exit arrives as 'normal' and kills nobody");
  troupe::trap_exit(false);
}
// [links]

// [monitors]
// A monitor is one-way and says exactly once how the process ended; a monitor
// on a process that is already dead says `noproc` at once.
void monitors() {
  auto [p, ref] = troupe::spawn_monitor([] { troupe::exit(troupe::exit_reason::user("done with it")); });
  auto down = troupe::receive<troupe::down_message>();
  check(down.ref == ref && down.who == p && down.reason.detail() == "done with it", "a monitor reports the reason");

  auto late = troupe::monitor(p);
  check(troupe::receive<troupe::down_message>().reason.is(troupe::exit_kind::noproc) && late,
        "monitoring a dead process reports noproc");
}
// [monitors]

// [kill]
// exit(pid, reason) sends an exit signal. `kill` cannot be trapped: the target
// dies with `killed`, which its links then see as an ordinary reason.
void kill() {
  const troupe::pid me = troupe::self();
  troupe::pid stubborn = troupe::spawn([me] {
    troupe::trap_exit(true);
    troupe::send(me, std::string("trapping"));  // signals sent before this would not be trapped
    for (;;) troupe::receive([](troupe::exit_message) { /* ignore them all */ });
  });
  troupe::receive<std::string>();
  auto ref = troupe::monitor(stubborn);
  troupe::exit(stubborn, troupe::exit_reason::user("please stop"));  // trapped: becomes a message
  troupe::exit(stubborn, troupe::exit_reason::kill());                // not trappable
  auto down = troupe::receive<troupe::down_message>();
  check(down.ref == ref && down.reason.is(troupe::exit_kind::killed), "kill ends even a trapping process");
}
// [kill]

// [names]
// A registered name finds a process without knowing its pid; it is freed
// when the process dies.
void names() {
  troupe::pid logger = troupe::spawn([] { troupe::receive<std::string>(); });
  troupe::register_name("audit", logger);
  auto ref = troupe::monitor(logger);
  troupe::send("audit", std::string("user 42 logged in"));
  troupe::receive<troupe::down_message>();
  check(!troupe::whereis("audit"), "the name is freed when its process exits");
  try {
    troupe::send("audit", std::string("too late"));
    check(false, "send to an unknown name throws");
  } catch (const std::invalid_argument&) {
    check(true, "send to an unknown name throws");
  }
  (void)ref;
}
// [names]

// [overflow]
// Unbounded recursion hits the stack's guard page: only that process dies,
// with reason stack_overflow.
#pragma GCC diagnostic ignored "-Winfinite-recursion"  // that is the point
int deeper(int n) {
  volatile char frame[512];
  frame[0] = static_cast<char>(n);
  return deeper(n + 1) + frame[0];
}

void overflow() {
  troupe::spawn_monitor([] { deeper(0); });
  auto down = troupe::receive<troupe::down_message>();
  check(down.reason.is(troupe::exit_kind::stack_overflow), "a stack overflow kills only its process");
}
// [overflow]

int main() {
  // The crashes below are deliberate; keep their reports off the console.
  troupe::logger()->set_level(spdlog::level::off);
  troupe::runtime rt;
  rt.run([] {
    links();
    monitors();
    kill();
    names();
    overflow();
  });
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
