// expect: static assert.*troupe::send: the message cannot be copied from this argument; std::move it in
#include <troupe/process.hpp>

#include <memory>

void f(troupe::pid to) {
  auto p = std::make_unique<int>(1);
  troupe::send(to, p);
}
