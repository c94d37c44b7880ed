// expect: static assert.*troupe::receive: the handlers' results must have a common type
#include <troupe/receive.hpp>

#include <string>

void f() {
  troupe::receive([](int i) { return i; }, [](std::string s) { return s; });
}
