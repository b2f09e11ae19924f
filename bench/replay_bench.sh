#!/usr/bin/env bash
# Store and replay benchmark: builds >=1M-line audit logs from the captured
# samples (tests/data/capture-*.log), replays each into a fresh monitor.db,
# and runs `ausearch -i -if` on the same file for comparison. Prints
# events/s, MB/s, CPU time, bytes on disk per event by table, and peak RSS.
#
# Two input mixes (see BENCHMARKS.md "Store and replay"):
#   torture    the captured logs cycled whole, each copy shifted in time and
#              serial: every edge case at its captured frequency, including a
#              20,000-character argument and a 302-argument exec.
#   realistic  bench/make-realistic-log: whole captured events drawn with a
#              busy endpoint's weights (short execs/exits, file writes,
#              connects, PAM), torture events left out, stamps rewritten.
#
# Usage: [RUNS=N] bench/replay_bench.sh [BUILD_DIR] [MIN_LINES] [MIX]
#   BUILD_DIR defaults to build-bench (configured RelWithDebInfo, built here).
#   MIX is realistic, torture or both (default both).
#   RUNS (default 3): recorder/ausearch pairs per mix; the median is reported.
#   AUSEARCH=0 leaves ausearch out (its figures print as 0): to compare two
#   recorder builds' replay speed and bytes in a few minutes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
min_lines=${2:-1000000}
mixes=${3:-both}
[ "$mixes" = both ] && mixes="realistic torture"
work=$(mktemp -d /tmp/recorder-replay-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# SKIP_BUILD=1 replays with the recorder already in BUILD_DIR (e.g. to
# run twice back to back, or to compare two builds).
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  export CCACHE_BASEDIR=$root
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  nice cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  nice cmake --build "$build" -j"$(nproc)" --target recorder >/dev/null
fi
recorder=$build/recorder

make_torture_log() {
python3 - "$root/tests/data" "$1" "$min_lines" <<'PY'
import re, sys
data, out_path, min_lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples = [open(f"{data}/{n}", encoding="utf-8", errors="surrogateescape").read()
           for n in ("capture-raw.log", "capture-enriched.log")]
stamp = re.compile(r"audit\((\d+)\.(\d+):(\d+)\)")
lines = 0
copy = 0
with open(out_path, "w", encoding="utf-8", errors="surrogateescape") as out:
    while lines < min_lines:
        text = samples[copy % 2]
        # 100 s and 100000 serials apart per copy: distinct (time, serial)
        # and past the process expiry, like a long-running endpoint.
        shifted = stamp.sub(lambda m: "audit(%d.%s:%d)" % (int(m[1]) + 100 * copy, m[2],
                                                          int(m[3]) + 100000 * copy), text)
        out.write(shifted)
        lines += shifted.count("\n")
        copy += 1
print(f"generated {lines} lines from {copy} shifted copies of the captured logs")
PY
}

# Seconds from a `/usr/bin/time -v` report: wall, and user+sys CPU.
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$1"; }

run_mix() {
mix=$1
log=$work/$mix.log
echo "################ mix: $mix"
if [ "$mix" = realistic ]; then
  "$root/bench/make-realistic-log" "$log" "$min_lines"
else
  make_torture_log "$log"
fi
bytes=$(stat -c %s "$log")
lines=$(wc -l < "$log")

db=$work/monitor.db
# RUNS pairs, each a replay into a fresh database then ausearch on the same
# file, so that both tools see the same phases of a drifting VM; the
# summary below is the median pair (by recorder wall time), plus the
# median of the pairs' ratios.
runs=${RUNS:-3}
: > "$work/pairs"
for run in $(seq 1 "$runs"); do
  rm -f "$db" "$db-wal" "$db-shm"
  /usr/bin/time -v -o "$work/replay.time" "$recorder" replay --no-progress --db "$db" "$log" \
    > "$work/replay.$run.out"
  if [ "${AUSEARCH:-1}" = 1 ]; then
    /usr/bin/time -v -o "$work/ausearch.time" ausearch -i -if "$log" > /dev/null 2>&1 || true
  else  # replay figures only: ausearch reported as taking 0 s
    printf 'Elapsed (wall clock) time (h:mm:ss or m:ss): 0:00\nUser time (seconds): 0\n' \
      > "$work/ausearch.time"
  fi
  r_s=$(wall_s "$work/replay.time")
  a_s=$(wall_s "$work/ausearch.time")
  events=$(sqlite3 "$db" "SELECT events_stored FROM runs")
  echo "$r_s $(cpu_s "$work/replay.time") $(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/replay.time") $a_s $(cpu_s "$work/ausearch.time") $run" >> "$work/pairs"
  awk -v r="$r_s" -v a="$a_s" -v n="$run" -v e="$events" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN{printf "pair %d: recorder %.2f s (%.0f events/s), ausearch %.2f s, %.1fx (load %s)\n", n, r, e/r, a, a/r, l}'
done
read -r replay_s replay_cpu replay_rss ausearch_s ausearch_cpu median_run < <(sort -n "$work/pairs" | sed -n "$(( (runs + 1) / 2 ))p")
echo "## the median pair's replay output (pair $median_run)"
cat "$work/replay.$median_run.out"
echo "pairs: $runs; the lines below are the median pair's (by recorder wall time)"
awk '{print $4 / $1}' "$work/pairs" | sort -n | awk -v n="$runs" '{r[NR]=$1} END {
  printf "speed-up vs ausearch -i, median of the %d pairs: %.1fx (range %.1f-%.1fx)\n", n, r[int((n+1)/2)], r[1], r[n]}'

echo
echo "## input"
echo "lines=$lines bytes=$bytes ($(awk -v b="$bytes" 'BEGIN{printf "%.1f MB", b/1e6}'))"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## recorder replay"
awk -v s="$replay_s" -v c="$replay_cpu" -v e="$events" -v b="$bytes" -v l="$lines" -v r="$replay_rss" 'BEGIN{
  printf "elapsed=%.2fs cpu=%.2fs events=%d events/s=%.0f lines/s=%.0f MB/s=%.1f bytes/event(input)=%.0f peak_rss=%.1fMB\n",
         s, c, e, e/s, l/s, b/1e6/s, b/e, r/1024
  # On a shared machine wall time includes waiting for a CPU: per CPU-second
  # is what an idle core would do.
  printf "per cpu-second: events/s=%.0f MB/s=%.1f\n", e/c, b/1e6/c}'
echo "## ausearch -i -if (same file)"
awk -v s="$ausearch_s" -v c="$ausearch_cpu" -v r="$replay_s" -v rc="$replay_cpu" 'BEGIN{
  printf "elapsed=%.2fs cpu=%.2fs  recorder is %.1fx faster (wall), %.1fx (cpu)\n", s, c, s/r, c/rc}'
echo "## database"
db_bytes=$(stat -c %s "$db")
wal_bytes=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
echo "file=$db_bytes bytes (+ wal $wal_bytes), $(awk -v d="$db_bytes" -v e="$events" 'BEGIN{printf "%.1f", d/e}') bytes per stored event overall"
sqlite3 -header -column "$db" <<'SQL'
-- Bytes on disk per table/index (dbstat), rows, and bytes per row.
WITH sizes AS (SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name),
rows AS (
  SELECT 'audit_events' AS name, count(*) AS n FROM audit_events UNION ALL
  SELECT 'process_data', count(*) FROM process_data UNION ALL
  SELECT 'file_data', count(*) FROM file_data UNION ALL
  SELECT 'network_data', count(*) FROM network_data UNION ALL
  SELECT 'security_data', count(*) FROM security_data UNION ALL
  SELECT 'module_data', count(*) FROM module_data UNION ALL
  SELECT 'strings', count(*) FROM strings UNION ALL
  SELECT 'commands', count(*) FROM commands)
SELECT s.name, s.bytes, r.n AS rows, round(1.0 * s.bytes / r.n, 1) AS bytes_per_row
FROM sizes s LEFT JOIN rows r USING (name) ORDER BY s.bytes DESC;
SQL
echo
sqlite3 -header -column "$db" <<'SQL'
-- Per event type: its table's bytes per event plus its share of the
-- audit_events dedup key (one key row per stored audit event), and the
-- bytes of the table's indexes per event (the investigation indexes,
-- schema version 14), also included in `total`.
WITH s AS (SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name),
idx AS (SELECT m.tbl_name AS tbl, sum(s.bytes) AS bytes FROM sqlite_schema m JOIN s USING (name)
        WHERE m.type = 'index' GROUP BY m.tbl_name),
key AS (SELECT 1.0 * (SELECT bytes FROM s WHERE name = 'audit_events') /
               (SELECT count(*) FROM audit_events) AS per_event),
r AS (SELECT * FROM runs ORDER BY run_id DESC LIMIT 1),
t(type, tbl, events) AS (
  SELECT 'process (start+end)', 'process_data', process_starts + process_ends FROM r UNION ALL
  SELECT 'file', 'file_data', file_events FROM r UNION ALL
  SELECT 'network', 'network_data', network_events FROM r UNION ALL
  SELECT 'security', 'security_data', security_events FROM r UNION ALL
  SELECT 'module', 'module_data', module_events FROM r)
SELECT t.type, t.events,
       round((SELECT bytes FROM s WHERE name = t.tbl) * 1.0 / t.events + key.per_event, 1)
         AS bytes_per_event,
       round(coalesce((SELECT bytes FROM idx WHERE idx.tbl = t.tbl), 0) * 1.0 / t.events, 1)
         AS index_bytes,
       round(((SELECT bytes FROM s WHERE name = t.tbl)
              + coalesce((SELECT bytes FROM idx WHERE idx.tbl = t.tbl), 0)) * 1.0 / t.events
             + key.per_event, 1) AS total
  FROM t, key WHERE t.events > 0;
SQL
rm -f "$log" "$db" "$db-wal" "$db-shm"
}

for mix in $mixes; do run_mix "$mix"; echo; done
