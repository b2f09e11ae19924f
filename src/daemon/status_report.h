// The running daemon's answer to `recorder status`: a plain snapshot of
// what the parts of the daemon know, and the JSON built from it (the text
// form is FormatStatusText in daemon_status.h). Pure: the daemon fills
// the snapshot, nothing here reads a clock, a file or the kernel.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/event_counters.h"
#include "daemon/live_dns.h"
#include "enrich/image_load_monitor.h"
#include "enrich/port_lookup_worker.h"
#include "filter/filtering_sink.h"
#include "signals/signal_sink.h"
#include "source/netlink_source.h"
#include "store/event_store.h"

namespace recorder::daemon {

// The recorder's audit rules as last installed or checked.
struct RuleState {
  int present = 0;
  int missing = 0;
  uint64_t restores = 0;      // repairs after drift
  int64_t last_drift_ms = 0;  // wall time of the last drift seen, 0: none
  bool immutable = false;
  std::string message;  // the install report's summary
  int pushed_down = 0;  // of the rules: "never" rules from the filters
};

struct StatusSnapshot {
  int32_t pid = 0;
  std::string source;  // AuditSourceName
  int64_t started_ms = 0;
  int64_t now_ms = 0;

  struct KindCount {
    uint64_t total = 0;
    double per_second = 0;
  };
  std::array<KindCount, kEventKinds> events{};  // by EventKindName index
  uint64_t events_total = 0;

  std::optional<AuditStatus> audit_at_start;
  std::optional<AuditStatus> audit_now;
  uint64_t drops = 0;        // netlink overruns or plugin lines too long
  bool netlink = false;      // serial_gaps only then
  uint64_t serial_gaps = 0;  // audit serials that never arrived

  // PendingEventCap: events waiting for the database writer, and those
  // dropped because the cap was reached, by EventKindName index.
  int64_t pending_event_cap = 0;
  size_t in_flight = 0;
  std::array<uint64_t, kEventKinds> cap_dropped{};
  uint64_t self_excluded = 0;
  uint64_t malformed = 0;
  uint64_t records = 0;
  bool unicast = false;  // the next two only then
  bool audit_pid_lost = false;
  uint32_t audit_holder_pid = 0;

  std::string db_path;
  int64_t db_size_bytes = -1;  // -1: no file
  // The last thing that happened to the database file (damaged at start,
  // archived, recreated, deleted under us); absent: nothing.
  struct DbEvent {
    int64_t time_ms = 0;
    std::string what;
    std::string archive;
    int switches = 0;  // switches to a fresh file since the start
  };
  std::optional<DbEvent> db_event;

  std::string rule_key;
  RuleState rules;

  // The filters in force (docs/filters.md) and what they left out in user
  // space; events the kernel rules exclude (rules.pushed_down) never
  // arrive and are not counted.
  struct Filters {
    std::vector<std::string> files;  // read, in merge order; empty: no filter
    filter::FilterStats stats;
    uint64_t reload_failures = 0;
    std::string last_reload_error;  // of the last failed reload, if any
  } filters;

  // Signals (docs/signals.md): the rules in force and the matches since
  // the start, by level.
  struct Signals {
    bool enabled = false;  // not DisableSignals
    uint64_t rules = 0;
    uint64_t not_loaded = 0;  // skipped or malformed, at the last (re)load
    std::array<uint64_t, signals::kLevelCount> matches{};
    std::vector<signals::RuleMatchCount> by_rule;  // most matches first
    // signal_matches rows written and removed past RecordSignalMatches
    // (`limit`), oldest first, since the start.
    int64_t limit = 0;
    uint64_t stored = 0;
    uint64_t removed = 0;
  } signals;

  // Reloads of the configuration directory (SIGHUP or a file changed on
  // disk); a failed one leaves the previous configuration in force.
  struct Config {
    std::string dir;  // empty: no directory, no reload
    uint64_t reloads = 0;
    uint64_t reload_failures = 0;
    std::string last_reload_error;  // of the last reload, if it failed
  } config;

  struct Images {
    bool enabled = false;
    bool running = false;
    enrich::ImageLoadStats stats;
    size_t held = 0;
    std::string error;  // why the monitor is not running
  } images;

  DnsStatus dns;  // MonitorDNS: the capture's mechanism and counts

  struct Cpu {
    double threshold = 0;
    bool kill_enabled = true;
    int violations = 0;
    int kill_after_violations = 1;
    double last_window_usage = 0;
    int64_t last_window_ms = 0;
  } cpu;

  struct Storage {
    int64_t max_size_mb = 0;
    int monitor_days = 0;
    bool cleanup_running = false;
    std::optional<int64_t> last_cleanup_ms;  // wall time the last run finished
    int64_t last_cleanup_bytes_after = 0;
  } storage;

  // Free space at the database's file system (daemon/disk_space.h);
  // absent before the first sample or without a database.
  struct Disk {
    int64_t free_bytes = 0;
    int64_t total_bytes = 0;
    int64_t floor_bytes = 0;
    int64_t resume_bytes = 0;
    int64_t recommended_bytes = 0;  // 3 x maxSizeMB
    bool below_recommended = false;
    bool writing = true;
    // Writing stopped because the database is past its hard size limit
    // (faster growth than cleanup keeps up with), not for the disk.
    bool over_size_limit = false;
    uint64_t dropped = 0;  // events not stored: the floor, a full disk or the size limit
  };
  std::optional<Disk> disk;

  struct Loop {
    int64_t longest_busy_us = 0;
    std::string longest_busy_where;
    uint64_t busy_over_100ms = 0;
  } loop;

  std::optional<store::StoreCheckpointStats> checkpoints;  // with a database

  struct Hashes {
    uint64_t hashed = 0;
    uint64_t queue_full = 0;
    size_t cache_entries = 0;
  };
  std::optional<Hashes> hashes;
  // The kernel lookups of local addresses and ports (enrich/
  // port_lookup_worker.h), and the batches waiting for them.
  enrich::PortLookupStats ports;
  size_t ports_in_flight = 0;
};

// The JSON object `recorder status --json` prints for a running recorder.
nlohmann::json StatusJson(const StatusSnapshot& snapshot);

}  // namespace recorder::daemon
