#!/usr/bin/env bash
# Store and replay benchmark: builds a >=1M-line audit log from the
# captured samples (tests/data/capture-*.log, every copy shifted in time
# and serial so its events are distinct), replays it into a fresh
# monitor.db, and runs `ausearch -i -if` on the same file for comparison.
# Prints events/s, MB/s, bytes on disk per event by table, and peak RSS.
#
# Usage: bench/replay_bench.sh [BUILD_DIR] [MIN_LINES]
#   BUILD_DIR defaults to build-bench (configured RelWithDebInfo, built here).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
min_lines=${2:-1000000}
work=$(mktemp -d /tmp/recorder-replay-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target recorder >/dev/null
recorder=$build/recorder

log=$work/bench.log
python3 - "$root/tests/data" "$log" "$min_lines" <<'PY'
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
bytes=$(stat -c %s "$log")
lines=$(wc -l < "$log")

db=$work/monitor.db
/usr/bin/time -v -o "$work/replay.time" "$recorder" replay --no-progress --db "$db" "$log" \
  > "$work/replay.out"
cat "$work/replay.out"
replay_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$work/replay.time")
replay_rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/replay.time")
events=$(sqlite3 "$db" "SELECT events_stored FROM runs")

/usr/bin/time -v -o "$work/ausearch.time" ausearch -i -if "$log" > /dev/null 2>&1 || true
ausearch_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$work/ausearch.time")

echo
echo "## input"
echo "lines=$lines bytes=$bytes ($(awk -v b="$bytes" 'BEGIN{printf "%.1f MB", b/1e6}'))"
echo "## recorder replay"
awk -v s="$replay_s" -v e="$events" -v b="$bytes" -v l="$lines" -v r="$replay_rss" 'BEGIN{
  printf "elapsed=%.2fs events=%d events/s=%.0f lines/s=%.0f MB/s=%.1f peak_rss=%.1fMB\n",
         s, e, e/s, l/s, b/1e6/s, r/1024}'
echo "## ausearch -i -if (same file)"
awk -v s="$ausearch_s" -v r="$replay_s" 'BEGIN{printf "elapsed=%.2fs  recorder is %.1fx faster\n", s, s/r}'
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
-- audit_events dedup key (one key row per stored audit event).
WITH s AS (SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name),
key AS (SELECT 1.0 * (SELECT bytes FROM s WHERE name = 'audit_events') /
               (SELECT count(*) FROM audit_events) AS per_event),
r AS (SELECT * FROM runs)
SELECT 'process (start+end)' AS type, r.process_starts + r.process_ends AS events,
       round((SELECT bytes FROM s WHERE name = 'process_data') * 1.0 /
             (r.process_starts + r.process_ends) + key.per_event, 1) AS bytes_per_event
  FROM r, key
UNION ALL SELECT 'file', r.file_events,
       round((SELECT bytes FROM s WHERE name = 'file_data') * 1.0 / r.file_events + key.per_event, 1)
  FROM r, key
UNION ALL SELECT 'network', r.network_events,
       round((SELECT bytes FROM s WHERE name = 'network_data') * 1.0 / r.network_events
             + key.per_event, 1) FROM r, key
UNION ALL SELECT 'security', r.security_events,
       round((SELECT bytes FROM s WHERE name = 'security_data') * 1.0 / r.security_events
             + key.per_event, 1) FROM r, key
UNION ALL SELECT 'module', r.module_events,
       round((SELECT bytes FROM s WHERE name = 'module_data') * 1.0 / r.module_events
             + key.per_event, 1) FROM r, key;
SQL
