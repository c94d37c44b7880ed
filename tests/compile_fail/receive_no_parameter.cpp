// expect: static assert.*troupe::receive: a handler must take the message as its one parameter
#include <troupe/receive.hpp>

void f() {
  troupe::receive([] {});
}
