#!/usr/bin/env python3
"""Summarise a bench/compare.sh log as a Markdown table.

    python3 bench/compare/compare.py LOG [--chart-data TSV]

The log holds `RESULT workload=NAME key=value ...` lines from troupe-bench,
`PEER lang=erlang|go workload=NAME key=value ...` lines from bench/peers/run.sh,
and `#META key: value`, `#RUN round lang`, `#EXIT round lang status` lines
written by compare.sh. For each workload configuration and metric it prints
the median over the rounds for troupe, Erlang and Go, and the ratios
troupe/Erlang and troupe/Go, oriented so that > 1 means troupe is better.

--chart-data TSV also writes those ratios, tab-separated, for
bench/compare/ratios.gp: `#` comment lines (`# title:`, `# subtitle:` and
`# peers:` lines, then the column names), then one line per workload configuration and
metric: workload, configuration, metric, label (short, for the chart),
vs_erlang, vs_go; NaN where a ratio is missing. Rows with no ratio at all
(no troupe figure) are left out. The Markdown on stdout is the same with or
without it.

Exit status: 0, or 1 if a troupe skynet sum is wrong or nothing was parsed.
Standard library only.
"""

import statistics
import sys
from collections import OrderedDict

LANGS = ("troupe", "erlang", "go")
LANG_TITLE = {"troupe": "troupe", "erlang": "Erlang", "go": "Go"}

# Workloads in table order, with the metrics shown for each.
METRICS = OrderedDict(
    [
        ("spawn", ["spawn_seconds", "bytes_per_process", "teardown_seconds"]),
        ("spawn_exit", ["per_sec", "seconds"]),
        ("ring", ["msgs_per_sec"]),
        ("pingpong", ["ns_per_roundtrip"]),
        ("skynet", ["seconds"]),
        ("fanin", ["msgs_per_sec"]),
        ("link_exit", ["per_sec"]),
        ("monitor_down", ["per_sec"]),
        ("throw_catch", ["ns_per_throw"]),
        ("genserver_call", ["calls_per_sec"]),
        ("genserver_idle", ["start_seconds", "bytes_per_server"]),
        ("supervisor_restart", ["restarts_per_sec"]),
        ("fairness", ["p50_ns", "p99_ns", "max_ns"]),
        ("instrument_cost", ["sort_ratio", "fib_ratio", "geomean_ratio"]),
        ("tcp_echo", ["msgs_per_sec", "rtt_p99_us"]),
        ("tcp_hold", ["bytes_per_conn"]),
        ("chat", ["delivered_per_sec", "p99_us"]),
    ]
)

# Keys that tell two configurations of one workload apart.
DISTINGUISHING = {
    "ring": ("n", "rounds", "tokens"),
    "pingpong": ("schedulers",),
    "throw_catch": ("depth", "traces"),
    "genserver_call": ("clients", "backlog"),
    "fairness": ("hogs", "schedulers", "instrumented"),
    "chat": ("variant",),
}

# Configuration keys a side may leave out, with the value that means.
CONFIG_DEFAULTS = {
    "genserver_call": {"backlog": 0},
    "chat": {"variant": "batched"},
}

# Keys that describe a configuration (not measurements).
CONFIG_KEYS = (
    "n",
    "rounds",
    "tokens",
    "senders",
    "msgs",
    "depth",
    "traces",
    "trace_depth",
    "clients",
    "backlog",
    "hogs",
    "instrumented",
    "c",
    "r",
    "m",
    "s",
    "w",
    "variant",
    "schedulers",
)

# True: higher is better (ratio troupe/peer); False: lower is better (peer/troupe).
HIGHER_IS_BETTER = {
    "msgs_per_sec": True,
    "per_sec": True,
    "calls_per_sec": True,
    "restarts_per_sec": True,
    "seconds": False,
    "spawn_seconds": False,
    "teardown_seconds": False,
    "ns_per_roundtrip": False,
    "ns_per_throw": False,
    "bytes_per_process": False,
    "start_seconds": False,
    "bytes_per_server": False,
    "p50_ns": False,
    "p99_ns": False,
    "max_ns": False,
    "sort_ratio": False,
    "fib_ratio": False,
    "geomean_ratio": False,
    "delivered_per_sec": True,
    "rtt_p50_us": False,
    "rtt_p99_us": False,
    "rtt_max_us": False,
    "p50_us": False,
    "p99_us": False,
    "max_us": False,
    "bytes_per_conn": False,
}

# Peers that cannot run a workload at all, with the reason.
NOT_AVAILABLE = {
    ("go", "link_exit"): "Go has no links",
    ("go", "monitor_down"): "Go has no monitors",
    ("erlang", "instrument_cost"): "troupe's own cost: preemptible C++ over plain C++",
    ("go", "instrument_cost"): "troupe's own cost: preemptible C++ over plain C++",
}


def parse_value(v):
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def parse_log(path):
    """Returns (meta, records, exits). records: list of (lang, round, fields)."""
    meta = OrderedDict()
    records = []
    exits = []
    current_round = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("#META "):
                key, _, value = line[len("#META ") :].partition(": ")
                meta[key] = value
                continue
            if line.startswith("#RUN "):
                parts = line.split()
                current_round = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                continue
            if line.startswith("#EXIT "):
                parts = line.split()
                if len(parts) == 4:
                    exits.append((int(parts[1]), parts[2], int(parts[3])))
                continue
            if line.startswith("RESULT "):
                lang, body = "troupe", line[len("RESULT ") :]
            elif line.startswith("PEER "):
                lang, body = None, line[len("PEER ") :]
            else:
                continue
            fields = OrderedDict()
            for tok in body.split():
                k, eq, v = tok.partition("=")
                if eq:
                    fields[k] = parse_value(v)
            if lang is None:
                lang = fields.pop("lang", None)
            if lang not in LANGS or "workload" not in fields:
                continue
            for k, v in CONFIG_DEFAULTS.get(fields["workload"], {}).items():
                fields.setdefault(k, v)
            if fields["workload"] == "fairness" and "instrumented" not in fields:
                # A peer's spinners are what they are: the same run stands
                # beside troupe's instrumented and uninstrumented ones.
                for v in (1, 0):
                    copy = OrderedDict(fields)
                    copy["instrumented"] = v
                    records.append((lang, current_round, copy))
                continue
            records.append((lang, current_round, fields))
    return meta, records, exits


def config_of(fields):
    return OrderedDict((k, fields[k]) for k in CONFIG_KEYS if k in fields)


def dist_key(workload, fields):
    return tuple(fields.get(k) for k in DISTINGUISHING.get(workload, ()))


def metrics_for(workload, groups):
    if workload in METRICS:
        return METRICS[workload]
    # A workload this script does not know yet: every numeric, oriented key.
    seen = []
    for g in groups:
        for fields in g["records"]:
            for k, v in fields.items():
                if k in HIGHER_IS_BETTER and isinstance(v, (int, float)) and k not in seen:
                    seen.append(k)
    return seen


def build_rows(records):
    """Groups records into table rows.

    A row is one workload configuration: {workload, cells: {lang: group}}, where
    a group is {config, records}. Configurations of one lang are matched to the
    reference lang (troupe if present) by workload plus distinguishing keys;
    any left over (quick mode scales troupe and the peers differently) are
    paired in order of appearance.
    """
    # per workload, per lang: OrderedDict dist_key -> group
    by_wl = OrderedDict()
    for lang, rnd, fields in records:
        wl = fields["workload"]
        per_lang = by_wl.setdefault(wl, OrderedDict((l, OrderedDict()) for l in LANGS))
        g = per_lang[lang].setdefault(dist_key(wl, fields), {"config": config_of(fields), "records": []})
        g["records"].append(fields)

    order = [w for w in METRICS if w in by_wl] + [w for w in by_wl if w not in METRICS]
    rows = []
    for wl in order:
        per_lang = by_wl[wl]
        ref = next((l for l in LANGS if per_lang[l]), None)
        if ref is None:
            continue
        wl_rows = [{"workload": wl, "cells": {ref: g}} for g in per_lang[ref].values()]
        ref_keys = list(per_lang[ref].keys())
        for lang in LANGS:
            if lang == ref or not per_lang[lang]:
                continue
            leftovers = []
            used = set()
            for key, g in per_lang[lang].items():
                if key in per_lang[ref]:
                    i = ref_keys.index(key)
                    wl_rows[i]["cells"][lang] = g
                    used.add(i)
                else:
                    leftovers.append(g)
            free = [i for i in range(len(wl_rows)) if i not in used and lang not in wl_rows[i]["cells"]]
            for i, g in zip(free, leftovers):
                wl_rows[i]["cells"][lang] = g
            for g in leftovers[len(free) :]:
                wl_rows.append({"workload": wl, "cells": {lang: g}})
        rows.extend(wl_rows)
    return rows


def median_of(group, metric):
    if group is None:
        return None, []
    vals = [r[metric] for r in group["records"] if isinstance(r.get(metric), (int, float))]
    if not vals:
        return None, []
    return statistics.median(vals), vals


def fmt_value(metric, v):
    if v is None:
        return "—"
    if metric == "per_sec" or metric.endswith("_per_sec"):
        if v >= 1e6:
            return f"{v / 1e6:.3g} M/s"
        if v >= 1e3:
            return f"{v / 1e3:.3g} k/s"
        return f"{v:.3g} /s"
    if metric in ("ns_per_roundtrip", "ns_per_throw", "p50_ns", "p99_ns", "max_ns"):
        return f"{v:.0f} ns" if v >= 100 else f"{v:.3g} ns"
    if metric in ("bytes_per_process", "bytes_per_server", "bytes_per_conn"):
        return f"{v:.0f} B"
    if metric.endswith("_us"):
        return f"{v / 1e3:.3g} ms" if v >= 1000 else f"{v:.3g} µs"
    if metric.endswith("seconds"):
        if v >= 1:
            return f"{v:.3g} s"
        if v >= 1e-3:
            return f"{v * 1e3:.3g} ms"
        return f"{v * 1e6:.3g} µs"
    return f"{v:.4g}"


def ratio(metric, troupe_v, peer_v):
    if troupe_v is None or peer_v is None or metric not in HIGHER_IS_BETTER:
        return None
    if HIGHER_IS_BETTER[metric]:
        return troupe_v / peer_v if peer_v else None
    return peer_v / troupe_v if troupe_v else None


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"**{r:.2f}×**" if r >= 1 else f"{r:.2f}×"


def fmt_config(wl, config):
    keys = [k for k in config if k != "schedulers" or wl == "pingpong"]
    return " ".join(f"{k}={config[k]}" for k in keys)


def chart_labels(rows):
    """Short chart label prefix for each row: the workload plus those of its
    distinguishing keys whose values differ between its rows."""
    confs = {}
    for row in rows:
        ref = next(l for l in LANGS if l in row["cells"])
        confs.setdefault(row["workload"], []).append(row["cells"][ref]["config"])
    labels = []
    for row in rows:
        wl = row["workload"]
        ref = next(l for l in LANGS if l in row["cells"])
        conf = row["cells"][ref]["config"]
        keys = [k for k in DISTINGUISHING.get(wl, ()) if len({str(c.get(k)) for c in confs[wl]}) > 1]
        labels.append(" ".join([wl] + [f"{k}={conf[k]}" for k in keys if k in conf]))
    return labels


def write_chart_data(path, title, subtitle, peers, chart_rows):
    def num(r):
        return "NaN" if r is None else f"{r:.4g}"

    with open(path, "w", encoding="utf-8") as f:
        f.write("# troupe/peer ratios from bench/compare/compare.py (> 1: troupe is better)\n")
        f.write(f"# title: {title}\n")
        f.write(f"# subtitle: {subtitle}\n")
        f.write(f"# peers: {' '.join(peers)}\n")
        f.write("# workload\tconfig\tmetric\tlabel\tvs_erlang\tvs_go\n")
        for wl, conf, metric, label, r_erl, r_go in chart_rows:
            f.write("\t".join([wl, conf, metric, label, num(r_erl), num(r_go)]) + "\n")


def main(argv):
    args = list(argv[1:])
    chart_data = None
    for i, a in enumerate(args):
        if a == "--chart-data" and i + 1 < len(args):
            chart_data = args[i + 1]
            del args[i : i + 2]
            break
        if a.startswith("--chart-data="):
            chart_data = a.partition("=")[2]
            del args[i]
            break
    if len(args) != 1 or args[0].startswith("-") or chart_data == "":
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    log_path = args[0]
    meta, records, exits = parse_log(log_path)
    status = 0
    if not records:
        print(f"compare.py: no RESULT/PEER lines in {log_path}", file=sys.stderr)
        status = 1

    present = [l for l in LANGS if any(r[0] == l for r in records)]
    if not present:
        present = [l for l in meta.get("order", "").split() if l in LANGS] or list(LANGS)
    peers = [l for l in ("erlang", "go") if l in present]
    have_troupe = "troupe" in present

    # Header.
    print("## " + " vs ".join(LANG_TITLE[l] for l in present))
    print()
    runs = meta.get("runs", "?")
    quick = meta.get("quick", "0") not in ("", "0")
    print(
        f"Median of {runs} interleaved round(s) ({' → '.join(present)}, repeated)"
        + (", **quick=1 (smoke-test sizes, not comparable figures)**" if quick else "")
        + "."
    )
    print()
    for key, label in (
        ("date", "Date"),
        ("nproc", "`nproc`"),
        ("cpu", "CPU"),
        ("kernel", "Kernel"),
        ("load", "Load average"),
        ("load at end", "Load average at end"),
        ("erlang", "Erlang"),
        ("go", "Go"),
        ("troupe", "troupe"),
    ):
        if key in meta:
            print(f"- {label}: {meta[key]}")
    print()

    # Table.
    cols = ["Workload", "Configuration", "Metric"] + [LANG_TITLE[l] for l in present]
    if have_troupe:
        cols += [f"troupe/{LANG_TITLE[p]}" for p in peers]
    cols.append("Notes")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join(["---"] * 3 + ["--:"] * (len(cols) - 4) + ["---"]) + "|")

    spread_rows = []
    chart_rows = []
    rows = build_rows(records)
    labels = chart_labels(rows)
    for row, label in zip(rows, labels):
        wl, cells = row["workload"], row["cells"]
        ref = next(l for l in LANGS if l in cells)
        ref_conf = cells[ref]["config"]
        notes = []
        # Configurations that were paired without matching (quick mode).
        diff = []
        for l in LANGS:
            if l in cells and l != ref:
                c = cells[l]["config"]
                d = {k: c[k] for k in c if ref_conf.get(k) != c[k]}
                if d:
                    diff.append(f"{LANG_TITLE[l]}: " + " ".join(f"{k}={v}" for k, v in d.items()))
        if diff:
            notes.append("config differs — " + "; ".join(diff))
        for l in present:
            if l not in cells and (l, wl) in NOT_AVAILABLE:
                notes.append(NOT_AVAILABLE[(l, wl)])
        if have_troupe and "troupe" not in cells:
            if wl in ("link_exit", "monitor_down") and set(cells) == {"erlang"}:
                notes.insert(0, "Erlang only (not in troupe-bench yet)")
            else:
                notes.insert(0, "no troupe result")
        # skynet: every run's sum must be n(n-1)/2.
        if wl == "skynet":
            for l in LANGS:
                if l not in cells:
                    continue
                bad = []
                for r in cells[l]["records"]:
                    n, s = r.get("n"), r.get("sum")
                    if isinstance(n, int) and s != n * (n - 1) // 2:
                        bad.append(s)
                if bad:
                    notes.append(f"**{LANG_TITLE[l]} sum WRONG: {bad}**")
                    if l == "troupe":
                        status = 1
                elif l == "troupe":
                    s = cells[l]["records"][0].get("sum")
                    notes.append(f"troupe sum {s} ok")

        for mi, metric in enumerate(metrics_for(wl, cells.values())):
            med = {}
            spread = {}
            for l in present:
                med[l], spread[l] = median_of(cells.get(l), metric)
            if all(med[l] is None for l in present):
                continue
            line = [wl if mi == 0 else "", fmt_config(wl, ref_conf) if mi == 0 else "", metric]
            for l in present:
                cell = fmt_value(metric, med[l])
                if med[l] is None and (l, wl) in NOT_AVAILABLE:
                    cell = "n/a"
                line.append(cell)
            if have_troupe:
                for p in peers:
                    line.append(fmt_ratio(ratio(metric, med["troupe"], med[p])))
                r_peer = {p: ratio(metric, med["troupe"], med.get(p)) for p in ("erlang", "go")}
                if any(v is not None for v in r_peer.values()):
                    chart_rows.append(
                        (wl, fmt_config(wl, ref_conf), metric, f"{label}: {metric}", r_peer["erlang"], r_peer["go"])
                    )
            line.append("; ".join(notes) if mi == 0 else "")
            print("| " + " | ".join(line) + " |")
            spread_rows.append((wl, fmt_config(wl, ref_conf), metric, spread))

    print()
    print(
        "Ratios: > 1 means troupe is better (troupe/peer for rates, peer/troupe for "
        "times and bytes), from the medians; bold where troupe is ahead."
    )

    # All rounds, to judge the noise.
    print()
    print("<details><summary>Every round (in run order)</summary>")
    print()
    print("| Workload | Configuration | Metric | " + " | ".join(LANG_TITLE[l] for l in present) + " |")
    print("|---|---|---|" + "|".join(["--:"] * len(present)) + "|")
    for wl, conf, metric, spread in spread_rows:
        cells = [", ".join(fmt_value(metric, v) for v in spread[l]) or "—" for l in present]
        print(f"| {wl} | {conf} | {metric} | " + " | ".join(cells) + " |")
    print()
    print("</details>")

    bad_exits = [(r, l, s) for r, l, s in exits if s != 0]
    if bad_exits:
        print()
        for r, l, s in bad_exits:
            print(f"**Round {r}: {l} exited with status {s}; its figures may be missing.**")

    if chart_data is not None:
        title = "troupe vs " + " and ".join(LANG_TITLE[p] for p in peers) + " (> 1: troupe is better)"
        subtitle = f"median of {runs} interleaved round(s)"
        if "date" in meta:
            subtitle += ", " + meta["date"]
        if quick:
            subtitle += "; quick=1: smoke-test sizes, not comparable figures"
        try:
            write_chart_data(chart_data, title, subtitle, peers, chart_rows)
        except OSError as e:
            print(f"compare.py: cannot write {chart_data}: {e}", file=sys.stderr)
            return status or 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
