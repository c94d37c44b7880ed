#!/usr/bin/env bash
# Installs dependencies, builds troupe in Release into build-release/, and runs
# the bundled benchmark suite:
#
#   scripts/bench.sh                  # build-release/bench/troupe-bench all
#   scripts/bench.sh quick=1          # extra arguments go to troupe-bench
#
# Environment knobs:
#   TROUPE_INSTALL_PEERS=0   don't install erlang-base / golang-go (peer comparisons)
#   TROUPE_SKIP_DEPS=1       skip the package step
#   JOBS=N                   parallel build jobs (default: nproc)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
start=$SECONDS
jobs="${JOBS:-$(nproc)}"

header() {
  local t=$((SECONDS - start))
  printf '\n== %s   (t+%dm%02ds)\n\n' "$*" $((t / 60)) $((t % 60))
}

if [[ "${TROUPE_SKIP_DEPS:-0}" != 1 ]]; then
  header "Installing dependencies"
  if [[ "${TROUPE_INSTALL_PEERS:-1}" == 1 ]]; then
    "$repo/scripts/install-deps.sh" --peers
  else
    "$repo/scripts/install-deps.sh"
  fi
fi

header "Configure + build (Release) -> build-release/"
cmake -S . -B build-release \
  -DCMAKE_BUILD_TYPE=Release \
  -DTROUPE_SANITIZE= \
  -DTROUPE_BUILD_BENCH=ON -DTROUPE_BUILD_TESTS=OFF -DTROUPE_BUILD_EXAMPLES=OFF
cmake --build build-release -j"$jobs" --target troupe-bench

header "Running: troupe-bench all $*"
build-release/bench/troupe-bench all "$@"

t=$((SECONDS - start))
echo
echo "bench.sh: done in $((t / 60))m$((t % 60))s"
