// expect: static assert.*troupe::receive: each clause must be a handler
#include <troupe/receive.hpp>

void f() {
  troupe::receive([](int) {}, 42);
}
