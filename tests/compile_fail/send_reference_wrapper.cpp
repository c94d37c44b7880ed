// expect: static assert.*troupe::send: a message must own its data
#include <troupe/process.hpp>

#include <functional>
#include <string>

void f(troupe::pid to) {
  std::string s = "mine";
  troupe::send(to, std::cref(s));
}
