# Compiles one compile-fail case and checks the result (run by ctest through
# `cmake -P`, see tests/CMakeLists.txt).
#
#   -DCOMPILER=<c++>  -DFLAGS_FILE=<response file with troupe's flags>
#   -DSOURCE=<case.cpp>  [-DINVERT=ON: the harness checking itself]
#
# The case's first line says what must happen:
#   // expect: compiles          the case must compile (a control)
#   // expect: <regex>           it must not compile, with exactly one error,
#                                and that error's line must match <regex>
# One error only, in a few lines: a broken clause or message must give the
# user one static_assert stating the rule, not a cascade from inside troupe.
foreach(var COMPILER FLAGS_FILE SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check.cmake: -D${var}=... is required")
  endif()
endforeach()

file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^// expect: (.+)$")
  message(FATAL_ERROR "${SOURCE}: the first line must be `// expect: compiles` or `// expect: <regex>`")
endif()
set(expect "${CMAKE_MATCH_1}")
set(max_lines 12)  # GCC 12: "In instantiation of", "required from", the error, its source line, a note

execute_process(
  COMMAND "${COMPILER}" "@${FLAGS_FILE}" -fsyntax-only "${SOURCE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)

# The verdict, before INVERT: empty if the case behaved as it says.
set(problem "")
if(expect STREQUAL "compiles")
  if(NOT rc EQUAL 0)
    set(problem "expected to compile, but the compiler said (exit ${rc}):\n${out}")
  endif()
else()
  # CMake lists split at ';', which error messages contain: match on a copy
  # without them (the expectation spelled the same way).
  string(REPLACE ";" "<semicolon>" out_no_semicolons "${out}")
  string(REPLACE ";" "<semicolon>" expect "${expect}")
  string(REGEX MATCHALL "[^\n]*: (fatal )?error: [^\n]*" errors "${out_no_semicolons}")
  list(LENGTH errors n_errors)
  string(REGEX MATCHALL "\n" newlines "${out}")
  list(LENGTH newlines n_lines)
  if(rc EQUAL 0)
    set(problem "expected not to compile, but it compiled")
  elseif(n_errors EQUAL 0)
    set(problem "the compiler failed without an error line (exit ${rc}):\n${out}")
  else()
    list(GET errors 0 first_error_no_semicolons)
    string(REPLACE "<semicolon>" ";" first_error "${first_error_no_semicolons}")
    if(NOT first_error_no_semicolons MATCHES "${expect}")
      string(REPLACE "<semicolon>" ";" expect "${expect}")
      set(problem "the first error does not match `${expect}`:\n${first_error}\n\nfull output:\n${out}")
    elseif(NOT n_errors EQUAL 1)
      set(problem "${n_errors} errors instead of one (a cascade after the first):\n${out}")
    elseif(n_lines GREATER max_lines)
      set(problem "${n_lines} lines of diagnostics, more than ${max_lines}:\n${out}")
    endif()
  endif()
endif()

if(INVERT)
  if(problem STREQUAL "")
    message(FATAL_ERROR "${SOURCE}: the harness accepted a case it was told to reject")
  endif()
  message(STATUS "${SOURCE}: rejected as it should be:\n${problem}")
elseif(problem STREQUAL "")
  if(expect STREQUAL "compiles")
    message(STATUS "${SOURCE}: compiles")
  else()
    message(STATUS "${SOURCE}: one error (${n_lines} lines of output), as expected:\n${first_error}")
  endif()
else()
  message(FATAL_ERROR "${SOURCE}: ${problem}")
endif()
