#!/usr/bin/env bash
# Hunt benchmark (BENCHMARKS.md row R): `recorder signals hunt` with COUNT
# Sigma rules (bench/make-sigma-rules, a mix shaped like SigmaHQ's ~210
# Linux rules) over a database of about EVENTS stored events, built by
# replaying bench/make-investigate-log (processes, file and network
# events). Each hunt runs RUNS times as a user runs it; wall, CPU and peak
# RSS of each are printed, then the median wall time.
#
# The database is cached (DB, default BUILD_DIR/hunt-bench.db) and rebuilt
# only when it is missing or was made from another generator, event count
# or schema version. RULES=DIR hunts with the rules of DIR (for example
# SigmaHQ's rules/linux) instead of generated ones.
#
# Usage: [RUNS=5] [DB=path] [RULES=dir] bench/hunt.sh [BUILD_DIR] [EVENTS] [COUNT]
#   BUILD_DIR (default build) holds the recorder binary, built beforehand.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
events=${2:-1000000}
count=${3:-210}
runs=${RUNS:-5}
recorder=$build/recorder
db=${DB:-$build/hunt-bench.db}
[ -x "$recorder" ] || { echo "no $recorder: build the recorder target first" >&2; exit 2; }
work=$(mktemp -d /tmp/recorder-hunt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

stamp="$(sha256sum "$root/bench/make-investigate-log" | cut -c1-16) events=$events \
schema=$(grep -o 'kSchemaVersion = [0-9]*' "$root/src/store/schema.h" | grep -o '[0-9]*$')"
if [ ! -f "$db" ] || [ "$(cat "$db.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "## building $db ($events events)"
  rm -f "$db" "$db-wal" "$db-shm" "$db.stamp"
  "$root/bench/make-investigate-log" "$events" |
    "$recorder" replay --no-progress --db "$db" - | grep '^stored'
  echo "$stamp" > "$db.stamp"
fi
echo "## database: $(sqlite3 "$db" "SELECT (SELECT count(*) FROM processes) || ' processes, ' ||
  (SELECT count(*) FROM file_events) || ' file events, ' ||
  (SELECT count(*) FROM network_events) || ' network events, ' ||
  (SELECT sum(events_stored) FROM runs) || ' events stored'"), $(du -m "$db" | cut -f1) MB"

rules=${RULES:-}
if [ -z "$rules" ]; then
  rules=$work/rules
  "$root/bench/make-sigma-rules" "$count" "$rules"
fi
echo "## rules: $("$recorder" signals check --quiet --config "$work" "$rules" | tail -1)"

walls=()
for run in $(seq "$runs"); do
  /usr/bin/time -o "$work/time" -f "%e %U %S %M" \
    "$recorder" signals hunt --config "$work" --db "$db" "$rules" >"$work/out" 2>"$work/err"
  read -r wall user sys rss <"$work/time"
  walls+=("$wall")
  echo "run $run: wall $wall s, cpu $(python3 -c "print(f'{$user + $sys:.2f}')") s," \
    "peak RSS $((rss / 1024)) MB"
done
tail -1 "$work/out"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median wall over $runs runs: $(median "${walls[@]}") s (target < 10 s)"
