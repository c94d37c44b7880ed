// expect: static assert.*troupe::receive: a handler must take exactly one parameter
#include <troupe/receive.hpp>

void f() {
  troupe::receive([](int, int) {});
}
