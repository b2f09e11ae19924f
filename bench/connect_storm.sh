#!/usr/bin/env bash
# Connect burst against the live recorder: does looking up the local ports
# of connects in the kernel (sock_diag, enrich/socket_ports.h) ever delay
# the reading of the audit socket?
#
# Holds HELD established loopback connections (2 x HELD sockets in the
# kernel's TCP table, which every lookup walks), starts `recorder run
# --source unicast` (root; it restores the audit state when it stops),
# then makes CONNECTS short connects to a loopback server as fast as one
# process can. Reports from `recorder status --json`: the event loop's
# longest busy stretch between two polls and the stretches over 100 ms,
# kernel lost records, the port lookups (where the recorder has them:
# their batches, the longest, skipped ones), and how many connect rows got
# their source port.
#
# Usage: bench/connect_storm.sh [BUILD_DIR] [HELD] [CONNECTS]
#   defaults: build 4000 3000. BUILD_DIR/recorder is built when missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
held=${2:-4000}
connects=${3:-3000}
key=recorder-bench-connects

# shellcheck source=bench/live_bench_lib.sh
. "$root/bench/live_bench_lib.sh"
live_bench_preflight connect_storm.sh

if [ ! -x "$build/recorder" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target recorder >/dev/null
fi
recorder=$build/recorder

live_bench_workdir recorder-connect-storm
mkdir -p "$work/config" "$work/state"

# hold PORTFILE N: a server on 127.0.0.1 and N connections to it, held
# until killed. burst PORT N: N connects to PORT, each closed at once.
cat >"$work/storm.py" <<'PY'
import os, resource, select, socket, sys, time
mode = sys.argv[1]
if mode == "hold":
    n = int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * n + 64)), hard))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    port = s.getsockname()[1]
    kept = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = s.accept()
        kept += [c, a]
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    while True:
        r, _, _ = select.select([s], [], [])
        a, _ = s.accept()
        a.close()
else:
    port, n = int(sys.argv[2]), int(sys.argv[3])
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        c.close()
PY

echo "== holding $held loopback connections"
python3 "$work/storm.py" hold "$work/port" "$held" &
holder_pid=$!
trap 'kill $holder_pid 2>/dev/null || true; live_bench_cleanup' EXIT
for _ in $(seq 1 600); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
echo "TCP sockets in the table: $(ss -Htan | wc -l)"

echo "== recording"
live_bench_start_recorder monitor "$work/config" "$work/state"  # $work/monitor.db, monitor.log
status() { "$recorder" status --json --state-dir "$work/state"; }
before=$(status)

echo "== burst"
start=$(date +%s.%N)
python3 "$work/storm.py" burst "$port" "$connects" &
burst_pid=$!
wait "$burst_pid"
end=$(date +%s.%N)
burst_s=$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')
sleep 3  # the last lookups and the writer
after=$(status)

python3 - "$before" "$after" "$connects" "$burst_s" <<'PY'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n, burst = int(sys.argv[3]), float(sys.argv[4])
print(f"burst: {n} connects in {burst:.2f} s ({n / burst:.0f} connects/s)")
loop = after["loop"]
print(f"event loop longest busy stretch: {loop['longest_busy_ms']:.2f} ms; "
      f"stretches over 100 ms: {loop['busy_over_100ms']}")
print(f"  spent on: {loop['longest_busy_where']}")
print(f"kernel lost during the run: {after['kernel_lost'] - before['kernel_lost']}; "
      f"socket drops: {after['drops']}")
ports = after.get("ports")
if ports:
    print(f"port lookups: {ports['lookups']} ({ports['found']} found, "
          f"{ports['unresolved']} unresolved) in {ports['batches']} batches on their thread, "
          f"longest {ports['longest_batch_ms']:.2f} ms; skipped (queue full): {ports['skipped_busy']}")
PY
"$recorder" stop --state-dir "$work/state" >/dev/null 2>&1 || kill -TERM "$recorder_pid"
wait "$recorder_pid" || true
rows=$("$recorder" query --db "$work/monitor.db" --csv \
  "SELECT count(*), count(local_port) FROM network_events WHERE direction = 'outbound' AND remote_port = $port" |
  tail -1 | tr -d '\r')
echo "burst connect rows, rows with a source port: $rows"
