#!/usr/bin/env bash
# Signals benchmark: replay of the realistic mix (bench/make-realistic-log)
# with COUNT Sigma rules (bench/make-sigma-rules) against none, RUNS pairs
# alternated, a fresh database each run. Prints each run's stored
# events/s and CPU seconds, the median ratios with ÷ without, and the
# rules' load report.
#
# Usage: [RUNS=N] [RULES_DIR=DIR] bench/signals.sh [BUILD_DIR] [COUNT] [LINES]
#   BUILD_DIR defaults to build (its `recorder` must be built);
#   COUNT to 100 rules; LINES to 1000000 lines of log.
#   RULES_DIR: the rules of DIR instead of COUNT generated ones, e.g. the
#   Linux rules of a SigmaHQ checkout (rules/linux), which the project
#   does not ship (their licence asks for the author with every match).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
count=${2:-100}
lines=${3:-1000000}
runs=${RUNS:-3}
recorder=$build/recorder
work=$(mktemp -d /tmp/recorder-signals-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$root/bench/make-realistic-log" "$work/real.log" "$lines" >/dev/null
if [ -n "${RULES_DIR:-}" ]; then
  cp -r "$RULES_DIR" "$work/rules"
  count="the $(find "$work/rules" -name '*.yml' | wc -l) rule files of $RULES_DIR,"
else
  "$root/bench/make-sigma-rules" "$count" "$work/rules"
fi
"$recorder" signals check --quiet --config "$work" "$work/rules" | tail -1

# "STORED EVENTS_PER_S CPU_S" of one replay: the summary's stored events
# and wall rate, and the CPU of all its threads together (two without
# rules; with rules a third matches beside the writer). On a loaded
# machine the CPU ratio is the steadier figure.
replay() {
  rm -f "$work"/m.db*
  "$recorder" replay --no-progress --config "$work" --db "$work/m.db" "$@" "$work/real.log" \
    >"$work/out.txt"
  local stored cpu
  stored=$(sed -n 's/^stored \([0-9]*\) events (\([0-9]*\) events\/s).*/\1 \2/p' "$work/out.txt")
  cpu=$(grep '^cpu:' "$work/out.txt" | sed 's/;.*//' | grep -o '[0-9.]* s' |
    awk '{sum += $1} END {print sum}')
  echo "$stored $cpu"
}

ratios=()
cpu_ratios=()
for run in $(seq "$runs"); do
  read -r n0 r0 c0 < <(replay)
  read -r n1 r1 c1 < <(replay --signals "$work/rules")
  grep '^signals:' "$work/out.txt" | sed 's/^/  /'
  ratio=$(python3 -c "print(f'{$r1 / $r0:.3f}')")
  cpu_ratio=$(python3 -c "print(f'{$c0 / $c1:.3f}')")
  ratios+=("$ratio")
  cpu_ratios+=("$cpu_ratio")
  echo "pair $run: without $r0 events/s, $c0 CPU s ($n0 stored); with $count rules" \
    "$r1 events/s, $c1 CPU s ($n1 stored): wall rate $ratio, per CPU $cpu_ratio"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median with ÷ without ($runs pairs, $count rules): events/s $(median "${ratios[@]}")," \
  "events per CPU-second $(median "${cpu_ratios[@]}")"
