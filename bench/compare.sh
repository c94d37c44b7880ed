#!/usr/bin/env bash
# Runs troupe's standard benchmark set next to the Erlang and Go peers
# (bench/peers/) in one session and prints a Markdown comparison table,
# then draws the table's ratios as a PNG bar chart (with gnuplot).
#
#   bench/compare.sh [runs=N] [quick=1] [troupe=PATH] [only=troupe,erlang,go] [log=PATH]
#
#   runs=N       full rounds, default 3. Each round runs `troupe-bench all`,
#                then `bench/peers/run.sh erlang all`, then `... go all`
#                (troupe, erlang, go, troupe, erlang, go, ...), so machine
#                noise hits all of them alike. The table shows the median of
#                the N rounds for each metric.
#   quick=1      smoke test: quick=1 to troupe-bench, QUICK=1 to the peers.
#                The two shrink the ring and fanin configurations differently;
#                the Notes column says where the configurations differ.
#   troupe=PATH  the troupe-bench binary to use. Default: configure and build
#                it in Release into build-release/ (as scripts/bench.sh does;
#                an up-to-date build is a no-op) and use
#                build-release/bench/troupe-bench.
#   only=LIST    comma-separated subset of troupe,erlang,go (default: all).
#   log=PATH     raw log (default: /tmp/troupe-compare-DATE.log). It gets every
#                RESULT/PEER line plus the header; the Markdown goes to stdout
#                and to PATH with .md in place of .log, the chart to PATH with
#                .png, and the ratios it is drawn from to PATH with .tsv.
#
# The peers' TCP workloads (tcp_echo, tcp_hold, chat) need troupe-loadgen:
# $LOADGEN if set, else it is built in Release into build-release/ too.
#
# Ratios are oriented so that > 1 means troupe is better: troupe/peer for
# rates (msgs_per_sec, per_sec), peer/troupe for times and sizes (seconds,
# spawn_seconds, teardown_seconds, ns_per_roundtrip, ns_per_throw,
# bytes_per_process).
#
# The chart (RUN.png, beside RUN.md) has one row per table row (workload
# configuration and metric) with a bar for the ratio vs Erlang and one vs Go,
# on a log scale, each starting at the parity line 1.0: right of it troupe is
# better, left of it the peer. It is bench/compare/ratios.gp drawing RUN.tsv,
# which compare.py writes with --chart-data.
#
# To re-make the table, and the chart, from an existing log RUN.log:
#   python3 bench/compare/compare.py RUN.log --chart-data RUN.tsv > RUN.md
#   gnuplot -e "data='RUN.tsv'; out='RUN.png'" bench/compare/ratios.gp
#
# Needs erl/erlc (Debian package erlang-base) and go (golang-go) for the
# peers, and gnuplot (gnuplot-nox) for the chart: scripts/install-deps.sh
# --peers installs all three. Without gnuplot the table is made as usual and
# the chart is left out, with a note on stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

die() {
    echo "compare.sh: $*" >&2
    exit 2
}
say() { echo "compare.sh: $*" >&2; }

runs=3
quick=0
troupe=""
only="troupe,erlang,go"
log=""
for arg in "$@"; do
    case $arg in
    runs=*) runs=${arg#runs=} ;;
    quick=*) quick=${arg#quick=} ;;
    troupe=*) troupe=${arg#troupe=} ;;
    only=*) only=${arg#only=} ;;
    log=*) log=${arg#log=} ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument '$arg' (try --help)" ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "runs must be a positive integer, not '$runs'"
[[ $quick =~ ^[0-9]+$ ]] || die "quick must be 0 or 1, not '$quick'"

# Which runtimes, in the fixed interleaving order troupe, erlang, go.
want_troupe=0 want_erlang=0 want_go=0
IFS=, read -r -a only_list <<<"$only"
for l in "${only_list[@]}"; do
    case $l in
    troupe) want_troupe=1 ;;
    erlang | erl) want_erlang=1 ;;
    go) want_go=1 ;;
    "") ;;
    *) die "only=: unknown runtime '$l' (use troupe, erlang, go)" ;;
    esac
done
langs=()
((want_troupe)) && langs+=(troupe)
((want_erlang)) && langs+=(erlang)
((want_go)) && langs+=(go)
((${#langs[@]} > 0)) || die "only= selects nothing"

# The peer toolchains must be there before anything runs.
missing=() packages=()
need() { # need COMMAND PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        missing+=("$1")
        [[ " ${packages[*]} " == *" $2 "* ]] || packages+=("$2")
    fi
}
if ((want_erlang)); then
    need erl erlang-base
    need erlc erlang-base
fi
((want_go)) && need go golang-go
if ((${#missing[@]})); then
    die "not found: ${missing[*]}. Install the Debian package(s) ${packages[*]}" \
        "(apt-get install ${packages[*]}; scripts/install-deps.sh --peers installs erlang-base and golang-go)," \
        "or leave the peer out with only=..."
fi
command -v python3 >/dev/null 2>&1 || die "python3 not found (needed for the table)"
have_gnuplot=0
if command -v gnuplot >/dev/null 2>&1; then
    have_gnuplot=1
else
    say "gnuplot not found: the table will be made but not the chart" \
        "(apt-get install gnuplot-nox, or scripts/install-deps.sh --peers)"
fi

# build_release TARGET: configures build-release/ in Release (a no-op when
# it is up to date) and builds TARGET there.
build_release() {
    say "building $1 (Release) in $repo/build-release"
    cmake -S "$repo" -B "$repo/build-release" \
        -DCMAKE_BUILD_TYPE=Release \
        -DTROUPE_SANITIZE= \
        -DTROUPE_BUILD_BENCH=ON -DTROUPE_BUILD_TESTS=OFF -DTROUPE_BUILD_EXAMPLES=OFF >&2 ||
        die "cmake configure failed"
    cmake --build "$repo/build-release" -j"${JOBS:-$(nproc)}" --target "$1" >&2 ||
        die "building $1 failed"
}

# troupe-bench: given, or built in Release into build-release/.
if ((want_troupe)); then
    if [[ -n $troupe ]]; then
        [[ -x $troupe && -f $troupe ]] || die "troupe=$troupe is not an executable file"
    else
        build_release troupe-bench
        troupe=$repo/build-release/bench/troupe-bench
    fi
    troupe=$(cd "$(dirname "$troupe")" && pwd)/$(basename "$troupe")
fi

# troupe-loadgen, for the peers' TCP workloads (run.sh looks for it in
# build-release/ unless LOADGEN is set).
if ((want_erlang || want_go)) && [[ -z ${LOADGEN:-} ]]; then
    build_release troupe-loadgen
fi

stamp=$(date +%Y%m%d-%H%M%S)
log=${log:-${TMPDIR:-/tmp}/troupe-compare-$stamp.log}
mkdir -p "$(dirname "$log")"
base=${log%.log}
md=$base.md tsv=$base.tsv png=$base.png
: >"$log"

# Header, stored in the log as "#META key: value" (compare.py prints it).
meta() { printf '#META %s: %s\n' "$1" "$2" >>"$log"; }
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
meta date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
meta nproc "$(nproc)"
meta cpu "${cpu:-unknown}"
meta kernel "$(uname -srm)"
meta load "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (1/5/15 min, at start)"
if ((want_erlang)); then
    meta erlang "$(erl -noshell -eval 'io:format("OTP ~s, erts ~s", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().' 2>&1 | tr -d '\r')"
fi
((want_go)) && meta go "$(go version | sed 's/^go version //')"
if ((want_troupe)); then
    rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ $rev != unknown ]] && ! git -C "$repo" diff --quiet HEAD -- 2>/dev/null; then
        rev="$rev (with uncommitted changes)"
    fi
    meta troupe "commit $rev, $troupe"
fi
meta runs "$runs"
meta quick "$quick"
meta order "${langs[*]}"

say "raw log: $log"
say "$runs round(s) of: ${langs[*]}$( ((quick)) && echo ' (quick)')"
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT

failed=0
start=$SECONDS
for ((r = 1; r <= runs; r++)); do
    for l in "${langs[@]}"; do
        t0=$SECONDS
        printf '#RUN %d %s\n' "$r" "$l" >>"$log"
        say "round $r/$runs: $l ..."
        status=0
        if [[ $l == troupe ]]; then
            args=(all)
            ((quick)) && args+=(quick=1)
            "$troupe" "${args[@]}" >>"$log" 2>"$errf" || status=$?
        else
            QUICK=$quick "$repo/bench/peers/run.sh" "$l" all >>"$log" 2>"$errf" || status=$?
            # run.sh notes on stderr that Go has no link_exit/monitor_down.
            sed -i '/^# go: .* skipped/d' "$errf"
        fi
        if [[ -s $errf ]]; then
            sed 's/^/#STDERR /' "$errf" >>"$log"
            cat "$errf" >&2
        fi
        printf '#EXIT %d %s %d\n' "$r" "$l" "$status" >>"$log"
        if ((status != 0)); then
            failed=1
            say "round $r/$runs: $l FAILED (exit status $status), see $log"
        else
            say "round $r/$runs: $l done in $((SECONDS - t0)) s"
        fi
    done
done
meta "load at end" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
say "all rounds done in $((SECONDS - start)) s"

pystatus=0
rm -f "$tsv" "$png"
python3 "$here/compare/compare.py" "$log" --chart-data "$tsv" | tee "$md" || pystatus=$?
say "raw log: $log"
say "table:   $md"

# The chart. Whatever goes wrong here is only said: the table is what matters.
if ((!have_gnuplot)); then
    say "chart:   not made, gnuplot not found (apt-get install gnuplot-nox; then:" \
        "gnuplot -e \"data='$tsv'; out='$png'\" $here/compare/ratios.gp)"
elif [[ ! -s $tsv ]] || ! grep -qv '^#' "$tsv"; then
    say "chart:   not made, no ratios to draw (no troupe figures, or the table failed)"
elif [[ $tsv == *"'"* || $here == *"'"* ]]; then
    say "chart:   not made, the path $tsv has a single quote in it"
elif gnuplot -e "data='$tsv'; out='$png'" "$here/compare/ratios.gp" >&2 && [[ -s $png ]]; then
    say "chart:   $png"
else
    rm -f "$png"
    say "chart:   gnuplot failed (see above); the table is unaffected"
fi

((pystatus == 0)) || exit "$pystatus"
((failed == 0)) || {
    say "some runs failed (see #EXIT lines in $log)"
    exit 1
}
