#!/usr/bin/env bash
# Installs troupe's build dependencies from Debian 12 packages.
#
#   scripts/install-deps.sh            # build + test + bench dependencies
#   scripts/install-deps.sh --peers    # ... plus erlang-base, golang-go and
#                                      #     gnuplot-nox (the peer comparison
#                                      #     benchmarks and bench/compare.sh's chart)
#   TROUPE_INSTALL_PEERS=1 scripts/install-deps.sh   # same as --peers
#
# Idempotent: only missing packages are installed, and `apt-get update` runs
# only when something is missing. Needs root (or sudo) only in that case.
set -euo pipefail

peers="${TROUPE_INSTALL_PEERS:-0}"
for arg in "$@"; do
  case "$arg" in
    --peers) peers=1 ;;
    --no-peers) peers=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake g++
  libboost-context-dev libboost-dev
  libconcurrentqueue-dev libmimalloc-dev
  libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgcc-12-dev  # GCC's libbacktrace (backtrace.h, libbacktrace.a): symbolized stack traces
  gcc-12-plugin-dev  # GCC's plugin headers: troupe_preemptible's safe-point plugin
)
if [[ "$peers" == 1 ]]; then
  packages+=(erlang-base golang-go gnuplot-nox)
fi

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing missing packages: ${missing[*]}"
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -E)
  else
    echo "install-deps: not root and no sudo; install manually: apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

still=()
for p in "${missing[@]}"; do
  installed "$p" || still+=("$p")
done
if (( ${#still[@]} )); then
  echo "install-deps: failed to install: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: done"
