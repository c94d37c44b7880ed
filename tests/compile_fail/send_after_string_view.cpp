// expect: static assert.*troupe::send_after: a message must own its data
#include <troupe/timer.hpp>

#include <chrono>
#include <string_view>

void f(troupe::pid to) { troupe::send_after(to, std::chrono::seconds(1), std::string_view("late")); }
