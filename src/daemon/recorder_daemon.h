// The live recorder: a source (netlink unicast/multicast or auditd plugin
// stdin) -> Pipeline -> self-exclusion and counters -> enrichment ->
// filters (docs/filters.md) -> store and/or JSON lines, with the audit
// rules (and the filters' pushed-down exclusions) installed for exactly as
// long as it runs. A bad filter file stops the start; SIGHUP reloads the
// filters with the configuration, keeping those in force when a file is
// bad.
//
// Threads. The event path runs on one thread up to the database writer:
// one poll loop over the source, a signalfd (SIGINT/SIGTERM stop, SIGHUP
// reloads the configuration), the control socket, and a table of
// periodic tasks (daemon/periodic_tasks.h: ageing events, storing hashes,
// commits, audit status and rule drift checks, state saves, run
// statistics, database cleanup, the CPU kill switch). The store (and the
// JSON output) is written on its own thread (pipeline/threaded_sink.h):
// at most PendingEventCap events wait for it, beyond which events are
// dropped and counted by kind (status: pending_events; runs:
// dropped_cap_*), so a slow or locked database never stops the reading
// of the kernel's records. Commits, hash updates and run statistics are
// queued to that thread in order; the cleanup uses the store when the
// writer is idle. Beside them run the hash worker and the
// library-load monitor, each handing results over through a bounded queue
// whose drops are counted (status: hashes.queue_full,
// image_loads.dropped), and the store's WAL checkpointer, which shares
// only the database file. What the kernel or the socket drops is counted
// too (kernel_lost, drops, and the audit serials that never arrived:
// serial_gaps).
//
// Every way out — a signal, `recorder stop`, EOF on the plugin's stdin, a
// fatal error, an exception — goes through the same shutdown: remove our
// rules, drain and flush, restore the audit status we changed, remove the
// pid file and socket. How the run ended goes into its `runs` row
// (daemon/run_report.h says which endings are errors).
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"
#include "daemon/live_line.h"
#include "util/status.h"

namespace recorder::daemon {

struct DaemonOptions {
  config::RecorderConfig config;  // loaded + command-line overrides
  std::string config_dir;         // re-read on SIGHUP and on a change of its files; empty: none
  std::string db_path;            // empty: no database (JSON output only)
  config::AuditSource source = config::AuditSource::kAuto;
  // Also write every event as a JSON line to stdout / to this file.
  bool stdout_json = false;
  std::string json_out;
  // Each signal match as a JSON line to this file (appended), "-" for stdout.
  std::string signals_out;
  // The refreshed counters line on stderr; only when it is a TTY. Shown
  // through `live_line_display` when given (the caller wrapped its log
  // sinks with it, live_line.h), else through a LiveLine of its own.
  bool live_line = true;
  std::shared_ptr<LiveLine> live_line_display;
  int64_t rule_check_interval_ms = 60'000;
  int64_t status_check_interval_ms = 5'000;
  // How often the CPU use is sampled and the database size compared with
  // maxSizeMB.
  int64_t limits_check_interval_ms = 5'000;
  // Tests: the CPU kill switch's window in ms instead of cpuThresholdMinutes.
  int64_t cpu_window_ms_override = 0;
  // Run even though the state dir says "disabled".
  bool force = false;
  int stdin_fd = 0;  // the plugin source's input
};

// Runs until asked to stop. Ok after a clean stop (signal, `stop`, EOF in
// plugin mode); an error says why recording could not start or stopped.
// Never throws: exceptions are caught and turned into a Status after the
// shutdown ran.
Status RunDaemon(const DaemonOptions& options);

// Which source `kAuto` means here and now: plugin when stdin is a pipe
// from auditd/audispd, multicast when auditd runs, unicast otherwise.
config::AuditSource ResolveSource(config::AuditSource requested);

}  // namespace recorder::daemon
