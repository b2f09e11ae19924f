// The run log: one row in run_data (view `runs`) per ingest run, with the
// source's health counters (lines, malformed input, kernel and queue
// losses) and what the store did with its events. It is how a reader of
// monitor.db learns that a run lost events, and how many.
//
// Written inside the store's current write transaction (BeginRun and
// RecordRunStats open one when none is): durable with the next commit.
// Not thread-safe; the store's writer thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "normalize/typed_event.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

// The kinds of typed events (TypedEvent::body's alternatives).
inline constexpr size_t kRunEventKinds = std::variant_size_v<EventBody>;

// What the store did, counted since Open (and per run, see RunStats).
struct StoreCounters {
  uint64_t process_starts = 0;
  uint64_t process_ends = 0;
  uint64_t file_events = 0;
  uint64_t network_events = 0;
  uint64_t security_events = 0;
  uint64_t module_events = 0;
  uint64_t image_events = 0;  // library loads (not audit events: never deduplicated)
  uint64_t placeholder_processes = 0;
  uint64_t duplicates = 0;  // audit events already in the database
  uint64_t commits = 0;
  // File rows stored with a path or new_path left unresolved (relative
  // to a directory inode: docs/normalization.md).
  uint64_t unresolved_paths = 0;
  uint64_t failed_execs = 0;
  // Network rows whose local address and port (or an address-less
  // accept's remote ones) the live enrich stage looked for and could not
  // find (the socket was gone): left empty.
  uint64_t unresolved_ports = 0;
  uint64_t dns_events = 0;        // DNS queries (not audit events: never deduplicated)
  uint64_t dns_unattributed = 0;  // ... of them stored without their process
  uint64_t registry_events = 0;   // Windows registry changes (imported Sysmon records)
  // signal_matches rows written, and removed past RecordSignalMatches
  // (oldest first).
  uint64_t signal_matches = 0;
  uint64_t signal_matches_removed = 0;
  uint64_t stored() const {
    return process_starts + process_ends + file_events + network_events + security_events +
           module_events + image_events + failed_execs + dns_events + registry_events;
  }
};

// One ingest run's health counters, written to run_data (view `runs`).
// Sources fill what they know (replay: lines, malformed...; live: also
// kernel_lost and queue drops); the store adds its own StoreCounters
// for the run when it writes them.
struct RunStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t malformed = 0;
  uint64_t truncated = 0;
  uint64_t audit_events = 0;
  uint64_t partial_events = 0;
  uint64_t ignored_events = 0;
  uint64_t kernel_lost = 0;         // audit_status.lost deltas (0 for replay)
  uint64_t dropped_backlog = 0;     // kernel backlog overflow seen by the source
  uint64_t dropped_queue_full = 0;  // our own bounded queues
  uint64_t dropped_other = 0;
  // Audit serials that never arrived (source/serial_gaps.h): events lost
  // after the kernel numbered them. Overlaps kernel_lost (rate limit) and
  // dropped_backlog (socket overruns): not part of the runs view's
  // events_lost sum.
  uint64_t serial_gaps = 0;
  // Events PendingEventCap dropped (the live writer was behind), by
  // TypedEvent::body's alternative (EventKindName): columns
  // dropped_cap_<kind>. Their sum is part of dropped_queue_full.
  std::array<uint64_t, kRunEventKinds> cap_dropped_by_kind{};
  // Events the user-space filters left out (docs/filters.md), by kind:
  // columns filtered_out_<kind>. Chosen, not lost: not in events_lost.
  // What pushed-down kernel rules exclude never arrives and is not counted.
  std::array<uint64_t, kRunEventKinds> filtered_out_by_kind{};
  // Windows event logs (replay): records read, and those of channels
  // other than Sysmon's, skipped.
  uint64_t evtx_records = 0;
  uint64_t evtx_other_channels = 0;
  std::string error;  // why the run stopped early; empty when it did not
  // What happened to the database file at the run's start or end (a
  // damaged file archived, a switch to a fresh file); empty: nothing.
  std::string note;
};

class RunLog {
 public:
  static Result<std::unique_ptr<RunLog>> Create(Database* db);

  // Adds the run's row; per-run counters restart from `carried`: zero
  // for a new run, the counts so far for a run that goes on in a fresh
  // database file.
  Result<int64_t> Begin(std::string_view source, int64_t wall_ms,
                        const StoreCounters& carried = StoreCounters());
  // Updates the run's row with `stats` and the run's StoreCounters;
  // `wall_ms` becomes its end_time.
  Status Record(const RunStats& stats, int64_t wall_ms);

  void Count(uint64_t StoreCounters::*field) {
    ++(total_.*field);
    ++(run_.*field);
  }
  int64_t run_id() const { return run_id_; }  // 0 before Begin
  const StoreCounters& total() const { return total_; }
  const StoreCounters& run() const { return run_; }

 private:
  explicit RunLog(Database* db) : db_(db) {}

  Database* db_;
  std::unique_ptr<Statement> insert_;
  std::unique_ptr<Statement> update_;
  int64_t run_id_ = 0;
  StoreCounters total_;
  StoreCounters run_;
};

}  // namespace recorder::store
