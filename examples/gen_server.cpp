// gen_server.cpp: a typed GenServer and a supervisor that restarts it.
// (docs/behaviours.md walks through it.)
#include <troupe/gen_server.hpp>
#include <troupe/supervisor.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

using namespace std::chrono_literals;

// The protocol: one type per request. handle_call's return type is the reply's.
struct put {
  std::string key, value;
};
struct lookup {
  std::string key;
};
struct size {};
struct boom {};

class kv_store : public troupe::gen_server<kv_store> {
 public:
  // The constructor runs in the server's process: it is init.
  kv_store() = default;

  bool handle_call(put p) { return map_.insert_or_assign(std::move(p.key), std::move(p.value)).second; }
  std::string handle_call(const lookup& l) {
    auto it = map_.find(l.key);
    return it == map_.end() ? std::string() : it->second;
  }
  std::size_t handle_call(size) { return map_.size(); }
  void handle_cast(boom) { throw std::runtime_error("asked to crash"); }

  [[nodiscard]] std::size_t keys() const { return map_.size(); }

 private:
  std::map<std::string, std::string> map_;
};

// A formattable server shows its state in its crash report.
template <>
struct fmt::formatter<kv_store> : fmt::formatter<std::string_view> {
  auto format(const kv_store& s, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{} keys", s.keys());
  }
};

int main() {
  troupe::runtime rt;
  return rt.run([] {
    // A supervisor with one child, registered by name so clients can find it.
    auto sup = troupe::supervisor::start_link(
        {.strategy = troupe::one_for_one, .max_restarts = 3, .max_seconds = 5s},
        {troupe::worker("store", [] { return kv_store::start_link(troupe::server_options{.name = "store"}); })});
    if (!sup) return 1;

    auto store = troupe::server<kv_store>::named("store");
    troupe::call(store, put{"greeting", "hello"});
    const std::string v = troupe::call(store, lookup{"greeting"});  // typed: a std::string
    fmt::print("greeting = {}\n", v);

    // A crash: the supervisor logs it and starts a fresh, empty store.
    const troupe::pid before = store.pid();
    troupe::cast(store, boom{});
    troupe::server<kv_store> again;
    while (!(again = troupe::server<kv_store>::named("store")) || again.pid() == before) troupe::sleep_for(1ms);
    const std::size_t n = troupe::call(again, size{});
    fmt::print("restarted: {} -> {}, {} keys\n", before, again.pid(), n);

    // A call that cannot be answered ends in a call_error, here caught.
    try {
      troupe::call(troupe::server<kv_store>::named("nobody"), size{});
    } catch (const troupe::call_error& e) {
      fmt::print("call to nobody: {}\n", e.cause());
    }
    troupe::unlink(*sup);
    troupe::exit(*sup, troupe::exit_reason::shutdown());
    return n == 0 && v == "hello" ? 0 : 1;
  });
}
