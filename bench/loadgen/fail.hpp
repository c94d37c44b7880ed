#pragma once
// Every check in the generator ends the run the same way: a message on
// stderr and exit status 1, so run.sh and its callers see a broken server as
// a failed benchmark rather than as a (fast) figure.

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace loadgen {

/// Says why on stderr and exits with `code` (1: a failed run, 2: bad usage).
[[noreturn]] inline void vfail(int code, const char* format, va_list args) {
  std::fflush(stdout);
  std::fputs("troupe-loadgen: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
  std::exit(code);
}

[[noreturn]] __attribute__((format(printf, 1, 2))) inline void fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vfail(1, format, args);
}

}  // namespace loadgen
