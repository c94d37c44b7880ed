// expect: static assert.*troupe::send: a message must own its data
#include <troupe/process.hpp>

#include <string_view>

void f(troupe::pid to) { troupe::send(to, std::u8string_view(u8"hello")); }
