#!/usr/bin/env bash
# Run the Erlang/Go peer benchmarks that troupe is compared against.
#
#   bench/peers/run.sh [erlang|go|all] [WORKLOAD|all] [key=value...]
#
# WORKLOAD: spawn spawn_exit ring pingpong skynet fanin link_exit monitor_down
# throw_catch genserver_call genserver_idle supervisor_restart fairness
# tcp_echo tcp_hold chat.
# With no key=value arguments a workload runs its standard configuration(s)
# (ring, pingpong and throw_catch have two each, genserver_call three); with
# arguments it runs once with them.
# With WORKLOAD=all, the arguments are appended to every standard config.
# schedulers=N runs Erlang with +S N:N and Go with GOMAXPROCS=N (default:
# all cores). QUICK=1 scales the standard configs down 100x (smoke test;
# fairness only 10x, to n=2000, so its p99 still rests on 20 samples; the
# TCP workloads to 50 connections, tcp_hold to 200).
# Programs are compiled into /tmp/troupe-peers (override with PEERS_OUT).
# link_exit and monitor_down are Erlang only.
#
# tcp_echo, tcp_hold and chat are TCP workloads: run.sh starts the peer's
# server (peers_tcp.erl, or tcp/peers_tcp.go) on a free port of 127.0.0.1
# and runs troupe-loadgen (bench/loadgen/README.md) against it, the same
# client for every server; the loadgen's RESULT line becomes the PEER line.
# tcp_echo and tcp_hold use the echo server, chat the chat server (writes
# batched by hand; variant=unbatched for one write per delivery). The
# loadgen is $LOADGEN, else build-release/bench/troupe-loadgen, else
# build/bench/troupe-loadgen (cmake --build DIR --target troupe-loadgen).
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
tcp_echo c=50 m=100 s=64
tcp_hold c=200
chat c=50 r=5 m=20
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
tcp_echo c=1000 m=1000 s=64
tcp_hold c=10000
chat c=1000 r=10 m=100
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
    if [[ $lang != erlang && ! "$out/peers-tcp-go" -nt "$here/tcp/peers_tcp.go" ]]; then
        (cd "$here/tcp" && GO111MODULE=off GOCACHE="$out/gocache" GOPATH="$out/gopath" \
            go build -o "$out/peers-tcp-go" peers_tcp.go)
    fi
}

is_tcp() { [[ $1 == tcp_echo || $1 == tcp_hold || $1 == chat ]]; }

# find_loadgen: sets loadgen, or exits.
loadgen=""
find_loadgen() {
    local repo c
    repo=$(cd "$here/../.." && pwd)
    for c in "${LOADGEN:-}" "$repo/build-release/bench/troupe-loadgen" "$repo/build/bench/troupe-loadgen"; do
        if [[ -n $c && -x $c && -f $c ]]; then
            loadgen=$c
            return 0
        fi
        if [[ -n $c && $c == "${LOADGEN:-}" ]]; then
            echo "$0: LOADGEN=$c is not an executable file" >&2
            exit 2
        fi
    done
    echo "$0: troupe-loadgen not found in $repo/build-release/bench or $repo/build/bench." \
        "Build it (cmake --build build-release --target troupe-loadgen) or set LOADGEN=path." >&2
    exit 2
}

# The TCP server being measured, so that an interrupted run does not leave
# it behind.
server_pid=""
stop_server() {
    [[ -n $server_pid ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap stop_server EXIT

# start_server LANG MODE SCHED: starts the peer's TCP server on a free port
# and waits until it accepts connections; sets server_pid and port. Ports
# 20000-29999 are below Linux's ephemeral range, so the loadgen's own
# connections never take the one picked.
start_server() {
    local l=$1 mode=$2 sched=$3 try i
    for ((try = 0; try < 10; try++)); do
        port=$((20000 + RANDOM % 10000))
        # Something already listens there.
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        if [[ $l == erlang ]]; then
            # +Q: room for the ports of 15,000 connections and more. No +K:
            # kernel poll has been always on (and +K ignored) since OTP 21.
            # Logger at warning: no notice of the SIGTERM that stops it.
            erl -noshell +Q 65536 ${sched:++S $sched:$sched} -kernel logger_level warning \
                -pa "$out" -run peers_tcp main "$mode" "$port" >&2 &
        else
            ${sched:+env GOMAXPROCS=$sched} "$out/peers-tcp-go" "$mode" "$port" >&2 &
        fi
        server_pid=$!
        for ((i = 0; i < 200; i++)); do
            if ! kill -0 "$server_pid" 2>/dev/null; then
                break # e.g. the port was taken meanwhile: try another
            fi
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                return 0
            fi
            sleep 0.05
        done
        stop_server
    done
    echo "$0: $l: the $mode server did not start" >&2
    return 1
}

# run_tcp LANG WORKLOAD ARGS...: the loadgen against the peer's server; its
# "RESULT workload=W params... server=LANG metrics..." line is printed as
# "PEER lang=LANG workload=W params... [variant=V] schedulers=N metrics...".
run_tcp() {
    local l=$1 w=$2 sched="" variant="" mode a line status=0
    shift 2
    local args=()
    for a in "$@"; do
        case $a in
        schedulers=*) sched=${a#schedulers=} ;;
        variant=*) variant=${a#variant=} ;;
        *) args+=("$a") ;;
        esac
    done
    case $w/$variant in
    tcp_echo/ | tcp_hold/) mode="echo" ;;
    chat/) mode=chat ;;
    chat/unbatched) mode=chat_unbatched ;;
    *)
        echo "$0: $w has no variant '$variant'" >&2
        return 1
        ;;
    esac
    start_server "$l" "$mode" "$sched" || return 1
    line=$("$loadgen" "$w" "${args[@]}" port="$port" server_pid="$server_pid" label="$l") || status=$?
    stop_server
    if ((status != 0)); then
        echo "$0: $l $w: troupe-loadgen failed (exit status $status)" >&2
        return 1
    fi
    sed -e "s/^RESULT workload=/PEER lang=$l workload=/" \
        -e "s/ server=$l / ${variant:+variant=$variant }schedulers=${sched:-$(nproc)} /" <<<"$line"
}

# run_one LANG WORKLOAD ARGS...
run_one() {
    local l=$1 w=$2 sched="" a
    shift 2
    if is_tcp "$w"; then
        run_tcp "$l" "$w" "$@"
        return
    fi
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

for cfg in "${configs[@]}"; do
    if is_tcp "${cfg%% *}"; then
        find_loadgen
        break
    fi
done

status=0
for cfg in "${configs[@]}"; do
    for l in "${langs[@]}"; do
        # shellcheck disable=SC2086 # cfg is "workload k=v ..." and must split
        run_one "$l" $cfg "${extra[@]}" || status=1
    done
done
exit $status
