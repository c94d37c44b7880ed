// expect: compiles
// The control: everything here is allowed, so if this fails to compile, the
// harness's flags are wrong (and the other cases prove nothing).
#include <troupe/process.hpp>
#include <troupe/receive.hpp>
#include <troupe/timer.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

void on_int(int) {}
void on_text(const std::string&) {}

void clauses() {
  troupe::receive(on_int, on_text);  // function names decay to pointers
  troupe::receive(&on_int, [](troupe::any_message& m) { (void)m.type_name(); });
  troupe::receive(troupe::when([](const troupe::any_message& m) { return m.is<int>(); },
                               [](const troupe::any_message&) {}),
                  troupe::after(std::chrono::hours::max(), [] {}));
  const auto guarded = troupe::when([](int i) { return i > 0; }, [](int) {});
  (void)troupe::receive_for<std::vector<int>>(std::chrono::duration<double>(1e30));
  troupe::receive(guarded, [](std::string&&) {});
}

void messages(troupe::pid to) {
  troupe::send(to, std::string("owned"));
  troupe::send(to, std::make_unique<int>(1));
  auto v = std::make_unique<int>(2);
  troupe::send(to, std::move(v));
  troupe::send(to, std::tuple<int, std::string>(1, "x"));
  troupe::send_after(to, std::chrono::milliseconds::max(), 7);
  troupe::sleep_for(std::chrono::years(1000));
}

// The trait covers every char type and every extent.
static_assert(troupe::is_non_owning_v<std::u16string_view>);
static_assert(troupe::is_non_owning_v<const std::wstring_view>);
static_assert(troupe::is_non_owning_v<std::span<int, 3>>);
static_assert(troupe::is_non_owning_v<std::span<const char>>);
static_assert(troupe::is_non_owning_v<std::pair<int, std::string_view>>);
static_assert(!troupe::is_non_owning_v<std::vector<int>>);
static_assert(!troupe::is_non_owning_v<std::string>);
