# Registers troupe-tests with ctest one test per group instead of one per
# case: a group is a suite under one scheduler configuration
# (Schedulers/HeapTest/sched2 runs --gtest_filter=Schedulers/HeapTest.*/sched2),
# or a whole suite that has no configurations.
#
# Why: under the sanitizers a test process costs about 0.6 s before its first
# case runs (ASan's and UBSan's start-up and the leak check at exit). Per case
# that was most of CI's sanitizer time; per group it is 220 starts, not 1,700.
# A failing group's output still names the failing case.
#
# Run at build time, after troupe-tests links (as gtest_discover_tests is):
#   cmake -D EXE=<troupe-tests> -D OUT=<file> -D TIMEOUT=<seconds> -P ctest_groups.cmake
# OUT is a ctest script, included through TEST_INCLUDE_FILES.
cmake_minimum_required(VERSION 3.16)  # a script's policies: IN_LIST

execute_process(COMMAND "${EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctest_groups: ${EXE} --gtest_list_tests failed (${rc}): ${err}")
endif()

string(REPLACE "\n" ";" lines "${listing}")
set(suite "")
set(names "")
set(script "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ #][^ ]*)\\.$")  # "Schedulers/HeapTest."
    set(suite "${CMAKE_MATCH_1}")
  elseif(suite AND line MATCHES "^  ([^ ]+)")  # "  Case/sched2  # GetParam() = ..."
    set(case "${CMAKE_MATCH_1}")
    if(case MATCHES "/([^/]+)$")
      set(name "${suite}/${CMAKE_MATCH_1}")
      set(filter "${suite}.*/${CMAKE_MATCH_1}")
    else()
      set(name "${suite}")
      set(filter "${suite}.*")
    endif()
    if(NOT name IN_LIST names)
      list(APPEND names "${name}")
      string(APPEND script "add_test([=[${name}]=] [=[${EXE}]=] [=[--gtest_filter=${filter}]=])\n"
                           "set_tests_properties([=[${name}]=] PROPERTIES TIMEOUT ${TIMEOUT})\n")
    endif()
  endif()
endforeach()

if(NOT names)
  message(FATAL_ERROR "ctest_groups: ${EXE} listed no tests")
endif()
file(WRITE "${OUT}" "${script}")
