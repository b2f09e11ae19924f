#!/usr/bin/env bash
# Kernel pushdown on a noisy workload: what a pushed-down exclusion saves
# against the same exclusion applied in user space only.
#
# A "noisy agent" (a copy of bash under the work directory) writes WRITES
# files in a loop, with builtins only, so every write is one audited
# open(O_CREAT|O_TRUNC) and nothing else; meanwhile nothing else of note
# runs. Two runs of `recorder run --source unicast` (root: it becomes the
# audit daemon for the run, removes its rules and restores the audit
# state when it stops), each with a filters.json that leaves the agent
# out:
#   pushdown:   {"exe": "<agent>"}              -> a "never" rule in the kernel
#   user space: {"exe": {"ends_with": "/noisy-agent"}} -> not expressible
#               as an audit rule: the kernel emits, the recorder drops.
# Reports per run: the audit records the recorder received (status
# `records`), the events the filters dropped in user space, and the
# recorder's CPU time (utime + stime from /proc) over the workload.
#
# Usage: sudo bench/pushdown.sh [RECORDER] [WRITES]
#   defaults: build/recorder 20000
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
recorder=${1:-$root/build/recorder}
writes=${2:-20000}
key=recorder-bench-pushdown

# shellcheck source=bench/live_bench_lib.sh
. "$root/bench/live_bench_lib.sh"
live_bench_preflight pushdown.sh

live_bench_workdir recorder-pushdown

agent=$work/bin/noisy-agent
mkdir -p "$work/bin" "$work/spool"
cp /bin/bash "$agent"
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_mode() {
  local mode=$1 filter=$2
  local config=$work/config-$mode state=$work/state-$mode
  mkdir -p "$config" "$state"
  printf '%s\n' "$filter" >"$config/filters.json"
  echo "{}" >"$config/recorder.json"
  live_bench_start_recorder "$mode" "$config" "$state"
  local before after cpu0 cpu1 start end
  before=$("$recorder" status --json --state-dir "$state" --config "$config")
  cpu0=$(cpu_ticks "$recorder_pid")
  start=$(date +%s.%N)
  "$agent" -c 'i=0; while [ $i -lt '"$writes"' ]; do echo x >"$1/f$((i % 100))"; i=$((i+1)); done' \
    agent "$work/spool"
  end=$(date +%s.%N)
  sleep 2  # the last records arrive and are judged
  cpu1=$(cpu_ticks "$recorder_pid")
  after=$("$recorder" status --json --state-dir "$state" --config "$config")
  kill -TERM "$recorder_pid"
  wait "$recorder_pid" || true
  recorder_pid=
  python3 - "$mode" "$before" "$after" "$cpu0" "$cpu1" "$ticks" "$start" "$end" "$writes" <<'PY'
import json, sys
mode, before, after = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
cpu = (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6])
took = float(sys.argv[8]) - float(sys.argv[7])
writes = int(sys.argv[9])
records = after["records"] - before["records"]
dropped = after["filters"]["dropped"] - before["filters"]["dropped"]
lost = after.get("kernel_lost", 0) - before.get("kernel_lost", 0)
print(f"{mode:>10}: {writes} writes in {took:.2f} s; kernel rules from the filters "
      f"{after['filters']['kernel_rules']}; audit records received {records} "
      f"({records / writes:.2f} per write); dropped in user space {dropped}; "
      f"recorder CPU {cpu:.2f} s ({cpu / took * 100:.0f}% of a core); kernel lost {lost}")
PY
}

echo "== $writes writes by $agent, excluded by the filters"
run_mode pushdown '{"process": {"exclude": [{"exe": "'"$agent"'"}]}}'
run_mode userspace '{"process": {"exclude": [{"exe": {"ends_with": "/noisy-agent"}}]}}'
