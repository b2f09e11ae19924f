# Sourced by the benchmarks that run a live recorder (pushdown.sh,
# exec_storm.sh): the checks before they touch the audit state and the
# cleanup on every way out. The caller sets `key` (its rule key) first.

# Root, and no other audit daemon holding the audit pid; else exit 1.
# $1: the script's name, for the messages.
live_bench_preflight() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$1: needs root (the recorder becomes the audit daemon)" >&2
    exit 1
  fi
  if [ "$(auditctl -s | awk '/^pid/ {print $2}')" != "0" ]; then
    echo "$1: another audit daemon holds the audit pid; stop it first" >&2
    exit 1
  fi
}

# Makes the work directory `work` (mktemp -d /tmp/$1.XXXXXX) and a trap
# that, on exit, stops the recorder whose pid the caller put in
# `recorder_pid`, deletes the rules with key `key` and removes `work`.
live_bench_workdir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  recorder_pid=
  trap live_bench_cleanup EXIT
}

live_bench_cleanup() {
  if [ -n "$recorder_pid" ] && kill -0 "$recorder_pid" 2>/dev/null; then
    kill -TERM "$recorder_pid"
    wait "$recorder_pid" || true
  fi
  # The recorder removes its rules on every way out; this covers a crash.
  # (-D -k: by key, so no rule text goes back through the shell; a rule's
  # "a2&0x243" would end the command there.)
  auditctl -D -k "$key" >/dev/null 2>&1 || true
  rm -rf "$work"
}

# Starts `recorder run --source unicast` on $work/$1.db with config dir $2
# and state dir $3 (log $work/$1.log), its pid in `recorder_pid`, and
# returns once its rules (key `key`) are in the kernel and it has settled.
# Needs `recorder` (the binary) set by the caller.
live_bench_start_recorder() {
  "$recorder" run --db "$work/$1.db" --state-dir "$3" --config "$2" \
    --rule-key "$key" --source unicast --no-live-line 2>"$work/$1.log" &
  recorder_pid=$!
  for _ in $(seq 1 100); do
    auditctl -l 2>/dev/null | grep -qE -- "key=$key( |$)" && break
    sleep 0.1
  done
  sleep 1
}
