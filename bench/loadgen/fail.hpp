#pragma once
// Every check in the generator ends the run the same way: a message on
// stderr and exit status 1, so run.sh and its callers see a broken server as
// a failed benchmark rather than as a (fast) figure.

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace loadgen {

[[noreturn]] __attribute__((format(printf, 1, 2))) inline void fail(const char* format, ...) {
  std::fflush(stdout);
  std::fputs("troupe-loadgen: ", stderr);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::exit(1);
}

}  // namespace loadgen
