// expect: static assert.*troupe::receive: take troupe::any_message by reference
#include <troupe/receive.hpp>

void f() {
  troupe::receive([](troupe::any_message) {});
}
