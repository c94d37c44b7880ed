#!/usr/bin/env bash
# Run the Erlang/Go peer benchmarks that troupe is compared against.
#
#   bench/peers/run.sh [erlang|go|all] [WORKLOAD|all] [key=value...]
#
# WORKLOAD: spawn spawn_exit ring pingpong skynet fanin link_exit monitor_down
# throw_catch genserver_call genserver_idle supervisor_restart fairness.
# With no key=value arguments a workload runs its standard configuration(s)
# (ring, pingpong and throw_catch have two each, genserver_call three); with
# arguments it runs once with them.
# With WORKLOAD=all, the arguments are appended to every standard config.
# schedulers=N runs Erlang with +S N:N and Go with GOMAXPROCS=N (default:
# all cores). QUICK=1 scales the standard configs down 100x (smoke test;
# fairness only 10x, to n=2000, so its p99 still rests on 20 samples).
# Programs are compiled into /tmp/troupe-peers (override with PEERS_OUT).
# link_exit and monitor_down are Erlang only.
# troupe-bench's instrument_cost has no peer, and none can exist: it is the
# cost of troupe's own safe points, C++ built with troupe_preemptible over
# the same C++ built plain. Erlang and Go cannot be built without their
# preemption checks (every BEAM call counts a reduction, every Go function
# checks its stack bound), so there is no plain build to divide by.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${PEERS_OUT:-/tmp/troupe-peers}
lang=${1:-all}
workload=${2:-all}
shift $(($# < 2 ? $# : 2))
extra=("$@")

case $lang in erlang | go | all) ;; *)
    echo "usage: $0 [erlang|go|all] [WORKLOAD|all] [key=value...]" >&2
    exit 2
    ;;
esac

# Standard configurations, one "workload args..." per line.
standard() {
    if [[ ${QUICK:-0} != 0 ]]; then
        cat <<EOF
spawn n=10000
spawn_exit n=10000
ring n=10000 rounds=1 tokens=1
ring n=1000 rounds=10 tokens=10
pingpong n=10000 schedulers=1
pingpong n=10000 schedulers=2
skynet n=10000
fanin senders=1000 msgs=10
link_exit n=1000
monitor_down n=1000
throw_catch n=1000 depth=10 traces=0
throw_catch n=1000 depth=10 traces=1
genserver_call n=10000 clients=1
genserver_call n=100 clients=100
genserver_call n=10000 clients=1 backlog=1000
genserver_idle n=10000
supervisor_restart n=200
fairness n=2000 hogs=0
fairness n=2000 hogs=4
fairness n=2000 hogs=4 schedulers=1
EOF
    else
        cat <<EOF
spawn n=1000000
spawn_exit n=1000000
ring n=10000 rounds=100 tokens=1
ring n=1000 rounds=10 tokens=1000
pingpong n=1000000 schedulers=1
pingpong n=1000000 schedulers=2
skynet n=1000000
fanin senders=1000 msgs=1000
link_exit n=100000
monitor_down n=100000
throw_catch n=100000 depth=10 traces=0
throw_catch n=100000 depth=10 traces=1
genserver_call n=1000000 clients=1
genserver_call n=10000 clients=100
genserver_call n=1000000 clients=1 backlog=100000
genserver_idle n=1000000
supervisor_restart n=20000
fairness n=20000 hogs=0
fairness n=20000 hogs=4
fairness n=20000 hogs=4 schedulers=1
EOF
    fi
}

build() {
    mkdir -p "$out"
    if [[ $lang != go ]]; then
        # peers.erl and the behaviour modules it uses (peers_*.erl).
        local src
        for src in "$here"/*.erl; do
            if [[ ! "$out/$(basename "${src%.erl}").beam" -nt "$src" ]]; then
                erlc -o "$out" "$src"
            fi
        done
    fi
    if [[ $lang != erlang && ! "$out/peers-go" -nt "$here/peers.go" ]]; then
        (cd "$here" && GO111MODULE=off GOCACHE="$out/gocache" GOPATH="$out/gopath" \
            go build -o "$out/peers-go" peers.go)
    fi
}

# run_one LANG WORKLOAD ARGS...
run_one() {
    local l=$1 w=$2 sched="" a
    shift 2
    for a in "$@"; do [[ $a == schedulers=* ]] && sched=${a#schedulers=}; done
    if [[ $l == erlang ]]; then
        # +P: room for a million processes; +S N:N: schedulers (and online).
        erl -noshell +P 5000000 ${sched:++S $sched:$sched} -pa "$out" \
            -run peers main "$w" "$@"
    else
        case $w in link_exit | monitor_down)
            echo "# go: $w skipped (Go has no links/monitors)" >&2
            return 0
            ;;
        esac
        ${sched:+env GOMAXPROCS=$sched} "$out/peers-go" "$w" "$@"
    fi
}

build

langs=(erlang go)
[[ $lang != all ]] && langs=("$lang")

if [[ $workload != all && ${#extra[@]} -gt 0 ]]; then
    configs=("$workload")
else
    mapfile -t configs < <(standard | awk -v w="$workload" 'w == "all" || $1 == w')
    if [[ ${#configs[@]} -eq 0 ]]; then
        echo "$0: unknown workload '$workload'" >&2
        exit 2
    fi
fi

status=0
for cfg in "${configs[@]}"; do
    for l in "${langs[@]}"; do
        # shellcheck disable=SC2086 # cfg is "workload k=v ..." and must split
        run_one "$l" $cfg "${extra[@]}" || status=1
    done
done
exit $status
