// expect: static assert.*troupe::receive: a handler must take one concrete message type.*generic lambda
#include <troupe/receive.hpp>

void f() {
  troupe::receive([](int) {}, [](const auto& x) { return x.size(); });
}
