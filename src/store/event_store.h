// The event store: writes typed events into monitor.db (schema.h).
//
// Writes are batched: a transaction stays open across Consume calls and
// commits when it holds `batch_max_rows` rows or when `batch_write_delay_ms`
// (the manual's BatchWriteDelayMS) passed since it began, whichever comes
// first. Timing takes `now` as an argument (Add, Tick) so tests decide
// when a batch is due; Consume reads the injected clock.
//
// Idempotence: an audit event is stored once per (node, time, serial).
// Replaying a log twice, or overlapping logs, skips the audit events
// already present (counted as duplicates).
//
// Process identity: each exec makes a process_data row with its own
// process_id; later events of that pid (on that node) refer to it until
// the next exec of the pid, or until `process_expiration_ms` after its
// exit. An event whose pid has no known exec (the process started before
// recording, or was forked without exec) gets a placeholder row built
// from the event's subject, so every event has a process_id.
//
// One writer: the store owns the only write connection it uses. Not
// thread-safe; one thread calls it. Readers use their own connections
// (WAL lets them read while the store writes).
//
// Checkpoints: by default SQLite's automatic checkpoint runs inside the
// COMMIT that pushes the WAL past 1000 pages (writes pages back,
// fsyncs). With `background_checkpoint` the store turns that off and owns
// a WalCheckpointer (its own thread and connection, PASSIVE checkpoints
// that never block this writer). The store owns it, not its caller,
// because the store is what sees each commit's WAL size (its wal hook
// wakes the thread), what must do the fallback checkpoint on its own
// connection when the WAL passes `wal_hard_limit_frames` (the thread fell
// behind or could not start), and what must stop the thread before its
// own connection closes (the last close checkpoints and deletes the WAL).
// A checkpointer that cannot start leaves SQLite's automatic checkpoints
// on; recording never depends on it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "normalize/event_batch.h"
#include "normalize/typed_event.h"
#include "pipeline/event_sink.h"
#include "store/batched_insert.h"
#include "store/sqlite_db.h"
#include "store/string_interner.h"
#include "store/wal_checkpointer.h"
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
  // Bound on the pid -> process map; past it, exited entries go first,
  // then the least recently used.
  size_t max_tracked_processes = 32768;
  size_t string_cache_bytes = 8 << 20;
  // Milliseconds from any fixed origin; used by Consume() for the batch
  // delay. Default: CLOCK_MONOTONIC.
  std::function<int64_t()> clock;
  // Checkpoint from a background thread instead of inside COMMIT (see the
  // top of this file). Off by default: replay writes on its own thread
  // already and keeps SQLite's automatic checkpoints; the live recorder,
  // whose event loop does the commits, turns it on.
  bool background_checkpoint = false;
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
};

// How the WAL got checkpointed, for status output.
struct StoreCheckpointStats {
  bool background = false;           // the checkpointer thread is running
  WalCheckpointStats thread;         // its counters (start error in last_error)
  uint64_t writer_checkpoints = 0;   // hard-limit fallbacks on the writer connection
  uint64_t writer_frames = 0;        // log frames at those (mostly copied by the thread)
  double writer_longest_ms = 0;
  int64_t wal_frames = 0;            // frames in the WAL after the last commit
};

// What the store did, counted since Open (and per run, see RunStats).
struct StoreCounters {
  uint64_t process_starts = 0;
  uint64_t process_ends = 0;
  uint64_t file_events = 0;
  uint64_t network_events = 0;
  uint64_t security_events = 0;
  uint64_t module_events = 0;
  uint64_t image_events = 0;  // library loads (not audit events: never deduplicated)
  uint64_t failed_execs = 0;
  uint64_t placeholder_processes = 0;
  uint64_t duplicates = 0;  // audit events already in the database
  uint64_t commits = 0;
  uint64_t stored() const {
    return process_starts + process_ends + file_events + network_events + security_events +
           module_events + image_events + failed_execs;
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
  std::string error;  // why the run stopped early; empty when it did not
};

class EventStore : public EventSink {
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
  // Unix epoch. Per-run store counters restart from zero.
  Result<int64_t> BeginRun(std::string_view source, int64_t wall_ms);
  // Updates the current run's row with the source's counters plus the
  // store's own; `wall_ms` becomes its end_time. May be called
  // repeatedly (a live recorder does so periodically). Part of the
  // current batch: call Flush to make it durable now.
  Status RecordRunStats(const RunStats& stats, int64_t wall_ms);

  // Fills in the hashes of process rows of `exe` that were written with
  // hash_note "pending" (HashWorker completions; an empty sha256 with a
  // note such as "unreadable: ..." records why there is none). Only rows
  // written since this store opened are found; returns how many changed.
  // Part of the current batch, like Add.
  Result<int64_t> UpdateHashes(std::string_view exe, std::string_view sha256,
                               std::string_view md5, std::string_view note);

  // Process rows an earlier run left with hash_note "pending" (it stopped
  // before its hash worker finished): makes UpdateHashes fill them too,
  // and returns their distinct exe paths for the caller to hash. Looks at
  // the last `recent_rows` process rows only (a bounded scan at start;
  // pending rows are the last ones a run wrote).
  Result<std::vector<std::string>> AdoptPendingHashes(int64_t recent_rows = 100000);

  // Stops the background checkpointer (if any) after a Flush; the
  // destructor does so too. Later commits are checkpointed by SQLite's
  // close, or by the hard-limit fallback.
  void StopBackgroundCheckpoint();
  StoreCheckpointStats checkpoint_stats() const;

  // Process rows that wait for the commit at most (an exit in the same
  // batch completes its waiting row); past it they are written early.
  static constexpr size_t kMaxPendingProcesses = 4096;

  const StoreCounters& counters() const { return total_; }
  const StoreCounters& run_counters() const { return run_; }
  Database* database() { return db_.get(); }
  const std::string& path() const { return db_->path(); }

 private:
  struct ProcessEntry {
    int64_t process_id = 0;
    int64_t exe_id = 0;
    int64_t ended_ms = -1;  // event time of its exit, -1 while running
    int64_t last_seen_ms = 0;
    // Start of the process instance this row is (the enrich stage's key):
    // a successful exec's time, a seeded process's start; -1 unknown.
    int64_t start_ms = -1;
  };
  // (node, pid, instance start) -> process_id: how parent_process_id is
  // found from the enrich stage's (ppid, parent_start_ms).
  struct InstanceKey {
    int64_t node_id;
    int32_t pid;
    int64_t start_ms;
    bool operator==(const InstanceKey&) const = default;
    struct Hash {
      uint64_t operator()(const InstanceKey& k) const;
    };
  };
  struct Statements;

  EventStore(std::unique_ptr<Database> db, EventStoreOptions options);
  Status Prepare();
  Status BeginBatchIfNeeded(int64_t now_ms);
  // Writes the queued rows (batched_insert.h) and commits.
  Status CommitBatch();
  // ROLLBACK, and the queued rows go too.
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
  struct AuditKey;
  Status QueueNewKey(const AuditKey& key, SqlInt process_id);
  // Process rows are numbered by the store and wait in pending_processes_
  // until the commit (or kMaxPendingProcesses of them): most processes
  // exit within the same batch, and the exit then completes the waiting
  // row. An UPDATE of a written row costs more than its insert (the row
  // grows in place).
  static constexpr int kProcessColumns = 26;  // see process_rows in Prepare()
  static constexpr size_t kProcessIdColumn = 0, kExeColumn = 8, kEndTimeColumn = 6, kExitCodeColumn = 7,
                          kSha256Column = 22, kMd5Column = 23, kHashNoteColumn = 24;
  using ProcessRow = std::array<SqlInt, kProcessColumns>;
  // The waiting row of `process_id`, or nullptr (written, or not ours).
  ProcessRow* PendingProcess(int64_t process_id);
  Status WriteEvent(TypedEvent* event);
  // An image load has no audit key (serial 0): no dedup, its own table.
  Status WriteImageLoad(const TypedEvent& event, int64_t node_id);
  Result<int64_t> WriteProcessStart(const TypedEvent& event, int64_t node_id);
  // The process_id for the event's subject, creating a placeholder when
  // the pid has no live entry (or its exe changed: a reused pid).
  Result<int64_t> ResolveProcess(const TypedEvent& event, int64_t node_id);
  Result<int64_t> InsertProcess(const TypedEvent& event, int64_t node_id, bool placeholder);
  const ProcessEntry* LiveEntry(uint64_t key, int64_t time_ms);
  void Track(uint64_t key, const ProcessEntry& entry);
  void RememberInstance(int64_t node_id, int32_t pid, int64_t start_ms, int64_t process_id);
  // 0: unknown. Looks in the database (one primary-key seek) on a miss.
  Result<int64_t> FindInstance(int64_t node_id, int32_t pid, int64_t start_ms);
  // The parent's process_id for a new process row, 0 when unknown.
  Result<int64_t> ParentProcessId(const TypedEvent& event, int64_t node_id);
  void Count(uint64_t StoreCounters::*field) {
    ++(total_.*field);
    ++(run_.*field);
  }
  Status Fail(std::string_view what, const Status& status) const;
  // With background_checkpoint: starts the thread, turns SQLite's own
  // automatic checkpoint off and hooks the commits' WAL size.
  void StartBackgroundCheckpoint();
  // After a commit: tells the checkpointer the WAL size, or checkpoints
  // on this connection when it passed the hard limit.
  void AfterCommitCheckpoint();
  static int OnWalCommit(void* store, sqlite3* db, const char* name, int frames);

  std::unique_ptr<Database> db_;
  EventStoreOptions options_;
  std::unique_ptr<Statements> sql_;
  std::unique_ptr<StringInterner> interner_;
  // (node_id << 32 | pid) -> the process that pid is now.
  std::unordered_map<uint64_t, ProcessEntry> processes_;
  std::unordered_map<InstanceKey, int64_t, InstanceKey::Hash> instances_;
  std::deque<InstanceKey> instance_order_;  // insertion order, for the bound
  // Instances looked up in the database and not found, in this
  // transaction (see FindInstance); a bound, not a cache to fill.
  std::unordered_set<InstanceKey, InstanceKey::Hash> missing_instances_;
  static constexpr size_t kMaxMissingInstances = 4096;
  // exe string id -> first process_id written with hash_note "pending".
  std::unordered_map<int64_t, int64_t> pending_hashes_;
  // Entries UpdateHashes took out of pending_hashes_ in this transaction:
  // a ROLLBACK puts its rows back to "pending", and them back in the map.
  std::vector<std::pair<int64_t, int64_t>> hashes_updated_in_batch_;
  // Rows next_process_id_ - size() .. next_process_id_ - 1, in order.
  std::vector<ProcessRow> pending_processes_;
  int64_t next_process_id_ = 1;  // read when the write transaction begins
  int64_t batch_first_process_id_ = 1;  // its value then: ids from here die in a ROLLBACK
  bool in_batch_ = false;
  int64_t batch_started_ms_ = 0;
  size_t batch_rows_ = 0;
  // The previous event's audit key and whether it was new: the typed
  // events of one audit event arrive together and share one decision.
  struct AuditKey {
    int64_t time_ms = -1;
    uint64_t serial = 0;
    int64_t node_id = -1;
    bool operator==(const AuditKey&) const = default;
  };
  AuditKey last_key_;
  bool last_key_new_ = false;
  // The largest (time, serial) in audit_events, read when the write
  // transaction begins and raised by every key this store adds in it (no
  // other writer can add one meanwhile). A key above it cannot be stored
  // yet, so an exec's key needs no lookup first: one SELECT per exec
  // saved for time-ordered input.
  // Meaningful only while in_batch_; {INT64_MAX, ...} when unknown.
  int64_t max_key_time_ = INT64_MAX;
  int64_t max_key_serial_ = INT64_MAX;
  bool KeyAboveStored(const AuditKey& key) const;
  void NoteKeyStored(const AuditKey& key);
  std::string last_node_;
  int64_t last_node_id_ = 0;
  int64_t run_id_ = 0;
  StoreCounters total_;
  StoreCounters run_;
  // Declared after db_: destroyed (stopped) before the connection closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::string checkpointer_error_;  // why it did not start
  int64_t wal_frames_ = 0;          // from the wal hook, per commit
  int64_t last_fallback_frames_ = 0;
  uint64_t writer_checkpoints_ = 0;
  uint64_t writer_frames_ = 0;
  double writer_longest_ms_ = 0;
};

}  // namespace recorder::store
