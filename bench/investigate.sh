#!/usr/bin/env bash
# Investigation benchmark (BENCHMARKS.md row M): `tree`, `show`, a one-hour
# `timeline` page, `search` and an ancestry on a ~10M-event database built
# by replaying bench/make-investigate-log (deep and wide process trees,
# pids reused). Each command is run RUNS times as a user runs it (a new
# process, output piped); the median wall time is printed.
#
# The database is cached (DB, default BUILD_DIR/investigate-bench.db) and
# rebuilt only when it is missing or was made from another generator,
# event count or schema version. The log is piped into the replay, never
# written to disk. The database has the indexes the recorder creates
# (schema version 14); with SEARCH_INDEXES=1 also those `recorder
# search-index` builds, which `search` uses (dropped again without it).
#
# Usage: [RUNS=7] [DB=path] [SEARCH_INDEXES=1] bench/investigate.sh [BUILD_DIR] [EVENTS]
#   BUILD_DIR (default build) holds the recorder binary, built beforehand.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
events=${2:-10000000}
runs=${RUNS:-7}
recorder=$build/recorder
db=${DB:-$build/investigate-bench.db}
[ -x "$recorder" ] || { echo "no $recorder: build the recorder target first" >&2; exit 2; }

# What the cached database was made from.
stamp="$(sha256sum "$root/bench/make-investigate-log" | cut -c1-16) events=$events \
schema=$(grep -o 'kSchemaVersion = [0-9]*' "$root/src/store/schema.h" | grep -o '[0-9]*$')"
if [ ! -f "$db" ] || [ "$(cat "$db.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "## building $db ($events events); the stamp was '$(cat "$db.stamp" 2>/dev/null)'"
  rm -f "$db" "$db-wal" "$db-shm" "$db.stamp"
  start=$(date +%s)
  "$root/bench/make-investigate-log" "$events" |
    /usr/bin/time -f "replay: %e s wall, %U+%S s cpu, %M KB peak RSS" \
      "$recorder" replay --no-progress --db "$db" - | tail -n 4
  echo "built in $(( $(date +%s) - start )) s"
  echo "$stamp" > "$db.stamp"
fi
# The indexes of `search`, which the recorder does not keep while
# recording (docs/schema.md, "Storage design"): built with SEARCH_INDEXES=1
# (`recorder search-index`), dropped otherwise, so either figure can be
# measured on the same cached database in any order.
if [ "${SEARCH_INDEXES:-0}" = 1 ]; then
  echo "## $("$recorder" search-index --db "$db" | head -1)"
else
  echo "## $("$recorder" search-index --drop --db "$db" | head -1)"
fi
echo "## indexes: $(sqlite3 "$db" "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL")"

q() { sqlite3 "$db" "$1"; }
echo "## database"
echo "file: $(stat -c %s "$db") bytes; $(q "SELECT sum(events_stored) FROM runs") events stored"
q "SELECT 'processes ' || count(*) || ', distinct pids ' || count(DISTINCT pid) ||
   ', without a recorded parent ' || (count(*) - count(parent_process_id)) FROM process_data"
q "SELECT 'file ' || (SELECT count(*) FROM file_data) || ', network ' ||
   (SELECT count(*) FROM network_data) || ', strings ' || (SELECT count(*) FROM strings) ||
   ', commands ' || (SELECT count(*) FROM commands)"

# The subjects: the first 200-level recursive build and its session.
deepest=$(q "SELECT process_id FROM processes WHERE cmdline = 'make -C dir199 all'
             ORDER BY process_id LIMIT 1")
middle=$(q "SELECT process_id FROM processes WHERE cmdline = 'make -C dir100 all'
            ORDER BY process_id LIMIT 1")
session=$(q "WITH RECURSIVE up(id, parent) AS (
               SELECT process_id, parent_process_id FROM process_data WHERE process_id = $deepest
               UNION ALL SELECT p.process_id, p.parent_process_id FROM process_data p
               JOIN up ON p.process_id = up.parent)
             SELECT id FROM up WHERE (SELECT cmdline FROM processes WHERE process_id = up.id) = '-bash'
             LIMIT 1")
first=$(q "SELECT min(time) FROM file_data")
since=$(( first / 1000 + 6 * 3600 ))
until=$(( since + 3600 ))
echo "subjects: session #$session, make dir100 #$middle, make dir199 #$deepest;" \
     "hour $(date -u -d @$since +%FT%TZ)"

# Median wall and CPU (user + sys) ms of RUNS runs of `recorder ARGS`,
# output discarded. On a shared machine the wall time includes waiting
# for a core; the CPU time does not.
median_ms() {
  python3 - "$runs" "$recorder" "$@" --db "$db" <<'PY'
import resource, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
wall, cpu = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall.append((time.perf_counter() - t0) * 1000)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
print("%6.1f ms wall (min %.1f, max %.1f), %5.1f ms cpu%s"
      % (statistics.median(wall), min(wall), max(wall), statistics.median(cpu),
         "" if code == 0 else " (exit %d)" % code))
PY
}

echo "## median of $runs runs, wall time of the whole command (load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "tree (session, --depth 20):         $(median_ms tree "$session")"
echo "tree --depth 1000 (session, all):   $(median_ms tree "$session" --depth 1000)"
echo "show (make dir100):                 $(median_ms show "$middle")"
echo "ancestry (tree --depth 0, dir199):  $(median_ms tree "$deepest" --depth 0)"
echo "timeline, one hour, first page:     $(median_ms timeline --since "$since" --until "$until")"
echo "timeline, one hour, --json:         $(median_ms timeline --since "$since" --until "$until" --json)"
echo "timeline --histogram, one hour:     $(median_ms timeline --since "$since" --until "$until" --histogram)"
echo "search a rare path fragment:        $(median_ms search recorder-bench-needle)"
echo "search an address:                  $(median_ms search 10.2.3.4)"
echo "search a user (whole):              $(median_ms search 1002)"
echo "search a common path fragment:      $(median_ms search proj7/src)"
echo "process start (tree of an unknown id): $(median_ms tree 999999999)"
echo "hits: needle $("$recorder" search recorder-bench-needle --json --db "$db" | grep -c '"process_id"')," \
     "tree lines $("$recorder" tree "$session" --db "$db" | wc -l)," \
     "ancestry lines $("$recorder" tree "$deepest" --depth 0 --db "$db" | wc -l)"
