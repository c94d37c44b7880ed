// expect: static assert.*troupe::send: a message must own its data
#include <troupe/process.hpp>

#include <array>
#include <span>

void f(troupe::pid to) {
  std::array<int, 3> a{1, 2, 3};
  troupe::send(to, std::span<int, 3>(a));
}
