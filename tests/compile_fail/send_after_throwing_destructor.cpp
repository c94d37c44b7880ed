// expect: static assert.*troupe::send_after: a message's destructor must be noexcept
#include <troupe/timer.hpp>

#include <chrono>

struct grumpy {
  ~grumpy() noexcept(false) {}
};

void f(troupe::pid to) { troupe::send_after(to, std::chrono::seconds(1), grumpy{}); }
