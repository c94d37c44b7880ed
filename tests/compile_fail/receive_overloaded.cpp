// expect: static assert.*troupe::receive: a handler must take one concrete message type.*overloaded
#include <troupe/receive.hpp>

#include <string>

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};

void f() {
  troupe::receive(overloaded{[](int) {}, [](const std::string&) {}});
}
