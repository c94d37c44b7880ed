// expect: static assert.*troupe::send: arrays cannot be messages
#include <troupe/process.hpp>

void f(troupe::pid to) { troupe::send(to, "hello"); }
