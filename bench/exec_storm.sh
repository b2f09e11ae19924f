#!/usr/bin/env bash
# Exec storm against the live recorder: does hashing new binaries ever
# stall the event path?
#
# Starts `recorder run --source unicast` (root; it becomes the audit daemon
# for the run and restores the audit state when it stops), then execs
# BINARIES distinct new binaries as fast as possible: each a copy of
# /bin/true with a unique tail of SIZE_MB (sparse, so the disk is spared but
# every byte is still hashed), interleaved with ordinary /bin/true execs.
# Every new binary is a hash-cache miss the worker must hash. Reports from
# `recorder status --json`: the event loop's longest busy stretch between
# two polls (a stall is time the kernel backlog fills while nobody reads),
# kernel lost records, hash queue drops, and how long until every row had
# its hash.
#
# Usage: bench/exec_storm.sh [BUILD_DIR] [BINARIES] [SIZE_MB]
#   defaults: build-bench 500 16
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
binaries=${2:-500}
size_mb=${3:-16}
key=recorder-bench-storm

# shellcheck source=bench/live_bench_lib.sh
. "$root/bench/live_bench_lib.sh"
live_bench_preflight exec_storm.sh

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target recorder >/dev/null
recorder=$build/recorder

live_bench_workdir recorder-exec-storm

echo "== making $binaries binaries of $size_mb MB (sparse tails) in $work/bin"
mkdir -p "$work/bin" "$work/config" "$work/state"
for i in $(seq 1 "$binaries"); do
  f=$work/bin/storm-$i
  cp /bin/true "$f"
  printf 'storm-%s-%s' "$i" "$RANDOM" >>"$f"
  truncate -s "${size_mb}M" "$f"
  printf 'end-%s' "$i" >>"$f"  # the tail differs too, not only the head
done

echo "== recording"
live_bench_start_recorder monitor "$work/config" "$work/state"  # $work/monitor.db, monitor.log

status() { "$recorder" status --json --state-dir "$work/state"; }
before=$(status)

echo "== storm"
start=$(date +%s.%N)
for i in $(seq 1 "$binaries"); do
  "$work/bin/storm-$i"
  /bin/true
done
end=$(date +%s.%N)
storm_s=$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')
echo "$((binaries * 2)) execs in ${storm_s} s"

# Wait until every storm binary's row has its hash (or 10 minutes).
deadline=$((SECONDS + 600))
while [ $SECONDS -lt $deadline ]; do
  missing=$("$recorder" query --db "$work/monitor.db" --csv \
    "SELECT count(*) FROM processes WHERE exe LIKE '%/storm-%' AND sha256 IS NULL" | tail -1 | tr -d '\r')
  [ "$missing" = "0" ] && break
  sleep 1
done
hashed_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
after=$(status)

python3 - "$before" "$after" "$binaries" "$size_mb" "$storm_s" "$hashed_s" <<'PY'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n, size, storm, hashed = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
print(f"binaries: {n} x {size} MB = {n * size / 1024:.1f} GiB to hash")
print(f"storm: {2 * n} execs in {storm:.2f} s ({2 * n / storm:.0f} execs/s)")
print(f"every storm row hashed {hashed:.1f} s after the storm began "
      f"({n * size / hashed:.0f} MB/s hashing)")
print(f"event loop longest busy stretch: {after['loop']['longest_busy_ms']:.2f} ms; "
      f"stretches over 100 ms: {after['loop']['busy_over_100ms']}")
print(f"  spent on: {after['loop']['longest_busy_where']}")
ck = after.get("checkpoints", {})
if ck:
    print(f"WAL checkpoints off the loop: {ck.get('checkpoints')} run, longest {ck.get('longest_ms')} ms, "
          f"writer fallbacks {ck.get('writer_fallbacks')}, errors {ck.get('errors')}")
print(f"kernel lost during the run: {after['kernel_lost'] - before['kernel_lost']}; "
      f"socket drops: {after['drops']}")
print(f"hash worker: {after['hashes']['hashed']} hashed, "
      f"{after['hashes']['queue_full']} refused (queue full)")
print(f"process_start events: {after['events']['process_start']['total']}")
PY
rows=$("$recorder" query --db "$work/monitor.db" --csv \
  "SELECT count(*), count(sha256) FROM processes WHERE exe LIKE '%/storm-%'" | tail -1 | tr -d '\r')
echo "storm rows, rows with sha256: $rows"
