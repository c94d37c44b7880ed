// expect: static assert.*troupe::send: a message's destructor must be noexcept
#include <troupe/process.hpp>

struct grumpy {
  int n = 0;
  ~grumpy() noexcept(false) {}
};

void f(troupe::pid to) { troupe::send(to, grumpy{}); }
