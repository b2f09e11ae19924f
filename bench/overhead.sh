#!/usr/bin/env bash
# Overhead against auditd: CPU, throughput, loss and memory of audit
# collectors side by side on the same workloads (BENCHMARKS.md, "Overhead
# against auditd").
#
# Collectors, each in turn, a fresh start for every cell:
#   floor      bench/overhead/floor_reader: becomes the audit daemon, reads
#              every record and discards it (the physical floor)
#   auditd     auditd alone, log_format = RAW into a temporary log
#   unicast    recorder run --source unicast (the recorder is the audit daemon)
#   plugin     auditd + `recorder plugin`, set up as `recorder install` does
#   multicast  auditd + recorder run --source multicast
# All five run with the recorder's rules (the file `recorder install` writes,
# loaded with auditctl -R where no recorder loads them itself) under the key
# recorder-bench-overhead. auditd runs from a temporary configuration
# directory (auditd -n -c DIR) made from the installed auditd.conf the way
# `recorder install --root` changes it; /etc is not touched.
#
# Workloads (bench/overhead/loadgen.c), each SECONDS long and bounded in count:
#   exec100 exec1000 exec3000   fork+exec /bin/true at that many per second
#   execmax                     fork+exec /bin/true as fast as possible
#   tcp                         connect + accept on 127.0.0.1 at TCP_RATE/s
#   file                        create+write, rename, unlink at FILE_RATE/s
#
# Per cell: CPU of every collector process (sum of its threads' on-CPU time,
# /proc/PID/task/*/schedstat, i.e. utime+stime at ns resolution), the
# kernel's kauditd thread, ops/s achieved, kernel lost, recorder drops,
# RSS at the end of the workload and peak RSS (VmHWM), database (or log)
# bytes per event, and how many of the workload's own events were stored.
# The CPU window runs from the workload's start until the collector has
# caught up (at least 1.5 s, the recorder's 1 s batch delay; then until the
# kernel backlog and the audit sockets are empty and the collector is idle).
#
# Usage (root):
#   bench/overhead.sh [--build DIR] [--out DIR] [--reps N] [--seconds S]
#                     [--collectors "floor auditd ..."] [--workloads "exec100 ..."]
#                     [--lock FILE]
#   --lock FILE  hold FILE (flock) during each repetition only and release it
#                between repetitions; do not combine with an outer `flock FILE`.
# Defaults: build/, out bench/overhead/results, 3 repetitions, 5 s per cell,
# every collector and workload. Env: TCP_RATE=1000 FILE_RATE=1000,
# SKIP_BUILD=1 (use the recorder already in the build dir), KEEP_WORK=1,
# SIGNALS=N (the recorders run with N Sigma rules from bench/make-sigma-rules
# in their signals directory; row Q's live half), SIGNALS_DIR=DIR (with the
# rules of DIR instead, e.g. SigmaHQ's rules/linux: row S's live half).
#
# The harness restores the audit state it found (enabled flag, backlog
# settings, no rule with its key, audit pid 0) and stops every process it
# started, by pid, on every way out including Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
out=$root/bench/overhead/results
reps=3
seconds=5
collectors="floor auditd unicast plugin multicast"
workloads="exec100 exec1000 exec3000 execmax tcp file"
lock=
tcp_rate=${TCP_RATE:-1000}
file_rate=${FILE_RATE:-1000}
key='recorder-bench-overhead'
command_line="bench/overhead.sh $*"

while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(realpath -m "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --collectors) collectors=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --lock) lock=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "overhead.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "overhead.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (collectors become the audit daemon)"
for c in $collectors; do
  case $c in floor|auditd|unicast|plugin|multicast) ;; *) die "unknown collector $c" ;; esac
done
for w in $workloads; do
  case $w in exec100|exec1000|exec3000|execmax|tcp|file) ;; *) die "unknown workload $w" ;; esac
done
for tool in auditd auditctl jq cc; do command -v "$tool" >/dev/null || die "$tool is needed"; done

# ---------------------------------------------------------------- audit state
audit_field() { auditctl -s | awk -v k="$1" '$1 == k {print $2}'; }
our_rules() { auditctl -l 2>/dev/null | grep -E -- "-k $key( |\$)|key=$key( |\$)" || true; }

[ "$(audit_field enabled)" != 2 ] || die "audit rules are immutable (enabled 2)"
holder=$(audit_field pid)
if [ "$holder" != 0 ] && kill -0 "$holder" 2>/dev/null; then
  die "pid $holder holds the audit connection (another audit daemon); stop it first"
fi
pgrep -x auditd >/dev/null && die "auditd is running; stop it first"
[ -z "$(our_rules)" ] || die "rules with key $key are loaded (a previous run?); auditctl -D -k $key"
orig_enabled=$(audit_field enabled)
orig_backlog=$(audit_field backlog_limit)
orig_wait=$(audit_field backlog_wait_time)
kauditd=$(pgrep -x kauditd | head -1)

work=$(mktemp -d /tmp/recorder-overhead.XXXXXX)
chmod 700 "$work"
# Sleeping without starting a process: a read with a timeout on a FIFO
# nobody writes (see "sampling" below for why).
mkfifo "$work/pause.fifo"
exec 8<>"$work/pause.fifo"
pause() { read -r -t "$1" -u 8 _ || true; }
started=()   # pids running that this script started (collectors, the plugin auditd spawned)
all_started=" "  # every pid it ever started, for the final check

stop_pid() {  # pid [seconds]: SIGTERM, wait, then SIGKILL
  local pid=$1 limit=${2:-30} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    # Our own child: reap it, or it stays a zombie that kill -0 still finds.
    if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then wait "$pid" 2>/dev/null || true; break; fi
    pause 0.05
  done
  if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
    echo "overhead.sh: pid $pid did not stop in ${limit}s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

delete_our_rules() {
  local rule
  our_rules | sed 's/^-a /-d /' | while read -r rule; do
    # shellcheck disable=SC2086  # the rule is auditctl's own word list
    auditctl $rule >/dev/null 2>&1 || echo "overhead.sh: could not delete rule: $rule" >&2
  done
}

restore_audit() {
  delete_our_rules
  [ "$(audit_field enabled)" = "$orig_enabled" ] || auditctl -e "$orig_enabled" >/dev/null
  [ "$(audit_field backlog_limit)" = "$orig_backlog" ] || auditctl -b "$orig_backlog" >/dev/null
  [ "$(audit_field backlog_wait_time)" = "$orig_wait" ] ||
    auditctl --backlog_wait_time "$orig_wait" >/dev/null
}

cleaned=0
cleanup() {
  local status=$?
  [ "$cleaned" = 1 ] && return
  cleaned=1
  trap '' INT TERM HUP
  local pid
  for pid in "${started[@]}"; do stop_pid "$pid" 10; done
  restore_audit || true
  local holder_now
  holder_now=$(audit_field pid)
  # With --lock another user may hold the audit pid by now: only ours matter.
  if [ "$holder_now" != 0 ] && [[ $all_started == *" $holder_now "* ]] && kill -0 "$holder_now" 2>/dev/null; then
    echo "overhead.sh: WARNING: pid $holder_now (started here) holds the audit connection" >&2
  fi
  if [ -n "$(our_rules)" ]; then echo "overhead.sh: WARNING: rules with key $key remain" >&2; fi
  if [ "$holder_now" = 0 ] || ! [[ $all_started == *" $holder_now "* ]]; then
    echo "audit state restored (enabled $orig_enabled, backlog_limit $orig_backlog, no rule with key $key)" >&2
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "overhead.sh: interrupted" >&2; exit 130' INT TERM HUP

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  nice cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  nice cmake --build "$build" -j"$(nproc)" --target recorder >/dev/null
fi
recorder=$build/recorder
[ -x "$recorder" ] || die "$recorder not found (build it, or drop SKIP_BUILD)"
bin=$work/bin
mkdir -p "$bin"
for p in loadgen floor_reader; do
  cc -O2 -Wall -Wextra -o "$bin/$p" "$root/bench/overhead/$p.c"
done

# ---------------------------------------------------------------- setup
# The recorder's configuration: its own key and paths; the CPU kill switch
# off (a benchmark drives it past cpuThreshold on purpose).
cfg=$work/config
state=$work/state
mkdir -p "$cfg" "$state" "$work/root/etc/audit"
chmod 700 "$state"
write_recorder_json() {  # db path
  cat >"$cfg/recorder.json" <<EOF
{"ruleKey": "$key", "dbLocation": "$1", "stateDir": "$state",
 "controlSocket": "$state/recorder.sock", "pidFile": "$state/recorder.pid",
 "logFile": "$state/recorder.log", "cpuKillEnabled": false}
EOF
}
write_recorder_json "$work/monitor.db"
if [ -n "${SIGNALS_DIR:-}" ]; then
  cp -r "$SIGNALS_DIR" "$cfg/signals"
elif [ "${SIGNALS:-0}" -gt 0 ]; then
  "$root/bench/make-sigma-rules" "$SIGNALS" "$cfg/signals"
fi

# `recorder install` on a copy of /etc/audit: the same auditd.conf changes,
# plugin conf and rules file a user gets.
if [ -f /etc/audit/auditd.conf ]; then cp /etc/audit/auditd.conf "$work/root/etc/audit/"; fi
"$recorder" install --root "$work/root" --config "$cfg" --binary "$recorder" >"$work/install.txt"
rules_file=$work/root/etc/audit/rules.d/10-recorder.rules
[ -f "$rules_file" ] || die "recorder install wrote no rules file"
rule_count=$(grep -c '^-a ' "$rules_file")

# auditd's directory: the installed auditd.conf with the log, format and
# plugin dir pointed at the work directory (RAW; no rotation in a run).
ad=$work/auditd
mkdir -p "$ad/plugins-none" "$ad/plugins-recorder"
chmod -R go-rwx "$ad"
sed -e "/^[[:space:]]*\(log_file\|log_format\|log_group\|plugin_dir\|max_log_file_action\|write_logs\)[[:space:]]*=/d" \
  "$work/root/etc/audit/auditd.conf" >"$ad/base.conf"
cp "$work/root/etc/audit/plugins.d/recorder.conf" "$ad/plugins-recorder/"
for variant in none recorder; do
  mkdir -p "$ad/$variant"
  {
    cat "$ad/base.conf"
    echo "log_file = $work/audit.log"
    echo "log_format = RAW"
    echo "write_logs = yes"
    echo "log_group = root"
    echo "max_log_file_action = IGNORE"
    echo "plugin_dir = $ad/plugins-$variant"
  } >"$ad/$variant/auditd.conf"
  chmod 0640 "$ad/$variant/auditd.conf"
done
chmod -R go-rwx "$ad"

# The bytes a database's pages hold (its WAL included), not the file's
# size: SQLiteChunkSizeMB grows the file ahead of its use, in steps that
# would swamp a few seconds of events.
db_used_bytes() {
  sqlite3 -readonly "$1" \
    'SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size'
}

# An empty database's size (schema, no events): subtracted from each
# cell's database before dividing by its events.
: >"$work/empty.log"
"$recorder" replay --no-progress --db "$work/empty.db" "$work/empty.log" >/dev/null
empty_db_bytes=$(db_used_bytes "$work/empty.db")

# ---------------------------------------------------------------- sampling
# From the start of a workload to the end of its CPU window the harness
# starts no process: every exec and exit would be an audit event that the
# collectors must handle inside the window. So these samplers use shell
# builtins only (no command substitution: a subshell's exit is an
# exit_group event too) and return their value in REPLY.
cpu_ns() {  # pids... -> on-CPU ns of all their threads
  local p f a total=0
  for p in "$@"; do
    for f in /proc/"$p"/task/*/schedstat; do
      if [ -n "$p" ] && read -r a _ 2>/dev/null <"$f"; then total=$((total + a)); fi
    done
  done
  REPLY=$total
}
ticks() {  # pids... -> utime+stime in clock ticks (a cross-check of cpu_ns)
  local p line total=0
  local -a f
  for p in "$@"; do
    if [ -n "$p" ] && read -r line 2>/dev/null <"/proc/$p/stat"; then
      read -r -a f <<<"${line##*) }"
      total=$((total + f[11] + f[12]))
    fi
  done
  REPLY=$total
}
status_kb() {  # pid field -> VmRSS / VmHWM in kB (0 without a pid)
  local k v
  REPLY=0
  [ -n "$1" ] || return 0
  while read -r k v _; do
    if [ "$k" = "$2:" ]; then REPLY=$v; break; fi
  done 2>/dev/null <"/proc/$1/status"
}
netlink_audit_rmem() {  # -> bytes queued on all audit netlink sockets
  local eth rmem total=0
  while read -r _ eth _ _ rmem _; do
    if [ "$eth" = 9 ]; then total=$((total + rmem)); fi
  done </proc/net/netlink
  REPLY=$total
}
now_us() { REPLY=${EPOCHREALTIME/./}; }

recorder_status() { "$recorder" status --json --config "$cfg" 2>/dev/null || true; }
json_field() {  # json field: a number from the recorder's status (0 when absent)
  jq -r ".$2 // 0" <<<"$1" 2>/dev/null || echo 0
}
seconds_of() { awk -v v="$1" -v d="$2" 'BEGIN {printf "%.4f", v / d}'; }

wait_until() {  # seconds description command...: poll every 50 ms
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 20; i++)); do
    "$@" && return 0
    pause 0.05
  done
  echo "overhead.sh: timed out waiting for $what" >&2
  return 1
}
rules_loaded() { [ "$(our_rules | wc -l)" -ge "$rule_count" ]; }
holder_is() { [ "$(audit_field pid)" = "$1" ]; }
recorder_up() { "$recorder" status --config "$cfg" >/dev/null 2>&1; }
# shellcheck disable=SC2317
ready() { rules_loaded && [ "$(audit_field enabled)" = 1 ] && holder_is "$1"; }

# ---------------------------------------------------------------- collectors
# Sets pids: auditd_pid, recorder_pid, floor_pid (empty when not running).
auditd_pid='' recorder_pid='' floor_pid='' recorder_is_plugin=0
plugin_started() { pgrep -P "$auditd_pid" -x recorder >/dev/null; }
recorder_gone() { ! kill -0 "$recorder_pid" 2>/dev/null; }

start_auditd() {  # variant
  rm -f "$work/audit.log"
  auditd -n -c "$ad/$1" 2>>"$work/auditd.stderr" &
  auditd_pid=$!
  started+=("$auditd_pid"); all_started+="$auditd_pid "
  wait_until 20 "auditd to hold the audit pid" holder_is "$auditd_pid"
}

start_recorder() {  # source (unicast, multicast): a recorder of our own into $db
  "$recorder" run --config "$cfg" --db "$db" --source "$1" --no-live-line \
    --log-file "$state/recorder.log" 2>>"$work/recorder.stderr" &
  recorder_pid=$!
  started+=("$recorder_pid"); all_started+="$recorder_pid "
}

start_collector() {  # collector db
  local c=$1 db=$2
  auditd_pid='' recorder_pid='' floor_pid='' recorder_is_plugin=0
  write_recorder_json "$db"
  case $c in
    floor)
      rm -f "$work/floor.ready"
      "$bin/floor_reader" "$work/floor.ready" >"$work/floor.out" 2>>"$work/floor.stderr" &
      floor_pid=$!
      started+=("$floor_pid"); all_started+="$floor_pid "
      wait_until 20 "the floor reader" test -e "$work/floor.ready"
      auditctl -R "$rules_file" >/dev/null
      auditctl -e 1 >/dev/null
      wait_until 20 "floor ready" ready "$floor_pid"
      ;;
    auditd)
      start_auditd none
      auditctl -R "$rules_file" >/dev/null
      wait_until 20 "auditd ready" ready "$auditd_pid"
      ;;
    unicast)
      start_recorder unicast
      wait_until 30 "recorder (unicast) ready" ready "$recorder_pid"
      wait_until 30 "recorder status" recorder_up
      ;;
    plugin)
      start_auditd recorder
      wait_until 30 "auditd to start the plugin" plugin_started
      recorder_pid=$(pgrep -P "$auditd_pid" -x recorder | head -1)
      recorder_is_plugin=1
      started+=("$recorder_pid"); all_started+="$recorder_pid "
      wait_until 30 "plugin ready" ready "$auditd_pid"
      wait_until 30 "recorder status" recorder_up
      ;;
    multicast)
      start_auditd none
      start_recorder multicast
      wait_until 30 "recorder (multicast) ready" ready "$auditd_pid"
      wait_until 30 "recorder status" recorder_up
      ;;
  esac
}

stop_collector() {
  # A recorder of our own first: it flushes and removes its rules. A plugin
  # is ended by auditd (SIGTERM, then the end of its input).
  if [ -n "$recorder_pid" ] && [ "$recorder_is_plugin" = 0 ]; then stop_pid "$recorder_pid"; fi
  if [ -n "$floor_pid" ]; then stop_pid "$floor_pid"; fi
  if [ -n "$auditd_pid" ]; then stop_pid "$auditd_pid"; fi
  if [ "$recorder_is_plugin" = 1 ] && ! wait_until 30 "the plugin to exit" recorder_gone; then
    kill -KILL "$recorder_pid" 2>/dev/null || true
  fi
  started=()
  restore_audit
}

all_pids() { echo "$auditd_pid $recorder_pid $floor_pid"; }

# ---------------------------------------------------------------- workloads
# name -> "mode rate"; count bound: rate x seconds (x 1.1), or 10^7 at max.
workload_args() {
  case $1 in
    exec100) echo "exec 100" ;;
    exec1000) echo "exec 1000" ;;
    exec3000) echo "exec 3000" ;;
    execmax) echo "exec 0" ;;
    tcp) echo "tcp $tcp_rate" ;;
    file) echo "file $file_rate" ;;
  esac
}

# The workload's own events the recorder stored (exec: process starts of
# /usr/bin/true; tcp: outbound + inbound connections; file: write, rename,
# delete), and how many per operation to expect.
workload_stored() {  # workload db
  local q
  case $1 in
    exec*) q="SELECT count(*) FROM processes WHERE exe = '$(readlink -f /bin/true)' AND start_time IS NOT NULL" ;;
    tcp) q="SELECT count(*) FROM network_events WHERE exe = '$bin/loadgen' AND direction IN ('outbound', 'inbound')" ;;
    file) q="SELECT count(*) FROM file_events WHERE exe = '$bin/loadgen' AND path LIKE '$work/files/%'" ;;
  esac
  "$recorder" query --db "$2" --csv "$q" 2>/dev/null | tail -1 | tr -d '\r'
}
per_op() { case $1 in exec*) echo 1 ;; tcp) echo 2 ;; file) echo 3 ;; esac; }
# The same from auditd's log: SYSCALL records of the workload's calls.
workload_logged() {  # workload
  local log=$work/audit.log
  [ -f "$log" ] || { echo 0; return; }
  case $1 in
    exec*) grep -c "type=SYSCALL .*syscall=59 .*exe=\"$(readlink -f /bin/true)\"" "$log" || true ;;
    tcp) grep -E -c "type=SYSCALL .*syscall=(42|43|288) .*exe=\"$bin/loadgen\"" "$log" || true ;;
    file) grep -E -c "type=SYSCALL .*syscall=(257|82|87|263|264|316) .*exe=\"$bin/loadgen\"" "$log" || true ;;
  esac
}
log_events() {  # distinct audit events in auditd's log
  [ -f "$work/audit.log" ] || { echo 0; return; }
  grep -o 'msg=audit([0-9.]*:[0-9]*)' "$work/audit.log" | sort -u | wc -l
}

# ---------------------------------------------------------------- one cell
cells=$work/cells.tsv
printf '%s\n' "rep	workload	collector	target_rate	ops	seconds	rate	failed	cpu_s	recorder_cpu_s	auditd_cpu_s	kauditd_cpu_s	cpu_ticks_s	cpu_pct	lost	drops	events	stored	expected	recorder_rss_kb	recorder_hwm_kb	auditd_rss_kb	auditd_hwm_kb	floor_rss_kb	db_bytes	log_bytes	settle_s	load1" >"$cells"

run_cell() {  # rep workload collector
  local rep=$1 w=$2 c=$3
  local db=$work/cell.db
  rm -f "$db" "$db-wal" "$db-shm" "$work/audit.log" "$work/floor.out"
  rm -rf "$work/files"
  mkdir -p "$work/files"
  start_collector "$c" "$db"
  local mode rate max_ops=10000000
  read -r mode rate < <(workload_args "$w")
  if [ "$rate" != 0 ]; then max_ops=$(awk -v r="$rate" -v s="$seconds" 'BEGIN {printf "%d", r * s * 1.1 + 1}'); fi
  local -a pids
  read -r -a pids <<<"$(all_pids)"
  local lost0 events0=0
  lost0=$(audit_field lost)
  if [ -n "$recorder_pid" ]; then events0=$(json_field "$(recorder_status)" events_total); fi
  # The collector handles its start-up and the commands above before the
  # window opens (at least one batch delay of the recorder).
  pause 1.2
  # ---- window: no process started from here to its end but the workload
  local cpu0 tick0 rcpu0 acpu0 kcpu0 t0
  now_us; t0=$REPLY
  cpu_ns "${pids[@]}"; cpu0=$REPLY
  ticks "${pids[@]}"; tick0=$REPLY
  cpu_ns "$recorder_pid"; rcpu0=$REPLY
  cpu_ns "$auditd_pid"; acpu0=$REPLY
  cpu_ns "$kauditd"; kcpu0=$REPLY
  local result
  result=$("$bin/loadgen" "$mode" "$rate" "$seconds" "$max_ops" "$work/files" || true)
  local ops=0 wl_s=$seconds achieved=0 failed=0
  if [ -n "$result" ]; then read -r _ ops _ wl_s _ achieved _ failed <<<"$result"; fi
  local rrss arss frss
  status_kb "$recorder_pid" VmRSS; rrss=$REPLY
  status_kb "$auditd_pid" VmRSS; arss=$REPLY
  status_kb "$floor_pid" VmRSS; frss=$REPLY
  # Catching up: at least 1.5 s (the recorder commits a batch within 1 s),
  # then until the audit sockets hold less than 256 KiB and the collector
  # and kauditd are idle (< 6 ms of CPU in 0.3 s, or < 10% of their rate
  # during the workload), at most 15 s more. Not "empty": the recorder
  # reads a trickle of records every 100 ms, so the other users' records
  # wait in its socket that long, and an empty socket is seldom seen.
  pause 1.5
  local i c1 c2 k1 t_now busy_ns wl_us
  now_us; t_now=$REPLY
  cpu_ns "${pids[@]}" "$kauditd"; c1=$REPLY
  cpu_ns "$kauditd"; k1=$REPLY
  wl_us=$((t_now - t0))
  busy_ns=$(( (c1 - cpu0 + k1 - kcpu0) * 300000 / (wl_us > 0 ? wl_us : 1) / 10 ))
  for ((i = 0; i < 50; i++)); do
    cpu_ns "${pids[@]}" "$kauditd"; c1=$REPLY
    pause 0.3
    cpu_ns "${pids[@]}" "$kauditd"; c2=$REPLY
    netlink_audit_rmem
    if [ "$REPLY" -lt 262144 ] && { [ $((c2 - c1)) -lt 6000000 ] || [ $((c2 - c1)) -lt "$busy_ns" ]; }; then
      break
    fi
  done
  local t1 cpu1 tick1 rcpu1 acpu1 kcpu1 rhwm ahwm
  now_us; t1=$REPLY
  cpu_ns "${pids[@]}"; cpu1=$REPLY
  ticks "${pids[@]}"; tick1=$REPLY
  cpu_ns "$recorder_pid"; rcpu1=$REPLY
  cpu_ns "$auditd_pid"; acpu1=$REPLY
  cpu_ns "$kauditd"; kcpu1=$REPLY
  status_kb "$recorder_pid" VmHWM; rhwm=$REPLY
  status_kb "$auditd_pid" VmHWM; ahwm=$REPLY
  # ---- window closed
  local lost1 st drops=0 events=0 load1
  lost1=$(audit_field lost)
  if [ -n "$recorder_pid" ]; then
    st=$(recorder_status)
    drops=$(json_field "$st" drops)
    events=$(( $(json_field "$st" events_total) - events0 ))
  fi
  load1=$(cut -d' ' -f1 /proc/loadavg)
  stop_collector
  local stored=0 db_bytes=0 log_bytes=0
  case $c in
    floor) events=$(awk '{print $2}' "$work/floor.out" 2>/dev/null || echo 0) ;;  # records, not events
    auditd) events=$(log_events); stored=$(workload_logged "$w") ;;
    *)
      stored=$(workload_stored "$w" "$db")
      db_bytes=$(( $(db_used_bytes "$db") - empty_db_bytes ))
      ;;
  esac
  if [ -f "$work/audit.log" ]; then log_bytes=$(stat -c %s "$work/audit.log"); fi
  local expected=$((ops * $(per_op "$w")))
  local cpu_s settle cpu_pct
  cpu_s=$(seconds_of $((cpu1 - cpu0)) 1e9)
  settle=$(awk -v t=$((t1 - t0)) -v w="$wl_s" 'BEGIN {printf "%.3f", t / 1e6 - w}')
  cpu_pct=$(awk -v c="$cpu_s" -v s="$wl_s" 'BEGIN {printf "%.2f", 100 * c / s}')
  printf '%s\n' "$rep	$w	$c	$rate	$ops	$wl_s	$achieved	$failed	$cpu_s	$(seconds_of $((rcpu1 - rcpu0)) 1e9)	$(seconds_of $((acpu1 - acpu0)) 1e9)	$(seconds_of $((kcpu1 - kcpu0)) 1e9)	$(seconds_of $((tick1 - tick0)) "$(getconf CLK_TCK)")	$cpu_pct	$((lost1 - lost0))	$drops	$events	$stored	$expected	$rrss	$rhwm	$arss	$ahwm	$frss	$db_bytes	$log_bytes	$settle	$load1" >>"$cells"
  printf '  %-9s %-9s rate %8.1f/s  cpu %6.2f%%  settle %5.2fs  lost %s drops %s stored %s/%s  load %s\n' \
    "$w" "$c" "$achieved" "$cpu_pct" "$settle" "$((lost1 - lost0))" "$drops" "$stored" "$expected" "$load1"
}

# ---------------------------------------------------------------- the run
mkdir -p "$out"
started_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
read -r -a collector_list <<<"$collectors"
n=${#collector_list[@]}
echo "== $reps repetition(s), $seconds s per cell; work dir $work"
for ((rep = 1; rep <= reps; rep++)); do
  if [ -n "$lock" ]; then
    exec 9>>"$lock"
    echo "== repetition $rep: waiting for $lock"
    flock 9
  fi
  echo "== repetition $rep ($(date -u +%H:%M:%S) UTC)"
  for w in $workloads; do
    # A different collector goes first in each repetition.
    for ((k = 0; k < n; k++)); do
      run_cell "$rep" "$w" "${collector_list[$(((k + rep - 1) % n))]}"
    done
  done
  if [ -n "$lock" ]; then flock -u 9; exec 9>&-; fi
done
finished_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)

cp "$cells" "$out/cells.tsv"
{
  echo "command: $command_line"
  echo "started: $started_utc"
  echo "finished: $finished_utc"
  echo "load average at start (1/5/15 min): $load_start"
  echo "load average at end (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "git: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "kernel: $(uname -r)"
  echo "cpu: $(nproc) x $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "auditd: $(dpkg-query -W -f='${Version}' auditd 2>/dev/null || echo unknown)"
  echo "seconds per cell: $seconds; repetitions: $reps; tcp rate: $tcp_rate/s; file rate: $file_rate/s; recorder: $recorder (SKIP_BUILD=${SKIP_BUILD:-0})"
} >"$out/meta.txt"
python3 "$root/bench/overhead/summarize.py" "$out"
if command -v gnuplot >/dev/null; then
  gnuplot -e "dir='$out'" "$root/bench/overhead/plot.gp"
  echo "plot: $out/overhead.png"
else
  echo "gnuplot not installed (apt-get install gnuplot-nox): no plot" >&2
fi
echo "results: $out/summary.md"
