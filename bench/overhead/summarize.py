#!/usr/bin/env python3
"""Summarizes bench/overhead.sh's cells.tsv: medians with min-max over the
repetitions, ratios against auditd and the floor computed pair by pair
(same repetition, same workload), the targets of the overhead issue, and
cpu.dat for plot.gp.

Usage: summarize.py RESULTS_DIR   (reads cells.tsv and meta.txt, writes
summary.md and cpu.dat there, prints summary.md)
"""
import csv
import statistics
import sys
from pathlib import Path

COLLECTORS = ["floor", "auditd", "unicast", "plugin", "multicast"]
LABELS = {
    "floor": "floor (read and discard)",
    "auditd": "auditd RAW",
    "unicast": "recorder unicast",
    "plugin": "auditd + recorder plugin",
    "multicast": "auditd + recorder multicast",
}
WORKLOADS = ["exec100", "exec1000", "exec3000", "execmax", "tcp", "file"]
EXEC_RATES = ["exec100", "exec1000", "exec3000"]
# Typed events the recorder stores per operation (exec: start + end).
TYPED_PER_OP = {"exec": 2, "tcp": 2, "file": 3}


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        for k, v in row.items():
            if k in ("workload", "collector"):
                continue
            try:
                row[k] = float(v)
            except (TypeError, ValueError):
                row[k] = 0.0
    return rows


def spread(values, fmt="{:.2f}"):
    """'median (min-max)' or '-'."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    m = statistics.median(values)
    if len(values) == 1 or min(values) == max(values):
        return fmt.format(m)
    return f"{fmt.format(m)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main():
    out = Path(sys.argv[1])
    rows = load(out / "cells.tsv")
    meta = (out / "meta.txt").read_text() if (out / "meta.txt").exists() else ""
    collectors = [c for c in COLLECTORS if any(r["collector"] == c for r in rows)]
    workloads = [w for w in WORKLOADS if any(r["workload"] == w for r in rows)]
    reps = sorted({int(r["rep"]) for r in rows})
    cell = {(int(r["rep"]), r["workload"], r["collector"]): r for r in rows}

    def values(w, c, key):
        return [r[key] for r in rows if r["workload"] == w and r["collector"] == c]

    def pairs(w, c, base, fn):
        out_values = []
        for rep in reps:
            a, b = cell.get((rep, w, c)), cell.get((rep, w, base))
            if a and b:
                v = fn(a, b)
                if v is not None:
                    out_values.append(v)
        return out_values

    def cpu_ratio(a, b):
        return a["cpu_s"] / b["cpu_s"] if b["cpu_s"] > 0 else None

    lines = []
    p = lines.append
    p("# Overhead against auditd: results")
    p("")
    p("```")
    p(meta.rstrip())
    p("```")
    p("")
    p(f"{len(reps)} repetition(s); each figure is the median over them with (min–max).")
    p("CPU is the on-CPU time of all the collector's processes (auditd and the recorder")
    p("where both run) from the workload's start until the collector caught up, as % of")
    p("one core over the workload's duration.")
    p("")

    def table(title, columns):  # a section that is one table: its title and header
        p(f"## {title}")
        p("")
        p("| " + " | ".join(columns) + " |")
        p("|---|" + "---|" * (len(columns) - 1))

    by_collector = ["workload"] + [LABELS[c] for c in collectors]

    # Achieved rates.
    table("Workload rates achieved (ops/s)", by_collector)
    for w in workloads:
        p(f"| {w} | " + " | ".join(spread(values(w, c, "rate"), "{:.0f}") for c in collectors) + " |")
    p("")

    # CPU.
    table("Collector CPU, % of one core", by_collector)
    for w in workloads:
        p(f"| {w} | " + " | ".join(spread(values(w, c, "cpu_pct")) for c in collectors) + " |")
    p("")
    shared = [c for c in ("plugin", "multicast") if c in collectors]
    if shared:
        p("Of which the recorder (plugin, multicast) and auditd, % of one core:")
        p("")
        p("| workload | " + " | ".join(f"{c}: recorder / auditd" for c in shared) + " |")
        p("|---|" + "---|" * len(shared))
        for w in workloads:
            cols = []
            for c in shared:
                rec = [r["recorder_cpu_s"] / r["seconds"] * 100 for r in rows
                       if r["workload"] == w and r["collector"] == c and r["seconds"] > 0]
                aud = [r["auditd_cpu_s"] / r["seconds"] * 100 for r in rows
                       if r["workload"] == w and r["collector"] == c and r["seconds"] > 0]
                cols.append(f"{spread(rec)} / {spread(aud)}")
            p(f"| {w} | " + " | ".join(cols) + " |")
        p("")

    # Ratios against auditd.
    if "auditd" in collectors:
        others = [c for c in collectors if c != "auditd"]
        table("CPU against auditd RAW, pair by pair (same repetition and workload)",
              ["workload"] + [f"{c} ÷ auditd" for c in others])
        for w in workloads:
            p(f"| {w} | " + " | ".join(
                spread(pairs(w, c, "auditd", cpu_ratio)) + "×" for c in others) + " |")
        p("")

    # kauditd.
    table("The kernel's kauditd thread, % of one core", by_collector)
    for w in workloads:
        p(f"| {w} | " + " | ".join(
            spread([r["kauditd_cpu_s"] / r["seconds"] * 100 for r in rows
                    if r["workload"] == w and r["collector"] == c and r["seconds"] > 0])
            for c in collectors) + " |")
    p("")

    # Throughput at the maximum rate.
    if "execmax" in workloads and "floor" in collectors:
        table("As fast as possible (execmax): ops/s against the floor, pair by pair",
              ["collector", "exec/s", "÷ floor", "kernel lost", "drops"])
        for c in collectors:
            ratio = pairs("execmax", c, "floor",
                          lambda a, b: a["rate"] / b["rate"] if b["rate"] > 0 else None)
            p(f"| {LABELS[c]} | {spread(values('execmax', c, 'rate'), '{:.0f}')} | "
              f"{spread(ratio)}× | {int(sum(values('execmax', c, 'lost')))} | "
              f"{int(sum(values('execmax', c, 'drops')))} |")
        p("")

    # Loss and completeness.
    p("## Loss and completeness, all cells")
    p("")
    p("Stored: the workload's own events found afterwards (recorder: rows in the")
    p("database; auditd: SYSCALL records in its log) against ops × events per op")
    p("(exec 1 start, tcp 2 connections, file 3 changes). Background: events/s the")
    p("recorder stored beyond the workload's (other users of the machine).")
    p("")
    p("| collector | kernel lost | recorder drops | stored / expected | background events/s (median) |")
    p("|---|---|---|---|---|")
    for c in collectors:
        rs = [r for r in rows if r["collector"] == c]
        stored = sum(r["stored"] for r in rs)
        expected = sum(r["expected"] for r in rs)
        completeness = "-" if c == "floor" else f"{int(stored)} / {int(expected)}"
        background = "-"
        if c in ("unicast", "plugin", "multicast"):
            bg = []
            for r in rs:
                kind = "exec" if r["workload"].startswith("exec") else r["workload"]
                window = r["seconds"] + r["settle_s"]
                if window > 0:
                    bg.append((r["events"] - r["ops"] * TYPED_PER_OP[kind]) / window)
            background = spread(bg, "{:.0f}")
        p(f"| {LABELS[c]} | {int(sum(r['lost'] for r in rs))} | {int(sum(r['drops'] for r in rs))} "
          f"| {completeness} | {background} |")
    p("")

    # Memory.
    p("## Memory (MB)")
    p("")
    p("Steady: RSS at the end of each fixed-rate workload (largest of the cells).")
    p("Flood: peak RSS (VmHWM) in the execmax cells (largest).")
    p("")
    p("| process | steady RSS | flood peak RSS |")
    p("|---|---|---|")
    fixed = [w for w in workloads if w != "execmax"]
    for c in collectors:
        for proc, rss, hwm in (("recorder", "recorder_rss_kb", "recorder_hwm_kb"),
                               ("auditd", "auditd_rss_kb", "auditd_hwm_kb"),
                               ("floor", "floor_rss_kb", None)):
            steady = [r[rss] for r in rows if r["collector"] == c and r["workload"] in fixed and r[rss] > 0]
            if not steady:
                continue
            flood = [r[hwm] for r in rows if hwm and r["collector"] == c and r["workload"] == "execmax" and r[hwm] > 0]
            flood_text = f"{max(flood) / 1024:.1f}" if flood else "-"
            p(f"| {proc} ({c}) | {max(steady) / 1024:.1f} | {flood_text} |")
    p("")

    # Bytes per event.
    p("## Bytes per event")
    p("")
    p("Recorder: database pages in use, WAL included (minus an empty database) ÷ typed events stored;")
    p("auditd: log bytes ÷ audit events in the log. Median over the cells with")
    p("≥ 1,000 events.")
    p("")
    p("| collector | database bytes/event | auditd log bytes/event |")
    p("|---|---|---|")
    for c in collectors:
        if c == "floor":
            continue
        rs = [r for r in rows if r["collector"] == c and r["events"] >= 1000]
        dbb = [r["db_bytes"] / r["events"] for r in rs if r["db_bytes"] > 0]
        if c == "auditd":
            logb = [r["log_bytes"] / r["events"] for r in rs if r["log_bytes"] > 0]
        else:
            logb = []
        p(f"| {LABELS[c]} | {spread(dbb, '{:.0f}')} | {spread(logb, '{:.0f}')} |")
    p("")

    # Targets.
    p("## Targets")
    p("")
    key_parts = []
    if "auditd" in collectors and "unicast" in collectors:
        for w in [w for w in EXEC_RATES if w in workloads]:
            r = pairs(w, "unicast", "auditd", cpu_ratio)
            if r:
                m = statistics.median(r)
                target = float(w[len("exec"):])
                achieved = statistics.median(values(w, "unicast", "rate") + values(w, "auditd", "rate"))
                reached = "" if achieved >= 0.9 * target else (
                    f" [the generator reached {achieved:.0f}/s, not {target:.0f}/s: "
                    "this row is not a measurement at the target rate]")
                p(f"- {w}{reached}: recorder CPU ÷ auditd RAW = {spread(r)}× — target ≤ 0.5×: "
                  f"**{'met' if m <= 0.5 else 'missed'}** (median)"
                  f"{'' if max(r) <= 0.5 else f'; pairs above 0.5×: {sum(1 for x in r if x > 0.5)} of {len(r)}'}")
                key_parts.append(f"{w} {m:.2f}×")
    if "execmax" in workloads and "floor" in collectors and "unicast" in collectors:
        r = pairs("execmax", "unicast", "floor",
                  lambda a, b: a["rate"] / b["rate"] if b["rate"] > 0 else None)
        lost = int(sum(values("execmax", "unicast", "lost")))
        drops = int(sum(values("execmax", "unicast", "drops")))
        if r:
            m = statistics.median(r)
            p(f"- execmax: ops/s with the recorder ÷ with the floor = {spread(r)}× — target ≥ 0.9×: "
              f"**{'met' if m >= 0.9 else 'missed'}** (median); kernel lost {lost}, drops {drops} — "
              f"target 0 and 0: **{'met' if lost == 0 and drops == 0 else 'missed'}**")
            key_parts.append(f"max rate {m:.2f}× the floor, lost {lost}, drops {drops}")
    if "unicast" in collectors:
        steady = [r["recorder_rss_kb"] for r in rows if r["collector"] == "unicast"
                  and r["workload"] != "execmax" and r["recorder_rss_kb"] > 0]
        flood = [r["recorder_hwm_kb"] for r in rows if r["collector"] == "unicast"
                 and r["workload"] == "execmax" and r["recorder_hwm_kb"] > 0]
        if steady:
            s = max(steady) / 1024
            p(f"- recorder RSS steady {s:.1f} MB — target ≤ 32 MB: **{'met' if s <= 32 else 'missed'}**")
            key_parts.append(f"RSS {s:.0f} MB steady")
        if flood:
            f_ = max(flood) / 1024
            p(f"- recorder peak RSS under the flood {f_:.1f} MB — target ≤ 64 MB: "
              f"**{'met' if f_ <= 64 else 'missed'}**")
            key_parts.append(f"{f_:.0f} MB peak")
    p("")
    p("Key figures (recorder unicast ÷ auditd RAW CPU, median of pairs): " + "; ".join(key_parts))
    p("")

    (out / "summary.md").write_text("\n".join(lines) + "\n")

    # cpu.dat: one block per collector (gnuplot index), rows of exec workloads.
    with open(out / "cpu.dat", "w") as f:
        for n, c in enumerate(collectors):
            if n:
                f.write("\n\n")  # a new gnuplot index; none after the last
            f.write(f'"{LABELS[c]}"\n')
            points = []
            for w in [w for w in ["exec100", "exec1000", "exec3000", "execmax"] if w in workloads]:
                cpu = values(w, c, "cpu_pct")
                rate = values(w, c, "rate")
                if cpu and rate:
                    points.append((statistics.median(rate), statistics.median(cpu), min(cpu), max(cpu), w))
            for rate, cpu, low, high, w in sorted(points):  # by achieved rate, for the lines
                f.write(f"{rate:.1f} {cpu:.3f} {low:.3f} {high:.3f} {w}\n")
    # workloads.dat: per workload, each collector's median CPU (histogram).
    with open(out / "workloads.dat", "w") as f:
        f.write("workload " + " ".join(f'"{LABELS[c]}"' for c in collectors) + "\n")
        for w in workloads:
            f.write(w + " " + " ".join(
                f"{statistics.median(values(w, c, 'cpu_pct')):.3f}" if values(w, c, "cpu_pct") else "NaN"
                for c in collectors) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
