#!/usr/bin/env bash
# Live signals benchmark: the recorder's CPU (`recorder run --source
# unicast`, as bench/overhead.sh measures it) with the Sigma rules of
# RULES_DIR against none, one cell of each in turn, PAIRS times, so that
# the drift of a shared VM falls on both sides alike. Prints each pair
# (CPU % of a core with, without, their ratio) and the medians. Root; each
# run restores the audit state (bench/overhead.sh).
#
# Usage: RULES_DIR=DIR [PAIRS=8] [WORKLOAD=exec1000] [SECONDS_PER_CELL=8] \
#          bench/signals_live.sh [BUILD_DIR]
#   WORKLOAD: a workload of bench/overhead.sh (exec1000, execmax, ...).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ -n "${RULES_DIR:-}" ] || { echo "signals_live.sh: set RULES_DIR to a directory of Sigma rules" >&2; exit 2; }
[ -d "$RULES_DIR" ] || { echo "signals_live.sh: $RULES_DIR is not a directory" >&2; exit 2; }
pairs=${PAIRS:-8}
workload=${WORKLOAD:-exec1000}
seconds=${SECONDS_PER_CELL:-8}
work=$(mktemp -d /tmp/recorder-signals-live.XXXXXX)
trap 'rm -rf "$work"' EXIT

cell() {  # out-dir [SIGNALS_DIR] -> CPU % of the one cell
  local out=$1
  SKIP_BUILD=1 SIGNALS_DIR=${2:-} "$root/bench/overhead.sh" --build "$build" --out "$out" \
    --collectors unicast --workloads "$workload" --reps 1 --seconds "$seconds" >"$out.log" 2>&1 ||
    { echo "signals_live.sh: bench/overhead.sh failed; its output:" >&2; cat "$out.log" >&2; exit 1; }
  awk -F'\t' 'NR == 2 { print $14 }' "$out/cells.tsv"
}

: >"$work/pairs"
for i in $(seq 1 "$pairs"); do
  with=$(cell "$work/with$i" "$RULES_DIR")
  without=$(cell "$work/without$i")
  ratio=$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a / b }')
  echo "$with $without $ratio" >>"$work/pairs"
  echo "pair $i: with the rules ${with}% of a core, without ${without}%: ${ratio}x (load $(cut -d' ' -f1 /proc/loadavg))"
done
median() {  # column
  sort -g -k"$1","$1" "$work/pairs" | awk -v c="$1" '{ v[NR] = $c } END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "median of $pairs pairs ($workload, ${seconds} s cells): with $(median 1)%, without $(median 2)%, pair ratio $(median 3)x"
