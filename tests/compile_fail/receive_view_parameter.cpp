// expect: static assert.*troupe::receive: a handler's parameter must be a type that can be sent
#include <troupe/receive.hpp>

#include <string_view>

void f() {
  troupe::receive([](std::string_view) {});
}
