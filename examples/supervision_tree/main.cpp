// supervision_tree: an application-shaped tree. A top supervisor runs a
// registry (a gen_server), a dynamic supervisor of session servers, and a
// periodic worker driven by send_after. The worker crashes on purpose every
// third tick: watch the supervisor restart it in the log, until restarts come
// too fast, the top supervisor gives up, and the application ends with 1.
#include <troupe/application.hpp>
#include <troupe/dynamic_supervisor.hpp>
#include <troupe/gen_server.hpp>
#include <troupe/log.hpp>
#include <troupe/supervisor.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <map>
#include <string>

#include <fmt/format.h>

using namespace std::chrono_literals;

// -- the registry: names to session pids --
struct register_session {
  std::string user;
  troupe::pid session;
};
struct find_session {
  std::string user;
};

struct registry : troupe::gen_server<registry> {
  std::map<std::string, troupe::pid> sessions;
  void handle_cast(register_session r) { sessions[r.user] = r.session; }
  troupe::pid handle_call(const find_session& f) {
    auto it = sessions.find(f.user);
    return it == sessions.end() ? troupe::pid{} : it->second;
  }
};

// -- a session per user, under the dynamic supervisor --
struct hello {};
struct session : troupe::gen_server<session> {
  std::string user;
  explicit session(std::string u) : user(std::move(u)) {
    troupe::cast(troupe::server<registry>::named("registry"), register_session{user, troupe::self()});
  }
  std::string handle_call(hello) { return "hello, " + user; }
};
using sessions = troupe::dynamic_supervisor<std::string>;

// -- the periodic worker: a tick every 20 ms; the third one crashes it --
struct tick {};
struct ticker : troupe::gen_server<ticker> {
  using info_messages = std::tuple<tick>;
  int n = 0;
  troupe::next_action init() {
    troupe::send_after(troupe::self(), 20ms, tick{});
    return noreply();
  }
  void handle_info(tick) {
    if (++n == 3) throw std::runtime_error("tick 3: crashing on purpose");
    troupe::logger()->info("ticker {}: tick {}", troupe::self(), n);
    troupe::send_after(troupe::self(), 20ms, tick{});
  }
};

int main() {
  const int status = troupe::application::run([] {
    auto top = troupe::supervisor::start_link(
        {.strategy = troupe::one_for_one, .max_restarts = 2, .max_seconds = 10s},
        {
            troupe::worker("registry", [] { return registry::start_link(troupe::server_options{.name = "registry"}); }),
            troupe::supervisor_child("sessions", [] {
              auto s = sessions::start_link([](std::string u) { return session::start_link(std::move(u)); });
              if (s) {
                s->start_child("ada");
                s->start_child("grace");
              }
              return troupe::start_result<troupe::pid>(s.status(), s.ok() ? s->pid() : troupe::pid{}, s.reason());
            }),
            troupe::worker("ticker", [] { return ticker::start_link(); }),
        });
    if (top) {
      troupe::spawn([] {
        troupe::sleep_for(10ms);
        const auto ada = troupe::call(troupe::server<registry>::named("registry"), find_session{"ada"});
        troupe::logger()->info("registry says ada is {}: {}", ada, troupe::call(troupe::server<session>(ada), hello{}));
      });
    }
    return top;
  });
  // The tree was meant to give up: the ticker crashed three times in 10 s.
  fmt::print("application ended with {}\n", status);
  return status == 1 ? 0 : 1;
}
