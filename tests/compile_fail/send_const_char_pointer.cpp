// expect: static assert.*troupe::send: raw pointers cannot be messages
#include <troupe/process.hpp>

void f(troupe::pid to) {
  const char* text = "hello";
  troupe::send(to, text);
}
