// Database cleanup: MonitorDays (age) and maxSizeMB (size) retention, and
// the MaxRuntimeStorageSizeMB / AbsoluteMaxStorageSizeMB hard limits.
//
// Pure core: time comes in as `now_ms` (wall-clock ms since the Unix epoch,
// the unit of every `time` column); nothing here reads a clock. The only
// outside input besides the database is the size of the `-wal` file.
//
// Work is done in bounded steps so the recorder's single-threaded event
// loop is never stalled for long. A *run* is one complete cleanup; it is
// split over as many Step() calls as needed:
//
//   1. scan:      one pass over every event table in rowid chunks; rows
//                 older than MonitorDays are deleted, the process_id of every
//                 kept row is counted (so process rows still referenced are
//                 kept), and process_data is read for parent links and for
//                 which row each (node, pid) maps to now (process_retention.h).
//   2. size:      only when the file (DB + WAL) was over maxSizeMB at the
//                 start of the run: delete the oldest rows (by event time,
//                 over all event tables and process rows together) until the
//                 used pages are CleanPercentOverLimit percent below the limit.
//   3. processes: delete process_data rows that are old and unreferenced
//                 (rule below).
//   4. vacuum:    PRAGMA incremental_vacuum in bounded page counts until the
//                 freelist is empty, then wal_checkpoint(TRUNCATE) without
//                 waiting for readers, so the file really shrinks.
//
// Contract with the EventStore (one writer connection, a transaction kept
// open across batches): the caller must call EventStore::Flush() before
// every Step(). Step() refuses to run inside an open transaction (it
// returns an error and changes nothing): cleanup commits its own work per
// step, and wal_checkpoint/incremental_vacuum cannot shrink the file inside
// the store's transaction. Between steps the store may write freely.
//
// Which tables: discovered at the start of every run (so a new schema
// version's tables are cleaned without a change here): every table whose
// name ends in `_data` and that has a `time` column is an event table
// (file_data, network_data, ...); `audit_events` (the idempotence keys) is
// cleaned by time as well; a table without rowid is cleaned by time only.
// `process_data` is special (below). `run_data`, `strings` and `commands`
// are never touched:
//   - interned strings and commands are LEFT in place: the store's
//     StringInterner caches string ids in memory, so deleting a string row
//     (and SQLite reusing its id) could make new rows point at the wrong
//     text. They are small next to the events (one row per distinct value).
//
// Process rows (ProcessRetention, process_retention.h). A process_data row
// is deleted when ALL hold:
//   - its last known time (end_time, else start_time) is before the cutoff
//     (MonitorDays, or the size cleanup's time horizon) and at least
//     `process_grace_ms` before now; a row with neither time qualifies on
//     the next condition alone;
//   - it ended (end_time set), or a later row of the same (node, pid) that
//     took the pid over exists (enrich::RowTakesOverPid: a successful exec
//     or a placeholder) — i.e. the store will never attribute a new event
//     to it;
//     a still-running process keeps its row however old it is (bounded:
//     at most one such row per (node, pid));
//   - no kept event row refers to it (process_id), and no process row
//     names it as parent_process_id (ancestry of kept rows is kept; a
//     parent whose last child goes in the same run is retried);
//   - it is not the row with the largest process_id (SQLite would hand its
//     id to the next insert, while the store may still hold it in memory).
// Known consequence: audit_events keys are deleted by time, so after a
// restart the store cannot re-find a very old still-running process by its
// exec key and describes it with a new placeholder row.
//
// Thread safety: none; the thread that owns the store's connection calls it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/process_retention.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

inline constexpr int64_t kBytesPerMB = int64_t{1024} * 1024;
inline constexpr int64_t kMsPerDay = 86'400'000;

struct RetentionPolicy {
  int monitor_days = 90;                        // MonitorDays; 0 = keep forever
  int64_t max_size_bytes = 1024 * kBytesPerMB;  // maxSizeMB * 1 MiB; 0 = unlimited
  int clean_percent_over_limit = 10;            // CleanPercentOverLimit, 0..100
  // MaxRuntimeStorageSizeMB / AbsoluteMaxStorageSizeMB in bytes; 0 = none.
  // Over the smaller of the two after a run: Result::disable.
  int64_t max_runtime_storage_bytes = 2048 * kBytesPerMB;
  int64_t absolute_max_storage_bytes = 2048 * kBytesPerMB;

  // Work bounds of one Step(): rows read or deleted (a deletion transaction
  // holds at most this many rows), and pages given back by one
  // incremental_vacuum; a step of this many rows stays short next to the
  // event loop's other work.
  int64_t rows_per_step = 50'000;
  int64_t vacuum_pages_per_step = 2'048;
  // The closing wal_checkpoint(TRUNCATE) fails at once while another
  // checkpoint runs (the background WalCheckpointer's PASSIVE ones, often
  // under a flood) or a reader holds the WAL. It waits up to this long in
  // one step and is tried again in up to `checkpoint_tries` steps before the
  // run ends with the WAL as it is: judged by a WAL that is about to be
  // truncated, a run would count as failed (MaxCleanTries) and the
  // database would be archived for nothing.
  int checkpoint_wait_ms = 20;
  int checkpoint_tries = 25;
  // A process row is never deleted sooner than this after its last known
  // time, whatever the cutoff: must exceed ProcessExpirationSeconds (the
  // store attributes late records to an exited process that long) plus the
  // length of a run.
  int64_t process_grace_ms = 3'600'000;
};

// Sizes read from the database (pragmas) and the file system (-wal).
struct StorageSize {
  int64_t page_size = 0;
  int64_t page_count = 0;
  int64_t freelist_count = 0;
  int64_t main_file_bytes = 0;  // the DB file as it is on disk now
  int64_t wal_bytes = 0;        // the -wal file; 0 when absent
  // What the main file holds (it lags until a checkpoint).
  int64_t logical_bytes() const { return page_size * page_count; }
  // Pages holding data; what a vacuum would shrink the file to.
  int64_t used_bytes() const { return page_size * (page_count - freelist_count); }
  // What the limits are compared with: the DB (as large as it is on disk or
  // logically, whichever is more) plus its WAL.
  int64_t total_bytes() const {
    return (main_file_bytes > logical_bytes() ? main_file_bytes : logical_bytes()) + wal_bytes;
  }
};

Result<StorageSize> MeasureStorage(Database* db);

struct RetentionResult {
  // Rows deleted by this step, per table (process_data and audit_events
  // included); absent tables had none.
  std::map<std::string, int64_t> rows_deleted;
  int64_t rows_scanned = 0;
  int64_t pages_vacuumed = 0;
  StorageSize before;
  StorageSize after;
  bool run_started = false;   // this step began a new run
  bool run_finished = false;  // this step ended it (or nothing was to do)
  // The run ended without truncating the WAL: every try of the closing
  // checkpoint found it busy (after.wal_bytes is what is left).
  bool checkpoint_blocked = false;
  // Call Step() again soon (next loop turn): the run is not finished.
  bool more_work = false;
  // At the start of the current run the file was over max_size_bytes.
  bool size_cleanup = false;
  int64_t age_cutoff_ms = 0;   // rows older than this go (0: MonitorDays off)
  int64_t size_cutoff_ms = 0;  // the size cleanup's time horizon so far (0: none)
  // after.total_bytes() is over the hard limit (the smaller non-zero of
  // max_runtime_storage_bytes and absolute_max_storage_bytes).
  bool over_hard_limit = false;
  // Over the hard limit with no cleanup work left: the caller writes the
  // disabled marker (reason below) and stops recording.
  bool disable = false;
  std::string disable_reason;

  int64_t total_deleted() const {
    int64_t n = 0;
    for (const auto& [table, rows] : rows_deleted) n += rows;
    return n;
  }
};

class Retention {
 public:
  explicit Retention(RetentionPolicy policy);
  ~Retention();
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // Does one bounded step of the current run, starting a run when none is
  // in progress. With MonitorDays off and the file under maxSizeMB, a run
  // does nothing but measure (and check the hard limit). Requires the
  // connection to be outside any transaction (EventStore::Flush() first).
  // An error leaves the database consistent (the step's transaction rolls
  // back) and abandons the run; the next call starts a new one.
  Result<RetentionResult> Step(Database* db, int64_t now_ms);

  // A run is in progress (more_work was true).
  bool in_run() const { return phase_ != Phase::kIdle; }
  // True when the file is over maxSizeMB: worth starting a run now rather
  // than waiting for DatabaseCleanupIntervalMinutes.
  bool OverSizeLimit(const StorageSize& size) const;
  const RetentionPolicy& policy() const { return policy_; }

 private:
  enum class Phase { kIdle, kScan, kSize, kProcesses, kVacuum };
  struct Table {
    std::string name;
    bool has_rowid = true;
    bool has_process_id = false;
  };

  Status StartRun(Database* db, int64_t now_ms, const StorageSize& size, RetentionResult* out);
  Status ScanChunk(Database* db, int64_t* budget, RetentionResult* out);
  Status SizeRound(Database* db, int64_t* budget, RetentionResult* out);
  Status ProcessChunk(Database* db, int64_t* budget, RetentionResult* out);
  Status VacuumChunk(Database* db, RetentionResult* out);
  Status DeleteByTime(Database* db, const Table& table, int64_t cutoff_exclusive,
                      RetentionResult* out);
  void EndRun();

  RetentionPolicy policy_;
  // "DELETE FROM process_data WHERE process_id = ?1", prepared by Step for
  // its transaction; null outside it.
  Statement* delete_process_ = nullptr;
  Phase phase_ = Phase::kIdle;
  int64_t now_ms_ = 0;
  std::vector<Table> event_tables_;  // rowid tables with time
  std::vector<Table> keyed_tables_;  // audit_events and tables without rowid
  bool have_process_table_ = false;
  bool size_cleanup_ = false;
  int64_t target_used_bytes_ = 0;
  int64_t age_cutoff_ms_ = 0;   // 0: none
  int64_t size_cutoff_ms_ = 0;  // 0: none yet
  // Scan cursor: index into event_tables_ (then keyed tables, then
  // process_data) and the last rowid read in it.
  size_t scan_table_ = 0;
  int64_t scan_rowid_ = 0;
  int64_t size_process_cursor_ = 0;  // phase size
  int checkpoint_tries_ = 0;         // phase vacuum: closing checkpoints found busy
  // The process-row rule, learned by the scan (process_retention.h).
  ProcessRetention processes_;
};

}  // namespace recorder::store
