#include "store/event_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "store/event_store_statements.h"
#include "store/schema.h"
#include "util/clock.h"

namespace recorder::store {

namespace {

// A clearer reason than SQLite's "unable to open database file".
std::string OpenHint(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return "";
  struct stat st {};
  if (stat(parent.c_str(), &st) != 0)
    return fmt::format(" (directory {} does not exist)", parent.string());
  if (!S_ISDIR(st.st_mode)) return fmt::format(" ({} is not a directory)", parent.string());
  return "";
}

enrich::ProcessRowsOptions RowsOptions(const EventStoreOptions& options) {
  enrich::ProcessRowsOptions rows;
  rows.expiration_ms = options.process_expiration_ms;
  rows.max_tracked = options.max_tracked_processes;
  return rows;
}

}  // namespace

EventStore::EventStore(std::unique_ptr<Database> db, EventStoreOptions options)
    : db_(std::move(db)),
      options_(std::move(options)),
      sql_(std::make_unique<Statements>()),
      processes_(RowsOptions(options_)),
      checkpoints_(db_.get(), options_.checkpointer, options_.wal_hard_limit_frames) {
  options_.batch_write_delay_ms =
      std::clamp<int64_t>(options_.batch_write_delay_ms, 0, kMaxBatchWriteDelayMs);
  if (options_.batch_max_rows == 0) options_.batch_max_rows = 1;
  if (!options_.clock) options_.clock = MonotonicMs;
}

EventStore::~EventStore() {
  (void)Flush();
  StopBackgroundCheckpoint();
}

Result<std::unique_ptr<EventStore>> EventStore::Open(const std::string& path,
                                                     EventStoreOptions options) {
  // NOMUTEX: one thread at a time uses the store (replay hands it to its
  // writer thread), so SQLite's per-call connection mutex is pure cost.
  Result<std::unique_ptr<Database>> db =
      Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db.ok()) return Status::Error(db.status().code(), db.status().message() + OpenHint(path));
  Database* raw = db->get();
  // A reader's checkpoint or a second recorder may hold the lock briefly.
  sqlite3_busy_timeout(raw->handle(), 5000);
  if (options.chunk_size_bytes > 0) {
    Status chunk = raw->SetChunkSize(options.chunk_size_bytes);
    if (!chunk.ok()) return chunk;
    options.checkpointer.chunk_size_bytes = options.chunk_size_bytes;
  }
  // WAL before the schema, so that creating it is one WAL commit rather
  // than rollback-journal transactions with their fsyncs. Checked first: a
  // file that is not ours must be refused before anything, the journal
  // mode too, changes.
  Result<int64_t> version = CheckSchema(raw);
  if (!version.ok())
    return Status::Error(version.status().code(), version.status().message() + OpenHint(path));
  Result<std::unique_ptr<Statement>> mode = raw->Prepare("PRAGMA journal_mode=WAL");
  if (!mode.ok())
    return Status::Errorf("{}: cannot set WAL mode: {}", path, mode.status().message());
  Result<bool> row = (*mode)->Step();
  if (!row.ok() || !*row || (*mode)->ColumnText(0) != "wal")
    return Status::Errorf("{}: cannot set WAL mode: {}", path, raw->LastError());
  mode->reset();
  Status status = raw->Exec("PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY");
  if (status.ok() && options.wal_file_limit_bytes >= 0)
    status = raw->Exec(fmt::format("PRAGMA journal_size_limit={}", options.wal_file_limit_bytes));
  if (!status.ok()) return Status::Errorf("{}: {}", path, status.message());
  status = PrepareSchema(raw, *version);
  if (!status.ok()) return Status::Error(status.message() + OpenHint(path));

  std::unique_ptr<EventStore> store(new EventStore(std::move(db).value(), std::move(options)));
  status = store->Prepare();
  if (!status.ok()) return status;
  if (store->options_.background_checkpoint) store->checkpoints_.StartBackground();
  return store;
}

Status EventStore::Prepare() {
  Status status = sql_->Prepare(db_.get());
  if (!status.ok()) return Fail("prepare", status);
  Result<std::unique_ptr<StringInterner>> interner =
      StringInterner::Create(db_.get(), options_.string_cache_bytes);
  if (!interner.ok()) return Fail("prepare", interner.status());
  interner_ = std::move(interner).value();
  Result<std::unique_ptr<HashBackfill>> hashes = HashBackfill::Create(db_.get());
  if (!hashes.ok()) return hashes.status();
  hashes_ = std::move(hashes).value();
  Result<std::unique_ptr<RunLog>> runs = RunLog::Create(db_.get());
  if (!runs.ok()) return runs.status();
  runs_ = std::move(runs).value();
  return Status::Ok();
}

Status EventStore::BeginBatchIfNeeded(int64_t now_ms) {
  if (txn_) return Status::Ok();
  Status status = db_->Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return Fail("begin a write transaction", status);
  // Process rows are numbered from what is stored now: another writer may
  // have added some since this store's last transaction.
  Statement* next_id = sql_->next_process_id.get();
  Result<bool> id_row = next_id->Step();
  const int64_t first_process_id = id_row.ok() && *id_row ? next_id->ColumnInt(0) : 0;
  next_id->Reset();
  if (first_process_id == 0) {
    // Nothing of this transaction was handed out yet: only end it.
    (void)db_->Exec("ROLLBACK");
    return Fail("begin a write transaction",
                id_row.ok() ? Status::Error("no row") : id_row.status());
  }
  txn_.emplace(++transactions_, now_ms, first_process_id);
  processes_.BeginTransaction(txn_->number);
  // Any failure leaves the bound at "unknown": every exec key is looked up.
  Statement* max_key = sql_->select_max_key.get();
  Result<bool> row = max_key->Step();
  if (row.ok()) {
    txn_->max_key_time = *row ? max_key->ColumnInt(0) : INT64_MIN;
    txn_->max_key_serial = *row ? max_key->ColumnInt(1) : INT64_MIN;
  }
  max_key->Reset();
  return Status::Ok();
}

Status EventStore::FlushAuditKeys() { return sql_->new_audit_keys->Flush(); }

Status EventStore::QueueProcesses() {
  if (!txn_) return Status::Ok();
  Status status;
  for (const ProcessRow& row : txn_->waiting_processes) {
    status = sql_->process_rows->Add(row);
    if (!status.ok()) break;
  }
  txn_->waiting_processes.clear();
  return status;
}

Status EventStore::FlushProcesses() {
  Status status = QueueProcesses();
  return status.ok() ? sql_->process_rows->Flush() : status;
}

Status EventStore::FlushRows() {
  Status status = QueueProcesses();
  for (BatchedInsert* rows : sql_->batched()) {
    if (!status.ok()) break;
    status = rows->Flush();
  }
  return status;
}

Status EventStore::QueueNewKey(const AuditKey& key, SqlInt process_id) {
  Status status = sql_->new_audit_keys->Add(
      {Int(key.time_ms), Int(static_cast<int64_t>(key.serial)), Int(key.node_id), process_id});
  if (!status.ok()) return Fail("write", status);
  txn_->NoteKeyStored(key);
  ++txn_->rows;
  return Status::Ok();
}

void EventStore::RollBack() {
  (void)db_->Exec("ROLLBACK");
  // Every id handed out since BEGIN is gone and will be handed out again:
  // what the transaction taught the process rows is void, and the string
  // cache starts over (its ids of this transaction cannot be told apart).
  if (txn_) {
    processes_.AbandonTransaction(txn_->number);
    events_lost_ += txn_->events;
  }
  txn_.reset();
  if (interner_) interner_->ForgetAll();
  for (BatchedInsert* rows : sql_->batched()) rows->Discard();
}

Status EventStore::CommitBatch() {
  if (!txn_) return Status::Ok();
  Status status = FlushRows();
  if (!status.ok()) {
    RollBack();
    return Fail("write", status);
  }
  status = db_->Exec("COMMIT");
  if (!status.ok()) {
    RollBack();
    return Fail("commit", status);
  }
  hashes_->Commit(*txn_);
  txn_.reset();
  runs_->Count(&StoreCounters::commits);
  checkpoints_.AfterCommit();
  return Status::Ok();
}

Status EventStore::Consume(EventBatch* events) { return Add(events, options_.clock()); }

Status EventStore::Add(EventBatch* events, int64_t now_ms) {
  const size_t count = events->size();
  for (size_t i = 0; i < count; ++i) {
    Status status = BeginBatchIfNeeded(now_ms);
    if (!status.ok()) {
      events_lost_ += count - i;
      return status;
    }
    ++txn_->events;
    status = WriteEvent(&(*events)[i]);
    if (!status.ok()) {
      // Roll the batch back rather than leave an audit key stored without
      // its event: a later replay can then store it.
      RollBack();
      events_lost_ += count - i - 1;
      return status;
    }
    if (txn_->rows >= options_.batch_max_rows) {
      status = CommitBatch();
      if (!status.ok()) {
        events_lost_ += count - i - 1;
        return status;
      }
    }
  }
  return Tick(now_ms);
}

Status EventStore::Tick(int64_t now_ms) {
  if (txn_ && now_ms - txn_->started_ms >= options_.batch_write_delay_ms) return CommitBatch();
  return Status::Ok();
}

Status EventStore::Flush() { return CommitBatch(); }

Result<int64_t> EventStore::UpdateHashes(std::string_view exe, std::string_view sha256,
                                         std::string_view md5, std::string_view note) {
  Result<int64_t> exe_id = interner_->Intern(exe);
  if (!exe_id.ok()) return Fail("update hashes", exe_id.status());
  if (hashes_->FirstPending(txn_ ? &*txn_ : nullptr, *exe_id) == 0) return int64_t{0};
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  HashIds ids;
  int64_t* out[] = {&ids.sha256, &ids.md5, &ids.note, &ids.pending};
  std::string_view values[] = {sha256, md5, note, "pending"};
  for (size_t i = 0; i < std::size(values); ++i) {
    Result<int64_t> id = interner_->Intern(values[i]);
    if (!id.ok()) return Fail("update hashes", id.status());
    *out[i] = *id;
  }
  return hashes_->Fill(&*txn_, *exe_id, ids);
}

Result<std::vector<std::string>> EventStore::AdoptPendingHashes(int64_t recent_rows) {
  return hashes_->Adopt(txn_ ? &*txn_ : nullptr, recent_rows);
}

Result<int64_t> EventStore::BeginRun(std::string_view source, int64_t wall_ms,
                                     const StoreCounters& carried) {
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  return runs_->Begin(source, wall_ms, carried);
}

Status EventStore::RecordRunStats(const RunStats& stats, int64_t wall_ms) {
  // The same check RunLog makes, before a transaction is opened for nothing.
  if (runs_->run_id() == 0)
    return Status::Errorf("{}: RecordRunStats before BeginRun", db_->path());
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  return runs_->Record(stats, wall_ms);
}

}  // namespace recorder::store
