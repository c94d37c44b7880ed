// expect: troupe::send: this case compiles, so the checker must reject it
// The harness checking itself: this case claims an error it does not
// produce; ctest registers it inverted, so it passes only if check.cmake
// reports the mismatch.
#include <troupe/process.hpp>

#include <string>

void fine(troupe::pid to) { troupe::send(to, std::string("ok")); }
