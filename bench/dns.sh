#!/usr/bin/env bash
# The DNS monitor's cost (MonitorDNS, cgroup BPF capture):
#   1. the recorder's CPU per 1,000 DNS queries/s: a Python client sends
#      QPS queries/s for SECONDS to a dnsmasq of ours on 127.0.0.77:53
#      (fixed records, no upstream), once with MonitorDNS on and once
#      off; the recorder's utime+stime over the window, on minus off;
#   2. the cost on traffic that is not DNS: a 2 GiB loopback TCP
#      transfer (Python, 64 KiB writes) timed with the programs attached
#      (recorder with MonitorDNS on) and without (MonitorDNS off), 3 times
#      each, alternating: wall time and the transfer's own CPU (the
#      cgroup_skb programs run in the sender's and receiver's context).
# Each run is `recorder run --source unicast` (root: it becomes the audit
# daemon for the run and restores the audit state when it stops).
#
# Usage: sudo bench/dns.sh [RECORDER] [QPS] [SECONDS]
#   defaults: build/recorder 1000 20
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
recorder=${1:-$root/build/recorder}
qps=${2:-1000}
seconds=${3:-20}
key=recorder-bench-dns

# shellcheck source=bench/live_bench_lib.sh
. "$root/bench/live_bench_lib.sh"
live_bench_preflight dns.sh
live_bench_workdir recorder-dns
dnsmasq_pid=
cleanup_all() {
  if [ -n "$dnsmasq_pid" ]; then kill -TERM "$dnsmasq_pid" 2>/dev/null || true; fi
  live_bench_cleanup
}
trap cleanup_all EXIT

dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
  --listen-address=127.0.0.77 --port=53 --user=root --pid-file= --local-ttl=300 --local=/test/ \
  --address=/a.test/192.0.2.10 2>"$work/dnsmasq.log" &
dnsmasq_pid=$!
sleep 0.5
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_recorder() {  # $1: true/false for MonitorDNS
  local config=$work/config-$1 state=$work/state-$1
  mkdir -p "$config" "$state"
  echo "{\"MonitorDNS\": $1}" >"$config/recorder.json"
  live_bench_start_recorder "$1" "$config" "$state"
}

stop_recorder() {
  kill -TERM "$recorder_pid"
  wait "$recorder_pid" || true
  recorder_pid=
}

load() {  # QPS queries/s for SECONDS, paced; prints the queries answered
  python3 - "$qps" "$seconds" <<'PY'
import socket, struct, sys, time
qps, seconds = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
sent = answered = 0
def drain():  # counts the answers that have arrived
    global answered
    try:
        while True:
            s.recv(512)
            answered += 1
    except BlockingIOError:
        pass
start = time.monotonic()
while True:
    now = time.monotonic() - start
    if now >= seconds:
        break
    while sent < now * qps:
        name = b"\x01q" + struct.pack("B", 5) + f"{sent % 100000:05d}".encode() + b"\x01a\x04test\x00"
        s.sendto(struct.pack(">HHHHHH", sent & 0xFFFF, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01",
                 ("127.0.0.77", 53))
        sent += 1
    drain()
    time.sleep(0.001)
time.sleep(0.2)
drain()
print(sent, answered)
PY
}

transfer() {  # prints wall seconds and the transfer's CPU seconds
  python3 - <<'PY'
import os, socket, threading, time
total = 2 << 30
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
def sink():
    conn, _ = server.accept()
    while conn.recv(1 << 20):
        pass
t = threading.Thread(target=sink)
t.start()
client = socket.create_connection(server.getsockname())
block = b"\0" * 65536
cpu0, wall0 = os.times(), time.monotonic()
for _ in range(total // len(block)):
    client.sendall(block)
client.close()
t.join()
cpu1, wall1 = os.times(), time.monotonic()
print(f"{wall1 - wall0:.3f} {(cpu1.user - cpu0.user) + (cpu1.system - cpu0.system):.3f}")
PY
}

echo "== 1. recorder CPU at $qps DNS queries/s for $seconds s"
for mode in true false; do
  start_recorder "$mode"
  cpu0=$(cpu_ticks "$recorder_pid")
  counts=$(load)
  sleep 2  # the last answers are joined and held back
  cpu1=$(cpu_ticks "$recorder_pid")
  rows=$("$recorder" status --json --state-dir "$work/state-$mode" | python3 -c \
    'import json,sys; d=json.load(sys.stdin)["dns"]; print(d["mechanism"], d["queries"], d["answered"], d["kernel_lost"], d["dropped"])')
  stop_recorder
  stored=$(sqlite3 "$work/$mode.db" "SELECT count(*) FROM dns_events")
  python3 -c "
import sys
cpu = ($cpu1 - $cpu0) / $ticks
print(f'MonitorDNS=$mode: sent/answered {\"$counts\"}; recorder CPU {cpu:.2f} s = {cpu / $seconds * 100:.1f}% of a core; '
      f'mechanism, queries/answered/kernel lost/dropped {\"$rows\"}; rows stored $stored')"
done

echo "== 2. 2 GiB loopback TCP transfer, programs attached (on) / not (off)"
for round in 1 2 3; do
  for mode in true false; do
    start_recorder "$mode"
    echo "MonitorDNS=$mode round $round: wall s, transfer CPU s: $(transfer)"
    stop_recorder
  done
done
