#!/usr/bin/env bash
# Full test run for troupe on a Debian 12 machine (as root, or with sudo for
# the package step):
#
#   1. install missing Debian packages            (scripts/install-deps.sh)
#   2. configure + build  -> build/               (RelWithDebInfo, asserts on)
#   3. ctest
#   4. install into a temp prefix and build + run tests/consumer against it
#   5. AddressSanitizer + UBSan build -> build-asan/, and its ctest
#   6. ThreadSanitizer build -> build-tsan/, and its ctest (see below for
#      the tests and scheduler configurations it leaves out)
#   7. benchmark smoke: build/bench/troupe-bench all quick=1
#
# Environment knobs:
#   TROUPE_SKIP_ASAN=1        skip step 5
#   TROUPE_SKIP_TSAN=1        skip step 6
#   TROUPE_SKIP_BENCH=1       skip step 7
#   TROUPE_SKIP_DEPS=1        skip step 1
#   TROUPE_BUILD_TYPE=Debug   build type of build/ (default RelWithDebInfo)
#   TROUPE_TEST_TIMEOUT=300   per-test timeout in seconds (ASan: 2x)
#   TROUPE_CTEST_JOBS=2       parallel ctest jobs
#   JOBS=N                    parallel build jobs (default: nproc)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

start=$SECONDS
jobs="${JOBS:-$(nproc)}"
build_type="${TROUPE_BUILD_TYPE:-RelWithDebInfo}"
timeout="${TROUPE_TEST_TIMEOUT:-300}"
ctest_jobs="${TROUPE_CTEST_JOBS:-2}"
step_no=0
total_pass=0
total_fail=0
retried_log="$(mktemp /tmp/troupe-retried.XXXXXX)"

step() {
  step_no=$((step_no + 1))
  local t=$((SECONDS - start))
  printf '\n==================================================================\n'
  printf '== [%d] %s   (t+%dm%02ds)\n' "$step_no" "$*" $((t / 60)) $((t % 60))
  printf '==================================================================\n'
}

on_exit() {
  local rc=$?
  local t=$((SECONDS - start))
  echo
  if [[ -s "$retried_log" ]]; then
    echo "tests that failed a try (each passed or failed again on its retry, above):"
    cat "$retried_log"
  fi
  rm -f "$retried_log"
  if [[ $rc -eq 0 ]]; then
    echo "test.sh: ALL STEPS PASSED in $((t / 60))m$((t % 60))s"
  else
    echo "test.sh: FAILED (exit $rc) at step [$step_no] after $((t / 60))m$((t % 60))s" >&2
  fi
}
trap on_exit EXIT

# run_ctest BUILD_DIR TIMEOUT [CTEST_ARGS...]: runs ctest, adds its counts
# to the totals.
run_ctest() {
  local dir="$1" to="$2" log
  shift 2
  log="$(mktemp)"
  local rc=0
  ctest --test-dir "$dir" --output-on-failure --no-tests=error \
        -j"$ctest_jobs" --timeout "$to" "$@" 2>&1 | tee "$log" || rc=$?
  # "100% tests passed, 0 tests failed out of 42"
  local line
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)"
  # With --repeat until-pass, name every test whose first try failed, so a
  # flake that the retry hid still shows in the log's last lines.
  local retried
  retried="$(grep -E 'Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception)' "$log" |
             sed -E 's/.*Test +#[0-9]+: ([^ ]+).*/\1/' | sort -u || true)"
  if [[ -n "$retried" ]]; then
    printf '%s\n' "$retried" | sed 's/^/  failed a first try: /' >>"$retried_log"
  fi
  rm -f "$log"
  if [[ -n "$line" ]]; then
    local failed total
    failed="$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")"
    total="$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")"
    total_pass=$((total_pass + total - failed))
    total_fail=$((total_fail + failed))
  fi
  return "$rc"
}

# --------------------------------------------------------------------------
if [[ "${TROUPE_SKIP_DEPS:-0}" != 1 ]]; then
  step "Installing dependencies"
  "$repo/scripts/install-deps.sh"
fi

# --------------------------------------------------------------------------
step "Configure + build ($build_type) -> build/"
# RelWithDebInfo, but keep assert() enabled (no -DNDEBUG) for the tests.
# -g1 in all three builds: line tables and function names, which stack
# traces and sanitizer reports need, without the types and variables that
# made up about a third of a test file's compile time (the stack-trace
# test's own file keeps -g, tests/CMakeLists.txt).
cmake -S . -B build \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" \
  -DTROUPE_SANITIZE= \
  -DTROUPE_BUILD_TESTS=ON -DTROUPE_BUILD_BENCH=ON -DTROUPE_BUILD_EXAMPLES=ON
cmake --build build -j"$jobs"

# --------------------------------------------------------------------------
step "ctest (build/)"
# A failing test runs once more (--repeat until-pass:2): the machine is shared
# and noisy, and one rare flake must not sink the run; a failure twice in a
# row still fails, and every first-try failure is listed at the end.
run_ctest build "$timeout" --repeat until-pass:2

# --------------------------------------------------------------------------
step "Install + find_package consumer (tests/consumer)"
tmp="$(mktemp -d /tmp/troupe-install.XXXXXX)"
cmake --install build --prefix "$tmp/prefix"
cmake -S tests/consumer -B "$tmp/consumer-build" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix"
cmake --build "$tmp/consumer-build" -j"$jobs"
"$tmp/consumer-build/troupe-consumer"
rm -rf "$tmp"
echo "consumer: OK"

# --------------------------------------------------------------------------
if [[ "${TROUPE_SKIP_ASAN:-0}" != 1 ]]; then
  step "AddressSanitizer + UBSan build -> build-asan/"
  # The examples run in the plain build only: under ASan each costs about a
  # minute of CPU (a file's ASan build spends its time in the optimiser) and
  # tests nothing the tests do not.
  # -O1: the ASan+UBSan build of the tests took 23-32 min at -O2 and takes
  # 17 at -O1 on CI's two cores (12 with -g1, as now).
  cmake -S . -B build-asan \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DTROUPE_SANITIZE=address,undefined \
    -DTROUPE_BUILD_TESTS=ON -DTROUPE_BUILD_BENCH=OFF -DTROUPE_BUILD_EXAMPLES=OFF
  cmake --build build-asan -j"$jobs"

  step "ctest (build-asan/)"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  run_ctest build-asan $((timeout * 2)) --repeat until-pass:2
else
  step "AddressSanitizer build skipped (TROUPE_SKIP_ASAN=1)"
fi

# --------------------------------------------------------------------------
if [[ "${TROUPE_SKIP_TSAN:-0}" != 1 ]]; then
  step "ThreadSanitizer build -> build-tsan/"
  cmake -S . -B build-tsan \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DTROUPE_SANITIZE=thread -DTROUPE_TEST_GROUPS=OFF \
    -DTROUPE_BUILD_TESTS=ON -DTROUPE_BUILD_BENCH=OFF -DTROUPE_BUILD_EXAMPLES=OFF
  cmake --build build-tsan -j"$jobs"

  step "ctest (build-tsan/)"
  # Left out under TSan: stack-overflow tests (FailureOverflow*) (TSan's own SIGSEGV handling
  # does not let a guard-page fault reach troupe's handler) and death tests
  # (fork with running threads). Tests that keep more than 1,000 processes
  # alive scale down (live_processes() in tests/test_support.hpp): TSan
  # counts every fiber against its limit of 8,128 threads.
  # One case per process here, not a group (tests/ctest_groups.cmake): a
  # TSan process slows down as it ages, and grouped, timing-bound cases
  # (SpawnFromSeveralThreadsAtOnce, ExceptionEndsOnlyTheProcessThatThrew)
  # ran past their 30 s waits.
  # A test that fails is run once more (its first output is still printed):
  # in four full TSan runs one simple test once hung for 60 s and was never
  # seen again in 6,400 repeats; a failure twice in a row still fails.
  # Two scheduler configurations of four: two schedulers with stacks of
  # their own, and with shared stacks. They are the ones with threads and
  # stack copies for TSan to watch; one scheduler and four (on CI's two
  # cores) run in the plain and ASan builds. TSan's cost is making fibers
  # (it maps and zeroes a thread state for each): the full set ran for over
  # 30 min of a CI run that ended at 76; this set, with the stress tests cut
  # down (tests/test_support.hpp), runs in about 9 min on such a machine.
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$repo/tests/tsan.supp}"
  run_ctest build-tsan $((timeout * 2)) -E 'FailureOverflow|DeathTest|/sched[14]( |$)' --repeat until-pass:2
else
  step "ThreadSanitizer build skipped (TROUPE_SKIP_TSAN=1)"
fi

# --------------------------------------------------------------------------
if [[ "${TROUPE_SKIP_BENCH:-0}" != 1 ]]; then
  step "Benchmark smoke: troupe-bench all quick=1"
  if [[ ! -x build/bench/troupe-bench ]]; then
    echo "build/bench/troupe-bench was not built" >&2
    exit 1
  fi
  build/bench/troupe-bench all quick=1
else
  step "Benchmark smoke skipped (TROUPE_SKIP_BENCH=1)"
fi

echo
echo "ctest: ${total_pass} passed, ${total_fail} failed"
