// The event store: writes typed events into monitor.db (schema.h). The
// one writer of the recorder's database; what it is made of:
//
//   - this class: the batch/transaction writer. Events become rows in
//     write transactions that stay open across Consume calls and commit
//     when they hold `batch_max_rows` rows or when `batch_write_delay_ms`
//     (the manual's BatchWriteDelayMS) passed since they began, whichever
//     comes first. Timing takes `now` as an argument (Add, Tick) so tests
//     decide when a batch is due; Consume reads the injected clock. All
//     state of the open transaction is one WriteTransaction
//     (write_transaction.h): a rollback drops it.
//   - ProcessRows (enrich/process_rows.h): which process row each event
//     belongs to (process identity; see enrich/process_identity.h).
//   - HashBackfill (hash_backfill.h): hashes that arrive after their rows.
//   - RunLog (run_log.h): one row per ingest run with its loss counters.
//   - CheckpointPolicy (checkpoint_policy.h): who checkpoints the WAL.
//
// Idempotence: an audit event is stored once per (node, time, serial).
// Replaying a log twice, or overlapping logs, skips the audit events
// already present (counted as duplicates).
//
// One writer: the store owns the only write connection it uses. Not
// thread-safe; one thread calls it. Readers use their own connections
// (WAL lets them read while the store writes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/process_rows.h"
#include "normalize/event_batch.h"
#include "normalize/event_sink.h"
#include "normalize/typed_event.h"
#include "store/checkpoint_policy.h"
#include "store/hash_backfill.h"
#include "store/run_log.h"
#include "store/sqlite_db.h"
#include "store/string_interner.h"
#include "store/wal_checkpointer.h"
#include "store/write_transaction.h"
#include "util/status.h"

namespace recorder::store {

// BatchWriteDelayMS in the manual: default 1000, bounds 0..5000.
inline constexpr int64_t kDefaultBatchWriteDelayMs = 1000;
inline constexpr int64_t kMaxBatchWriteDelayMs = 5000;
// ProcessExpirationSeconds in the manual: default 180.
inline constexpr int64_t kDefaultProcessExpirationSeconds = 180;

struct EventStoreOptions {
  int64_t batch_write_delay_ms = kDefaultBatchWriteDelayMs;  // clamped to 0..5000
  size_t batch_max_rows = 20000;
  int64_t process_expiration_ms = kDefaultProcessExpirationSeconds * 1000;
  // ProcessRowsOptions::max_tracked: pids whose row the store keeps in
  // memory; past it, exited ones go first, then the least recently seen.
  size_t max_tracked_processes = 32768;
  size_t string_cache_bytes = 8 << 20;
  // Milliseconds from any fixed origin; used by Consume() for the batch
  // delay. Default: CLOCK_MONOTONIC.
  std::function<int64_t()> clock;
  // Checkpoint from a background thread instead of inside COMMIT
  // (checkpoint_policy.h). Off by default: replay writes on its own thread
  // already and keeps SQLite's automatic checkpoints; the live recorder,
  // whose event loop does the commits, turns it on.
  bool background_checkpoint = false;
  // SQLiteChunkSizeMB in the manual, in bytes: the database file grows
  // (and shrinks) in steps of this size. 0: SQLite's page-by-page growth.
  // Also given to the checkpointer's connection.
  int64_t chunk_size_bytes = 0;
  WalCheckpointerOptions checkpointer;
  // With background_checkpoint: a commit that leaves at least this many
  // frames in the WAL makes the writer run a PASSIVE checkpoint itself
  // (at most once per further `checkpointer.wal_frames_threshold` frames
  // while a reader pins the log). ~16 MB of WAL at 4 KiB pages.
  //
  // Why it is needed even when the thread keeps up: SQLite restarts the
  // log (writes from its start again) only when a write transaction
  // begins while every frame is copied. Under sustained load this store
  // begins its next batch right after a commit, before the thread's
  // checkpoint of that commit ends, so the log only grows. Here the
  // writer copies just the frames the thread has not (about one batch)
  // between its transactions, and the next batch restarts the log.
  int64_t wal_hard_limit_frames = 4000;
  // The -wal file's size left on disk when SQLite restarts the log
  // (PRAGMA journal_size_limit); -1: SQLite's default, no limit. Without
  // one the file keeps the size of its largest stretch (a cleanup's
  // deletions, a burst the checkpointer fell behind on) until a TRUNCATE
  // checkpoint, and that size counts toward maxSizeMB all the while.
  int64_t wal_file_limit_bytes = -1;
  // RecordSignalMatches: signal_matches rows kept; past it the oldest are
  // removed (counted in runs.signal_matches_removed). 0: none stored.
  int64_t signal_match_limit = 5;
};

// A loaded detection rule as signal_rules stores it (RecordSignalDefinitions).
struct SignalRuleRow {
  std::string rule_id;
  std::string title;
  std::string level;
  std::string author;
  std::string status;
  std::string description;
  std::string logsource;
  std::string file;
  std::string condition;
};

// A match a hunt found in stored rows (`recorder signals hunt --store`).
struct HuntMatchRow {
  int64_t time = 0;
  std::string rule_id;
  std::string title;
  std::string level;
  std::string author;
  std::string event_table;  // the view: processes, file_events, network_events
  int64_t event_row = 0;
  int64_t process_id = 0;
  std::string selection;
};

struct HuntStoreCounts {
  int64_t stored = 0;
  int64_t already = 0;  // the same rule on the same row was stored before
  int64_t removed = 0;  // the oldest matches removed past RecordSignalMatches
};

class EventStore : public EventSink, private enrich::ProcessRowSource {
 public:
  // Opens (creating when missing) the database at `path`, migrating its
  // schema; WAL mode, synchronous=NORMAL. Errors name the file.
  static Result<std::unique_ptr<EventStore>> Open(const std::string& path,
                                                  EventStoreOptions options = {});
  // Commits what is pending (errors are lost here: call Flush first).
  ~EventStore() override;

  // EventSink: Add(events, options.clock()).
  Status Consume(EventBatch* events) override;
  // Commits everything written so far.
  Status Flush() override;

  // Writes `events` (moving from them); commits when the batch is full or
  // `now_ms` is batch_write_delay_ms past the batch's first write.
  Status Add(EventBatch* events, int64_t now_ms);
  // Commits a pending batch whose delay passed by `now_ms`. Live sources
  // call this on their timer so quiet periods still reach the disk.
  Status Tick(int64_t now_ms);

  // Starts an ingest run (a row in `runs`); `wall_ms` is ms since the
  // Unix epoch. Per-run store counters restart from `carried` (zero, or
  // what a run that goes on in this fresh file counted in its old one).
  Result<int64_t> BeginRun(std::string_view source, int64_t wall_ms,
                           const StoreCounters& carried = StoreCounters());
  // Updates the current run's row with the source's counters plus the
  // store's own; `wall_ms` becomes its end_time. May be called
  // repeatedly (a live recorder does so periodically). Part of the
  // current batch: call Flush to make it durable now.
  Status RecordRunStats(const RunStats& stats, int64_t wall_ms);

  // Replaces the stored rules (signal_rules) with `rules`, loaded at
  // `wall_ms`. Part of the current batch, like Add.
  Status StoreSignalRules(const std::vector<SignalRuleRow>& rules, int64_t wall_ms);
  // Adds `rows` to signal_matches with hunt_time `hunt_ms`, in order,
  // leaving out those whose rule already matched the same row (a hunt
  // run twice stores its matches once), and keeping at most
  // RecordSignalMatches rows as the signal stage does. Not part of a run:
  // the runs' counters do not change. Part of the current batch, like Add.
  Result<HuntStoreCounts> StoreHuntMatches(const std::vector<HuntMatchRow>& rows, int64_t hunt_ms);
  // RecordSignalMatches changed by a reload; applies from the next match.
  void set_signal_match_limit(int64_t limit) { options_.signal_match_limit = limit; }

  // Fills in the hashes of process rows of `exe` that were written with
  // hash_note "pending" (HashWorker completions; an empty sha256 with a
  // note such as "unreadable: ..." records why there is none). Only rows
  // written since this store opened are found; returns how many changed.
  // Part of the current batch, like Add.
  Result<int64_t> UpdateHashes(std::string_view exe, std::string_view sha256, std::string_view md5,
                               std::string_view note);

  // Process rows an earlier run left with hash_note "pending" (it stopped
  // before its hash worker finished): makes UpdateHashes fill them too,
  // and returns their distinct exe paths for the caller to hash. Looks at
  // the last `recent_rows` process rows only (a bounded scan at start;
  // pending rows are the last ones a run wrote).
  Result<std::vector<std::string>> AdoptPendingHashes(int64_t recent_rows = 100000);

  // Stops the background checkpointer (if any) after a Flush; the
  // destructor does so too. Later commits are checkpointed by SQLite's
  // close, or by the hard-limit fallback.
  void StopBackgroundCheckpoint() { checkpoints_.Stop(); }
  // For a commit made on database() outside the store's batches (the
  // retention steps): applies the WAL bound of the store's own commits
  // (EventStoreOptions::wal_hard_limit_frames) to it too. A cleanup's
  // deletions and vacuum touch every index of the rows they remove, so
  // without it their frames pile up in the -wal between the checkpoint
  // thread's runs and push the file past the hard size limit.
  void CheckpointAfterCommit() { checkpoints_.AfterCommit(); }
  StoreCheckpointStats checkpoint_stats() const { return checkpoints_.stats(); }

  // Process rows that wait for the commit at most (an exit in the same
  // batch completes its waiting row); past it they are written early.
  static constexpr size_t kMaxPendingProcesses = WriteTransaction::kMaxWaitingProcesses;

  // Events given to Add that will never be stored because a write failed:
  // those of a transaction that rolled back, and the rest of the batch
  // after the failure. Since Open. The store stays usable after such a
  // failure (a full disk, kNoSpace): the next Add begins a new transaction.
  uint64_t events_lost() const { return events_lost_; }

  const StoreCounters& counters() const { return runs_->total(); }
  const StoreCounters& run_counters() const { return runs_->run(); }
  Database* database() { return db_.get(); }
  const std::string& path() const { return db_->path(); }

 private:
  struct Statements;

  EventStore(std::unique_ptr<Database> db, EventStoreOptions options);
  Status Prepare();
  // Opens a write transaction (txn_) unless one is open.
  Status BeginBatchIfNeeded(int64_t now_ms);
  // Writes the queued rows (batched_insert.h) and commits.
  Status CommitBatch();
  // ROLLBACK: the transaction's state and its queued rows go.
  void RollBack();
  // Before anything reads a table with queued rows.
  Status FlushAuditKeys();
  Status FlushProcesses();
  Status FlushRows();
  // Hands the waiting process rows to process_rows (which writes full
  // statements as they fill).
  Status QueueProcesses();
  // A key known to be new (above every stored one), written with the
  // queued rows; process_id is the exec's row or NULL.
  Status QueueNewKey(const AuditKey& key, SqlInt process_id);

  // Writing one event (event_rows.cc).
  Status WriteEvent(TypedEvent* event);
  // An image load has no audit key (serial 0): no dedup, its own table.
  Status WriteImageLoad(const TypedEvent& event, int64_t node_id);
  // A DNS query: like an image load; pid 0 (process unknown) gets no row.
  Status WriteDns(const TypedEvent& event, int64_t node_id);
  Result<int64_t> WriteProcessStart(const TypedEvent& event, int64_t node_id);
  // The rows of an event of a process already resolved (all but process
  // starts, image loads and DNS queries).
  Status WriteEventRows(TypedEvent* event, int64_t process_id, int64_t node_id);

  // Windows (Sysmon) records (windows_rows.cc): stored once per (node,
  // time, EventRecordID) like audit events; processes are found by
  // ProcessGuid, never by pid.
  Status WriteWindowsEvent(TypedEvent* event, int64_t node_id);
  Result<int64_t> WriteWindowsStart(const TypedEvent& event, int64_t node_id);
  // The row of ProcessGuid `guid` on the node, 0 when there is none.
  Result<int64_t> WindowsProcessOf(int64_t node_id, const std::string& guid);
  // A new process row for a Windows process (a placeholder when `start`
  // is null), registered under `guid`.
  Result<int64_t> InsertWindowsProcess(int64_t node_id, const std::string& guid, int32_t pid,
                                       int32_t ppid, int64_t parent_id, std::string_view exe,
                                       std::string_view command_line, const TypedEvent* start);
  Status WriteRegistry(const TypedEvent& event, int64_t process_id);
  Status WriteSysmonRecord(const TypedEvent& event, int64_t node_id, int64_t process_id);
  // The process_id for the event's subject (ProcessRows), writing a
  // placeholder row when it has none.
  Result<int64_t> ResolveProcess(const TypedEvent& event, int64_t node_id);
  Result<int64_t> InsertProcess(const TypedEvent& event, int64_t node_id, bool placeholder);
  // The event's TypedEvent::signals as signal_matches rows pointing at
  // its row: `table` is the view's name, `row` the id behind it
  // (signal_rows.cc). `batch` is the table's batched insert, flushed
  // first to learn the row's id; null when `row` is known.
  Status WriteSignalMatches(const TypedEvent& event, const char* table, BatchedInsert* batch,
                            int64_t row, int64_t process_id);
  // ProcessRowSource.
  Result<int64_t> ExeId(std::string_view exe) override { return interner_->Intern(exe); }
  // An exec stored by an earlier run or transaction (one primary-key
  // seek); misses are remembered for the transaction.
  Result<int64_t> StoredInstance(const enrich::InstanceKey& instance) override;
  Status Fail(std::string_view what, const Status& status) const {
    return StoreError(*db_, what, status);
  }

  std::unique_ptr<Database> db_;
  EventStoreOptions options_;
  std::unique_ptr<Statements> sql_;
  std::unique_ptr<StringInterner> interner_;
  enrich::ProcessRows processes_;
  std::unique_ptr<HashBackfill> hashes_;
  std::unique_ptr<RunLog> runs_;
  // The open write transaction; empty between transactions.
  std::optional<WriteTransaction> txn_;
  uint32_t transactions_ = 0;  // begun so far: the next one's number
  uint64_t events_lost_ = 0;   // events_lost()
  // Declared after db_: destroyed (its thread stopped) before the
  // connection closes.
  CheckpointPolicy checkpoints_;
};

}  // namespace recorder::store
