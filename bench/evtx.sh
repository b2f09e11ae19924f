#!/usr/bin/env bash
# Windows event log reading speed: `recorder parse` (records as JSON lines)
# against libevtx's own `evtxexport` (XML) and python-evtx's
# `evtx_dump.py` (XML) on the same files, records per second, median of
# RUNS runs each. Output goes to /dev/null for every tool.
#
#   bench/evtx.sh [FILE.evtx ...]     (default: tests/data/evtx/*.evtx)
#   RUNS=5 RECORDER=build/recorder bench/evtx.sh
#
# Needs libevtx-utils (evtxexport) and python3-evtx (evtx_dump.py); a tool
# that is missing is skipped and said so.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
recorder=${RECORDER:-build/recorder}
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/data/evtx/*.evtx)

records=0
for f in "${files[@]}"; do
  n=$("$recorder" parse "$f" 2>/dev/null | wc -l)
  records=$((records + n))
done
echo "files: ${files[*]}"
echo "records (as recorder reads them): $records"

# Median over $runs runs of `$@`: wall seconds and CPU seconds (user +
# system of the tool and its children). On a busy machine the CPU time is
# the figure to compare; wall time includes waiting for a core.
median_times() {
  local walls=() cpus=()
  for _ in $(seq "$runs"); do
    local out
    out=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -n 1)
    walls+=("$(echo "$out" | awk '{print $1}')")
    cpus+=("$(echo "$out" | awk '{print $2 + $3}')")
  done
  local wall cpu
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$wall $cpu"
}

export recorder
printf '%-14s %9s %9s %16s %16s\n' tool wall_s cpu_s records/s_wall records/s_cpu
for tool in recorder evtxexport evtx_dump; do
  case $tool in
    recorder) cmd=("$recorder" parse "${files[@]}") ;;
    evtxexport)
      command -v evtxexport >/dev/null || { echo "evtxexport: not installed, skipped"; continue; }
      cmd=(sh -c 'for f; do evtxexport -f xml "$f"; done' sh "${files[@]}") ;;
    evtx_dump)
      [ -x /usr/bin/evtx_dump.py ] || { echo "evtx_dump.py: not installed, skipped"; continue; }
      cmd=(sh -c 'for f; do /usr/bin/python3 /usr/bin/evtx_dump.py "$f"; done' sh "${files[@]}") ;;
  esac
  read -r wall cpu < <(median_times "${cmd[@]}")
  printf '%-14s %9.3f %9.3f %16.0f %16.0f\n' "$tool" "$wall" "$cpu" \
    "$(echo "$records / $wall" | bc -l)" "$(echo "$records / ($cpu + 0.0001)" | bc -l)"
done
