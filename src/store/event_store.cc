#include "store/event_store.h"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <filesystem>

#include "store/batched_insert.h"
#include "store/schema.h"

namespace recorder::store {

namespace {

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Audit's "unset" ids, our 0 "no string" ids and unknown ports are
// stored as NULL: as values for batched rows, and bound to statements.
SqlInt IdValue(int64_t id) { return id == kUnsetId ? NullInt() : Int(id); }
SqlInt StringIdValue(int64_t id) { return id == 0 ? NullInt() : Int(id); }
SqlInt PortValue(int32_t port) { return port < 0 ? NullInt() : Int(port); }
// An enum's stored code (normalize/event_codes.h); NULL for its "not known".
template <typename E>
SqlInt CodeValue(E value, E unknown) {
  return value == unknown ? NullInt() : Int(static_cast<int64_t>(value));
}
void BindId(Statement* stmt, int index, int64_t id) { stmt->BindOptionalInt(index, IdValue(id)); }
void BindStringId(Statement* stmt, int index, int64_t id) {
  stmt->BindOptionalInt(index, StringIdValue(id));
}

uint64_t ProcessKey(int64_t node_id, int32_t pid) {
  return (static_cast<uint64_t>(node_id) << 32) | static_cast<uint32_t>(pid);
}

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

}  // namespace

struct EventStore::Statements {
  std::unique_ptr<Statement> insert_audit;          // INSERT OR IGNORE: the dedup check
  std::unique_ptr<Statement> select_audit_process;  // a stored exec's process_id
  std::unique_ptr<Statement> set_audit_process;
  std::unique_ptr<Statement> select_max_key;  // the largest (time, serial) stored
  std::unique_ptr<Statement> next_process_id;
  std::unique_ptr<Statement> end_process;
  // Appends that nothing reads back before the commit go in batches
  // (batched_insert.h): audit keys known to be new, and the event rows.
  std::unique_ptr<BatchedInsert> new_audit_keys;
  std::unique_ptr<BatchedInsert> process_rows;  // fed from pending_processes_
  std::unique_ptr<BatchedInsert> file_rows;
  std::unique_ptr<BatchedInsert> network_rows;
  std::unique_ptr<BatchedInsert> security_rows;
  std::unique_ptr<BatchedInsert> module_rows;
  std::unique_ptr<BatchedInsert> failed_exec_rows;
  // Each batched insert with its table: Prepare creates them from this
  // list, and every flush and discard goes through batched(), so a table
  // added here cannot be left out of either.
  struct Batched {
    std::unique_ptr<BatchedInsert> Statements::*insert;
    const char* table_and_columns;
  };
  static constexpr size_t kBatchedCount = 7;
  static const std::array<Batched, kBatchedCount> kBatched;
  std::array<BatchedInsert*, kBatchedCount> batched() const {
    std::array<BatchedInsert*, kBatchedCount> all{};
    for (size_t i = 0; i < all.size(); ++i) all[i] = (this->*kBatched[i].insert).get();
    return all;
  }
  std::unique_ptr<Statement> insert_image;
  std::unique_ptr<Statement> insert_run;
  std::unique_ptr<Statement> update_run;
  std::unique_ptr<Statement> update_hashes;
  std::unique_ptr<Statement> select_instance;
};

const std::array<EventStore::Statements::Batched, EventStore::Statements::kBatchedCount>
    EventStore::Statements::kBatched = {{
    {&Statements::new_audit_keys, "audit_events(time, serial, node_id, process_id)"},
    // The order of ProcessRow (kExeColumn and the others in the header).
    {&Statements::process_rows,
     "process_data(process_id, node_id, pid, ppid, parent_process_id, start_time, end_time, "
     "exit_code, exe_id, comm_id, command_id, cwd_id, uid, euid, auid, ses, tty_id, success, "
     "flags, user_id, euser_id, login_user_id, sha256_id, md5_id, hash_note_id, "
     "path_search_attempts)"},
    {&Statements::file_rows,
     "file_data(time, process_id, operation, path_id, new_path_id, success, uid, mode, "
     "owner_uid, owner_gid, user_id)"},
    {&Statements::network_rows,
     "network_data(time, process_id, direction, protocol, family, local_address_id, "
     "local_port, remote_address_id, remote_port, success, uid, in_progress, user_id)"},
    {&Statements::security_rows,
     "security_data(time, process_id, kind, record_type, user_id, target_user_id, "
     "result, terminal_id, address_id, hostname_id, detail_id, success, uid)"},
    {&Statements::module_rows,
     "module_data(time, process_id, operation, module_id, success, uid, user_id)"},
    {&Statements::failed_exec_rows,
     "failed_exec_data(time, process_id, path_id, errno, cwd_id, uid, user_id)"},
}};

EventStore::EventStore(std::unique_ptr<Database> db, EventStoreOptions options)
    : db_(std::move(db)), options_(std::move(options)), sql_(std::make_unique<Statements>()) {
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
  // writer thread), so SQLite's per-call connection mutex is pure cost
  // (a visible share of a replay's writer thread in perf).
  Result<std::unique_ptr<Database>> db =
      Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db.ok()) return Status::Error(db.status().message() + OpenHint(path));
  Database* raw = db->get();
  // A reader's checkpoint or a second recorder may hold the lock briefly.
  sqlite3_busy_timeout(raw->handle(), 5000);
  // WAL before the schema, so that creating it is one WAL commit rather
  // than rollback-journal transactions with their fsyncs (at every fresh
  // database). Checked first: a file that is not ours must be refused
  // before anything, the journal mode too, changes.
  Result<int64_t> version = CheckSchema(raw);
  if (!version.ok()) return Status::Error(version.status().message() + OpenHint(path));
  Result<std::unique_ptr<Statement>> mode = raw->Prepare("PRAGMA journal_mode=WAL");
  if (!mode.ok())
    return Status::Errorf("{}: cannot set WAL mode: {}", path, mode.status().message());
  Result<bool> row = (*mode)->Step();
  if (!row.ok() || !*row || (*mode)->ColumnText(0) != "wal")
    return Status::Errorf("{}: cannot set WAL mode: {}", path, raw->LastError());
  mode->reset();
  Status status = raw->Exec("PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY");
  if (!status.ok()) return Status::Errorf("{}: {}", path, status.message());
  status = PrepareSchema(raw, *version);
  if (!status.ok()) return Status::Error(status.message() + OpenHint(path));

  std::unique_ptr<EventStore> store(new EventStore(std::move(db).value(), std::move(options)));
  status = store->Prepare();
  if (!status.ok()) return status;
  if (store->options_.background_checkpoint) store->StartBackgroundCheckpoint();
  return store;
}

void EventStore::StartBackgroundCheckpoint() {
  auto checkpointer = std::make_unique<WalCheckpointer>(db_->path(), options_.checkpointer);
  Status started = checkpointer->Start();
  if (!started.ok()) {
    // SQLite's automatic checkpoints stay on: slower commits, bounded WAL.
    checkpointer_error_ = started.message();
    return;
  }
  // The pragma resets the wal hook (auto-checkpoint is itself a wal hook),
  // so it goes first.
  Status off = db_->Exec("PRAGMA wal_autocheckpoint=0");
  if (!off.ok()) {
    checkpointer_error_ = fmt::format("wal_autocheckpoint=0: {}", off.message());
    return;  // the checkpointer stops as it goes out of scope
  }
  sqlite3_wal_hook(db_->handle(), &EventStore::OnWalCommit, this);
  checkpointer_ = std::move(checkpointer);
}

int EventStore::OnWalCommit(void* store, sqlite3* /*db*/, const char* /*name*/, int frames) {
  static_cast<EventStore*>(store)->wal_frames_ = frames;
  return SQLITE_OK;
}

void EventStore::AfterCommitCheckpoint() {
  // Without a running checkpoint thread SQLite's own auto-checkpoint is on.
  if (!checkpointer_) return;
  checkpointer_->NoteWalFrames(wal_frames_);
  if (wal_frames_ < options_.wal_hard_limit_frames) {
    last_fallback_frames_ = 0;
    return;
  }
  // A reader pinning the log makes every checkpoint copy little; retry
  // only once the log grew by another threshold's worth.
  if (last_fallback_frames_ > 0 && wal_frames_ >= last_fallback_frames_ &&
      wal_frames_ - last_fallback_frames_ < options_.checkpointer.wal_frames_threshold)
    return;
  int log_frames = 0;
  int backfilled = 0;
  const int64_t started = MonotonicMs();
  // PASSIVE: copies what no reader needs, waits for nobody. A failure
  // (the thread's checkpoint holds the lock) is retried after the next
  // commit.
  if (sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                &backfilled) != SQLITE_OK)
    return;
  last_fallback_frames_ = wal_frames_;
  ++writer_checkpoints_;
  if (log_frames > 0) writer_frames_ += static_cast<uint64_t>(log_frames);
  writer_longest_ms_ = std::max(writer_longest_ms_, static_cast<double>(MonotonicMs() - started));
}

void EventStore::StopBackgroundCheckpoint() {
  if (checkpointer_) checkpointer_->Stop();
}

StoreCheckpointStats EventStore::checkpoint_stats() const {
  StoreCheckpointStats stats;
  if (checkpointer_) {
    stats.background = checkpointer_->running();
    stats.thread = checkpointer_->stats();
  }
  if (!checkpointer_error_.empty()) stats.thread.last_error = checkpointer_error_;
  stats.writer_checkpoints = writer_checkpoints_;
  stats.writer_frames = writer_frames_;
  stats.writer_longest_ms = writer_longest_ms_;
  stats.wal_frames = wal_frames_;
  return stats;
}

Status EventStore::Prepare() {
  struct {
    std::unique_ptr<Statement>* out;
    const char* sql;
  } statements[] = {
      {&sql_->insert_audit,
       "INSERT OR IGNORE INTO audit_events(time, serial, node_id) VALUES (?1, ?2, ?3)"},
      {&sql_->select_audit_process,
       "SELECT process_id FROM audit_events WHERE time = ?1 AND serial = ?2 AND node_id = ?3"},
      {&sql_->set_audit_process,
       "UPDATE audit_events SET process_id = ?4 WHERE time = ?1 AND serial = ?2 AND node_id = ?3"},
      // The primary key's order: the last entry of its b-tree.
      {&sql_->select_max_key,
       "SELECT time, serial FROM audit_events ORDER BY time DESC, serial DESC LIMIT 1"},
      // The id SQLite would give the next row: the store numbers its
      // process rows itself so they can wait in pending_processes_.
      {&sql_->next_process_id, "SELECT coalesce(max(process_id), 0) + 1 FROM process_data"},
      {&sql_->end_process,
       "UPDATE process_data SET end_time = ?2, exit_code = ?3 WHERE process_id = ?1"},
      {&sql_->insert_image,
       "INSERT INTO image_data(time, process_id, path_id, sha256, uid, user_id) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&sql_->insert_run, "INSERT INTO run_data(source, start_time) VALUES (?1, ?2)"},
      {&sql_->update_run,
       "UPDATE run_data SET end_time = ?2, lines = ?3, bytes = ?4, records = ?5, malformed = ?6, "
       "truncated = ?7, audit_events = ?8, partial_events = ?9, ignored_events = ?10, "
       "process_starts = ?11, process_ends = ?12, file_events = ?13, network_events = ?14, "
       "security_events = ?15, module_events = ?16, placeholder_processes = ?17, "
       "duplicates = ?18, kernel_lost = ?19, dropped_backlog = ?20, dropped_queue_full = ?21, "
       "dropped_other = ?22, error = ?23, failed_execs = ?24 WHERE run_id = ?1"},
      // Rows from ?1 on (the first row that said "pending" for this exe):
      // a rowid range, so no index on exe_id is needed.
      // An exec stored by an earlier run: its audit key's time is the
      // instance start, so this is a primary-key seek on audit_events.
      {&sql_->select_instance,
       "SELECT a.process_id FROM audit_events a JOIN process_data p ON p.process_id = "
       "a.process_id WHERE a.time = ?1 AND a.node_id = ?2 AND p.pid = ?3 AND p.start_time = ?1"},
      {&sql_->update_hashes,
       "UPDATE process_data SET sha256_id = ?3, md5_id = ?4, hash_note_id = ?5 "
       "WHERE process_id >= ?1 AND exe_id = ?2 AND hash_note_id = ?6"},
  };
  for (auto& s : statements) {
    Result<std::unique_ptr<Statement>> stmt = db_->Prepare(s.sql);
    if (!stmt.ok()) return Fail("prepare", stmt.status());
    *s.out = std::move(stmt).value();
  }
  for (const Statements::Batched& b : Statements::kBatched) {
    Result<std::unique_ptr<BatchedInsert>> insert =
        BatchedInsert::Create(db_.get(), b.table_and_columns);
    if (!insert.ok()) return Fail("prepare", insert.status());
    sql_.get()->*b.insert = std::move(insert).value();
  }
  if (sql_->process_rows->columns() != kProcessColumns)
    return Fail("prepare", Status::Error("process_data's column list and ProcessRow disagree"));
  Result<std::unique_ptr<StringInterner>> interner =
      StringInterner::Create(db_.get(), options_.string_cache_bytes);
  if (!interner.ok()) return Fail("prepare", interner.status());
  interner_ = std::move(interner).value();
  return Status::Ok();
}

Status EventStore::Fail(std::string_view what, const Status& status) const {
  return Status::Errorf("{}: cannot {}: {}", db_->path(), what, status.message());
}

Status EventStore::BeginBatchIfNeeded(int64_t now_ms) {
  if (in_batch_) return Status::Ok();
  Status status = db_->Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return Fail("begin a write transaction", status);
  in_batch_ = true;
  batch_started_ms_ = now_ms;
  batch_rows_ = 0;
  Statement* next_id = sql_->next_process_id.get();
  Result<bool> id_row = next_id->Step();
  if (!id_row.ok() || !*id_row) {
    next_id->Reset();
    // Nothing of this transaction was handed out yet: only end it.
    (void)db_->Exec("ROLLBACK");
    in_batch_ = false;
    return Fail("begin a write transaction", id_row.ok() ? Status::Error("no row") : id_row.status());
  }
  next_process_id_ = next_id->ColumnInt(0);
  batch_first_process_id_ = next_process_id_;
  next_id->Reset();
  missing_instances_.clear();  // another writer may have added them since
  // Any failure leaves the bound at "unknown": every exec key is looked up.
  max_key_time_ = INT64_MAX;
  max_key_serial_ = INT64_MAX;
  Statement* max_key = sql_->select_max_key.get();
  Result<bool> row = max_key->Step();
  if (row.ok()) {
    max_key_time_ = *row ? max_key->ColumnInt(0) : INT64_MIN;
    max_key_serial_ = *row ? max_key->ColumnInt(1) : INT64_MIN;
  }
  max_key->Reset();
  return Status::Ok();
}

bool EventStore::KeyAboveStored(const AuditKey& key) const {
  const auto serial = static_cast<int64_t>(key.serial);
  return in_batch_ && (key.time_ms > max_key_time_ ||
                       (key.time_ms == max_key_time_ && serial > max_key_serial_));
}

void EventStore::NoteKeyStored(const AuditKey& key) {
  if (KeyAboveStored(key)) {
    max_key_time_ = key.time_ms;
    max_key_serial_ = static_cast<int64_t>(key.serial);
  }
}

Status EventStore::FlushAuditKeys() { return sql_->new_audit_keys->Flush(); }

Status EventStore::QueueProcesses() {
  Status status;
  for (const ProcessRow& row : pending_processes_) {
    status = sql_->process_rows->Add(row);
    if (!status.ok()) break;
  }
  pending_processes_.clear();
  return status;
}

Status EventStore::FlushProcesses() {
  Status status = QueueProcesses();
  return status.ok() ? sql_->process_rows->Flush() : status;
}

EventStore::ProcessRow* EventStore::PendingProcess(int64_t process_id) {
  const int64_t first = next_process_id_ - static_cast<int64_t>(pending_processes_.size());
  if (process_id < first || process_id >= next_process_id_) return nullptr;
  return &pending_processes_[static_cast<size_t>(process_id - first)];
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
  NoteKeyStored(key);
  ++batch_rows_;
  return Status::Ok();
}

void EventStore::RollBack() {
  (void)db_->Exec("ROLLBACK");
  in_batch_ = false;
  last_key_ = AuditKey();
  pending_processes_.clear();
  // Every id handed out since BEGIN is gone and will be handed out again:
  // what maps to ids must not outlive them (a cached string id would
  // point at the next string given that id). Process ids from earlier
  // transactions stay good; string ids cannot be told apart, so the
  // pid -> process map (which holds exe ids) starts over.
  if (interner_) interner_->ForgetAll();
  last_node_.clear();
  last_node_id_ = 0;
  processes_.clear();
  const int64_t first_lost = batch_first_process_id_;
  std::erase_if(instances_, [&](const auto& kv) { return kv.second >= first_lost; });
  std::erase_if(instance_order_, [&](const InstanceKey& k) { return !instances_.contains(k); });
  // Hash updates of this transaction are undone: their rows wait again.
  for (const auto& [exe_id, first] : hashes_updated_in_batch_) {
    auto [it, added] = pending_hashes_.try_emplace(exe_id, first);
    if (!added) it->second = std::min(it->second, first);
  }
  hashes_updated_in_batch_.clear();
  std::erase_if(pending_hashes_, [&](const auto& kv) { return kv.second >= first_lost; });
  for (BatchedInsert* rows : sql_->batched()) rows->Discard();
}

Status EventStore::CommitBatch() {
  if (!in_batch_) return Status::Ok();
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
  in_batch_ = false;
  hashes_updated_in_batch_.clear();
  ++total_.commits;
  ++run_.commits;
  AfterCommitCheckpoint();
  return Status::Ok();
}

Status EventStore::Consume(EventBatch* events) { return Add(events, options_.clock()); }

Status EventStore::Add(EventBatch* events, int64_t now_ms) {
  for (TypedEvent& event : *events) {
    Status status = BeginBatchIfNeeded(now_ms);
    if (!status.ok()) return status;
    status = WriteEvent(&event);
    if (!status.ok()) {
      // Roll the batch back rather than leave an audit key stored without
      // its event: a later replay can then store it.
      RollBack();
      return status;
    }
    if (batch_rows_ >= options_.batch_max_rows) {
      status = CommitBatch();
      if (!status.ok()) return status;
    }
  }
  return Tick(now_ms);
}

Status EventStore::Tick(int64_t now_ms) {
  if (in_batch_ && now_ms - batch_started_ms_ >= options_.batch_write_delay_ms)
    return CommitBatch();
  return Status::Ok();
}

Status EventStore::Flush() { return CommitBatch(); }

const EventStore::ProcessEntry* EventStore::LiveEntry(uint64_t key, int64_t time_ms) {
  auto it = processes_.find(key);
  if (it == processes_.end()) return nullptr;
  ProcessEntry& entry = it->second;
  if (entry.ended_ms >= 0 && time_ms - entry.ended_ms > options_.process_expiration_ms) {
    processes_.erase(it);
    return nullptr;
  }
  entry.last_seen_ms = std::max(entry.last_seen_ms, time_ms);
  return &entry;
}

void EventStore::Track(uint64_t key, const ProcessEntry& entry) {
  if (processes_.size() >= options_.max_tracked_processes && !processes_.contains(key)) {
    // Exited processes go first; if that is not enough, the older half
    // by last activity. Rare (a bound, not a cache), so O(n) is fine.
    std::erase_if(processes_, [](const auto& kv) { return kv.second.ended_ms >= 0; });
    if (processes_.size() >= options_.max_tracked_processes) {
      std::vector<int64_t> seen;
      seen.reserve(processes_.size());
      for (const auto& kv : processes_) seen.push_back(kv.second.last_seen_ms);
      auto middle = seen.begin() + seen.size() / 2;
      std::nth_element(seen.begin(), middle, seen.end());
      int64_t cutoff = *middle;
      std::erase_if(processes_,
                    [cutoff](const auto& kv) { return kv.second.last_seen_ms <= cutoff; });
    }
  }
  processes_[key] = entry;
}

Result<int64_t> EventStore::InsertProcess(const TypedEvent& event, int64_t node_id,
                                          bool placeholder) {
  const Subject& s = event.subject;
  Result<int64_t> exe = interner_->Intern(s.exe);
  Result<int64_t> comm = interner_->Intern(s.comm);
  Result<int64_t> tty = interner_->Intern(s.tty);
  if (!exe.ok()) return exe.status();
  if (!comm.ok()) return comm.status();
  if (!tty.ok()) return tty.status();
  int64_t command_id = 0, cwd_id = 0, path_search_attempts = 0;
  int64_t flags = placeholder ? 1 : 0;
  if (!placeholder) {
    const auto& start = std::get<ProcessStart>(event.body);
    path_search_attempts = start.path_search_attempts;
    Result<int64_t> command(int64_t{0});
    if (!start.argv.empty()) {
      command = interner_->InternArgv(start.argv);
    } else if (!start.proctitle.empty()) {
      // No EXECVE record: the proctitle holds argv NUL-separated.
      std::vector<std::string> argv;
      std::string_view rest = start.proctitle;
      while (!rest.empty()) {
        size_t nul = rest.find('\0');
        argv.emplace_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
      }
      command = interner_->InternArgv(argv);
    }
    if (!command.ok()) return command.status();
    command_id = *command;
    Result<int64_t> cwd = interner_->Intern(start.cwd);
    if (!cwd.ok()) return cwd.status();
    cwd_id = *cwd;
    if (start.argv_truncated) flags |= 2;
  }
  if (event.header.partial) flags |= 4;
  const Enrichment& en = event.enrichment;
  int64_t user = 0, euser = 0, login_user = 0, sha256 = 0, md5 = 0, hash_note = 0;
  for (auto [out, value] : {std::pair{&user, &en.user}, {&euser, &en.euser},
                            {&login_user, &en.login_user}, {&sha256, &en.exe_sha256},
                            {&md5, &en.exe_md5}, {&hash_note, &en.hash_note}}) {
    Result<int64_t> id = interner_->Intern(*value);
    if (!id.ok()) return id.status();
    *out = *id;
  }
  Result<int64_t> parent = ParentProcessId(event, node_id);
  if (!parent.ok()) return parent;
  const int64_t parent_id = *parent;
  // A placeholder for a process the enrich stage knows the start of (seeded
  // from /proc) gets that start, so its children can link to it.
  const int64_t start_ms = placeholder ? en.process_start_ms : event.header.time_ms;

  const int64_t process_id = next_process_id_++;
  pending_processes_.push_back({Int(process_id),
                                Int(node_id),
                                Int(s.pid),
                                Int(s.ppid),
                                parent_id != 0 ? Int(parent_id) : NullInt(),
                                start_ms >= 0 ? Int(start_ms) : NullInt(),
                                NullInt(),  // end_time: see WriteEvent's ProcessEnd
                                NullInt(),  // exit_code
                                StringIdValue(*exe),
                                StringIdValue(*comm),
                                StringIdValue(command_id),
                                StringIdValue(cwd_id),
                                IdValue(s.uid),
                                IdValue(s.euid),
                                IdValue(s.auid),
                                IdValue(s.ses),
                                StringIdValue(*tty),
                                placeholder ? NullInt() : Int(event.header.success ? 1 : 0),
                                Int(flags),
                                StringIdValue(user),
                                StringIdValue(euser),
                                StringIdValue(login_user),
                                StringIdValue(sha256),
                                StringIdValue(md5),
                                StringIdValue(hash_note),
                                path_search_attempts > 0 ? Int(path_search_attempts) : NullInt()});
  ++batch_rows_;
  if (pending_processes_.size() >= kMaxPendingProcesses) {
    Status status = FlushProcesses();
    if (!status.ok()) return status;
  }
  if (en.hash_note == "pending" && *exe != 0) pending_hashes_.try_emplace(*exe, process_id);
  // The instance key the enrich stage uses for parents: an exec's own time
  // (only a successful exec starts an instance), a seeded process's start.
  if (start_ms >= 0 && (placeholder || event.header.success))
    RememberInstance(node_id, s.pid, start_ms, process_id);
  if (placeholder) {
    Count(&StoreCounters::placeholder_processes);
    Track(ProcessKey(node_id, s.pid), {process_id, *exe, -1, event.header.time_ms, start_ms});
  }
  return process_id;
}

Result<int64_t> EventStore::ResolveProcess(const TypedEvent& event, int64_t node_id) {
  uint64_t key = ProcessKey(node_id, event.subject.pid);
  const ProcessEntry* entry = LiveEntry(key, event.header.time_ms);
  const int64_t start = event.enrichment.process_start_ms;
  if (entry != nullptr && entry->start_ms >= 0 && start >= 0 && entry->start_ms != start) {
    // The enrich stage knows the subject as another instance of this pid
    // (an exec we never stored, or a recycled pid): prefer its word.
    Result<int64_t> known = FindInstance(node_id, event.subject.pid, start);
    if (!known.ok() || *known != 0) return known;
    entry = nullptr;
  }
  if (entry != nullptr) {
    if (event.subject.exe.empty() || entry->exe_id == 0) return entry->process_id;
    Result<int64_t> exe = interner_->Intern(event.subject.exe);
    if (!exe.ok()) return exe.status();
    if (*exe == entry->exe_id) return entry->process_id;
    // Same pid, different program and no exec seen: the pid was reused.
  } else if (start >= 0) {
    Result<int64_t> known = FindInstance(node_id, event.subject.pid, start);
    if (!known.ok()) return known;
    if (*known != 0) {
      Result<int64_t> exe = interner_->Intern(event.subject.exe);
      if (!exe.ok()) return exe.status();
      Track(key, {*known, *exe, -1, event.header.time_ms, start});
      return known;
    }
  }
  return InsertProcess(event, node_id, /*placeholder=*/true);
}

Result<int64_t> EventStore::WriteProcessStart(const TypedEvent& event, int64_t node_id) {
  Result<int64_t> process_id = InsertProcess(event, node_id, /*placeholder=*/false);
  if (!process_id.ok()) return process_id;
  Count(&StoreCounters::process_starts);
  // A failed execve leaves the old program running under that pid: it
  // keeps its mapping. With none known (a forked child whose exec failed,
  // the usual case) this row is the best description of that process.
  const uint64_t key = ProcessKey(node_id, event.subject.pid);
  if (event.header.success || LiveEntry(key, event.header.time_ms) == nullptr) {
    Result<int64_t> exe = interner_->Intern(event.subject.exe);
    if (!exe.ok()) return exe.status();
    Track(key, {*process_id, *exe, -1, event.header.time_ms,
                event.header.success ? event.header.time_ms : -1});
  }
  return process_id;
}

Status EventStore::WriteEvent(TypedEvent* event) {
  const EventHeader& h = event->header;
  if (h.node != last_node_) {
    Result<int64_t> node_id = interner_->Intern(h.node);
    if (!node_id.ok()) return Fail("write", node_id.status());
    last_node_ = h.node;
    last_node_id_ = *node_id;
  }
  const int64_t node_id = last_node_id_;
  if (std::holds_alternative<ImageLoadEvent>(event->body)) return WriteImageLoad(*event, node_id);
  const AuditKey key{h.time_ms, h.serial, node_id};
  const bool is_start = std::holds_alternative<ProcessStart>(event->body);
  auto bind_key = [&](Statement* stmt) {
    stmt->BindInt(1, h.time_ms);
    stmt->BindInt(2, static_cast<int64_t>(h.serial));
    stmt->BindInt(3, node_id);
  };

  if (key == last_key_) {
    if (!last_key_new_) {
      Count(&StoreCounters::duplicates);
      return Status::Ok();
    }
    if (is_start) {
      // The audit key row was written by an earlier typed event of this
      // audit event; point it at the process so a re-replay finds it.
      Result<int64_t> process_id = WriteProcessStart(*event, node_id);
      if (!process_id.ok()) return Fail("write", process_id.status());
      Status flushed = FlushAuditKeys();
      if (!flushed.ok()) return Fail("write", flushed);
      bind_key(sql_->set_audit_process.get());
      sql_->set_audit_process->BindInt(4, *process_id);
      Status status = sql_->set_audit_process->Run();
      return status.ok() ? Status::Ok() : Fail("write", status);
    }
  } else if (is_start) {
    // Exec: the audit key row carries the process_id, so replaying the
    // same log again can map the pid to the stored process.
    bool exists = false;
    int64_t stored_id = 0;
    if (!KeyAboveStored(key)) {
      Status flushed = FlushAuditKeys();
      if (!flushed.ok()) return Fail("write", flushed);
      Statement* select = sql_->select_audit_process.get();
      bind_key(select);
      Result<bool> row = select->Step();
      exists = row.ok() && *row;
      stored_id = exists && select->ColumnType(0) != SQLITE_NULL ? select->ColumnInt(0) : 0;
      select->Reset();
      if (!row.ok()) return Fail("write", row.status());
    }
    last_key_ = key;
    last_key_new_ = !exists;
    if (exists) {
      Count(&StoreCounters::duplicates);
      if (stored_id != 0 &&
          (h.success || LiveEntry(ProcessKey(node_id, event->subject.pid), h.time_ms) == nullptr)) {
        Result<int64_t> exe = interner_->Intern(event->subject.exe);
        if (!exe.ok()) return Fail("write", exe.status());
        Track(ProcessKey(node_id, event->subject.pid),
              {stored_id, *exe, -1, h.time_ms, h.success ? h.time_ms : -1});
        if (h.success) RememberInstance(node_id, event->subject.pid, h.time_ms, stored_id);
      }
      return Status::Ok();
    }
    Result<int64_t> process_id = WriteProcessStart(*event, node_id);
    if (!process_id.ok()) return Fail("write", process_id.status());
    return QueueNewKey(key, Int(*process_id));
  } else if (KeyAboveStored(key)) {
    // New for sure: no INSERT OR IGNORE needed to find out.
    Status status = QueueNewKey(key, NullInt());
    if (!status.ok()) return status;
    last_key_ = key;
    last_key_new_ = true;
  } else {
    Status status = FlushAuditKeys();
    if (!status.ok()) return Fail("write", status);
    Statement* insert = sql_->insert_audit.get();
    bind_key(insert);
    status = insert->Run();
    if (!status.ok()) return Fail("write", status);
    last_key_ = key;
    last_key_new_ = db_->Changes() > 0;
    if (last_key_new_) NoteKeyStored(key);
    if (!last_key_new_) {
      Count(&StoreCounters::duplicates);
      if (auto* end = std::get_if<ProcessEnd>(&event->body)) {
        (void)end;
        auto it = processes_.find(ProcessKey(node_id, event->subject.pid));
        if (it != processes_.end()) it->second.ended_ms = h.time_ms;
      }
      return Status::Ok();
    }
    ++batch_rows_;
  }

  Result<int64_t> process = ResolveProcess(*event, node_id);
  if (!process.ok()) return Fail("write", process.status());
  const int64_t process_id = *process;
  const int64_t uid = event->subject.uid;
  const int success = h.success ? 1 : 0;
  Status status;
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        auto intern = [&](std::string_view s) -> int64_t {
          if (!status.ok()) return 0;
          Result<int64_t> id = interner_->Intern(s);
          if (!id.ok()) {
            status = id.status();
            return 0;
          }
          return *id;
        };
        if constexpr (std::is_same_v<T, ProcessStart>) {
          // Handled above.
        } else if constexpr (std::is_same_v<T, ProcessEnd>) {
          if (ProcessRow* row = PendingProcess(process_id)) {
            // Not written yet: the row goes in whole, no UPDATE.
            (*row)[kEndTimeColumn] = Int(h.time_ms);
            (*row)[kExitCodeColumn] = Int(body.exit_code);
          } else {
            Statement* stmt = sql_->end_process.get();
            stmt->BindInt(1, process_id);
            stmt->BindInt(2, h.time_ms);
            stmt->BindInt(3, body.exit_code);
            status = stmt->Run();
          }
          auto it = processes_.find(ProcessKey(node_id, event->subject.pid));
          if (it != processes_.end() && it->second.process_id == process_id)
            it->second.ended_ms = h.time_ms;
          if (status.ok()) Count(&StoreCounters::process_ends);
        } else if constexpr (std::is_same_v<T, FileEvent>) {
          int64_t path = intern(body.path), new_path = intern(body.new_path);
          int64_t user = intern(event->enrichment.user);
          if (!status.ok()) return;
          status = sql_->file_rows->Add(
              {Int(h.time_ms), Int(process_id), Int(static_cast<int64_t>(body.operation)),
               StringIdValue(path), StringIdValue(new_path), Int(success), IdValue(uid),
               body.mode >= 0 ? Int(body.mode) : NullInt(), IdValue(body.owner_uid),
               IdValue(body.owner_gid), StringIdValue(user)});
          if (status.ok()) Count(&StoreCounters::file_events);
        } else if constexpr (std::is_same_v<T, NetworkEvent>) {
          int64_t local = intern(body.local_address), remote = intern(body.remote_address);
          int64_t user = intern(event->enrichment.user);
          if (!status.ok()) return;
          status = sql_->network_rows->Add(
              {Int(h.time_ms), Int(process_id), Int(static_cast<int64_t>(body.direction)),
               CodeValue(body.protocol, NetworkProtocol::kUnknown),
               CodeValue(body.family, AddressFamily::kOther), StringIdValue(local),
               PortValue(body.local_port), StringIdValue(remote), PortValue(body.remote_port),
               Int(success), IdValue(uid), Int(body.in_progress ? 1 : 0), StringIdValue(user)});
          if (status.ok()) Count(&StoreCounters::network_events);
        } else if constexpr (std::is_same_v<T, SecurityEvent>) {
          int64_t user = intern(body.user), target = intern(body.target_user);
          int64_t terminal = intern(body.terminal), address = intern(body.address);
          int64_t hostname = intern(body.hostname), detail = intern(body.detail);
          if (!status.ok()) return;
          status = sql_->security_rows->Add(
              {Int(h.time_ms), Int(process_id), Int(static_cast<int64_t>(body.kind)),
               Int(static_cast<int64_t>(body.record_type)), StringIdValue(user),
               StringIdValue(target), Int(static_cast<int64_t>(body.result)),
               StringIdValue(terminal), StringIdValue(address), StringIdValue(hostname),
               StringIdValue(detail), Int(success), IdValue(uid)});
          if (status.ok()) Count(&StoreCounters::security_events);
        } else if constexpr (std::is_same_v<T, ModuleEvent>) {
          int64_t module = intern(body.module), user = intern(event->enrichment.user);
          if (!status.ok()) return;
          status = sql_->module_rows->Add({Int(h.time_ms), Int(process_id),
                                           Int(static_cast<int64_t>(body.operation)),
                                           StringIdValue(module), Int(success), IdValue(uid),
                                           StringIdValue(user)});
          if (status.ok()) Count(&StoreCounters::module_events);
        } else if constexpr (std::is_same_v<T, ExecFailure>) {
          int64_t path = intern(body.path), cwd = intern(body.cwd);
          int64_t user = intern(event->enrichment.user);
          if (!status.ok()) return;
          status = sql_->failed_exec_rows->Add(
              {Int(h.time_ms), Int(process_id), StringIdValue(path), Int(body.error),
               StringIdValue(cwd), IdValue(uid), StringIdValue(user)});
          if (status.ok()) Count(&StoreCounters::failed_execs);
        }
      },
      event->body);
  if (!status.ok()) return Fail("write", status);
  ++batch_rows_;
  return Status::Ok();
}

Status EventStore::WriteImageLoad(const TypedEvent& event, int64_t node_id) {
  const auto& body = std::get<ImageLoadEvent>(event.body);
  Result<int64_t> process = ResolveProcess(event, node_id);
  if (!process.ok()) return Fail("write", process.status());
  Result<int64_t> path = interner_->Intern(body.path);
  if (!path.ok()) return Fail("write", path.status());
  Result<int64_t> user = interner_->Intern(event.enrichment.user);
  if (!user.ok()) return Fail("write", user.status());
  Statement* stmt = sql_->insert_image.get();
  stmt->BindInt(1, event.header.time_ms);
  stmt->BindInt(2, *process);
  BindStringId(stmt, 3, *path);
  if (body.sha256.empty()) stmt->BindNull(4);
  else stmt->BindText(4, body.sha256);
  BindId(stmt, 5, event.subject.uid);
  BindStringId(stmt, 6, *user);
  Status status = stmt->Run();
  if (!status.ok()) return Fail("write", status);
  Count(&StoreCounters::image_events);
  ++batch_rows_;
  return Status::Ok();
}

Result<std::vector<std::string>> EventStore::AdoptPendingHashes(int64_t recent_rows) {
  Status flushed = FlushProcesses();
  if (!flushed.ok()) {
    // The queue is gone: so must be the rest of its transaction.
    RollBack();
    return Fail("find pending hashes", flushed);
  }
  Result<std::unique_ptr<Statement>> select = db_->Prepare(
      "SELECT p.exe_id, min(p.process_id), s.value FROM process_data p "
      "JOIN strings s ON s.id = p.exe_id "
      "WHERE p.process_id > (SELECT coalesce(max(process_id), 0) FROM process_data) - ?1 "
      "AND p.hash_note_id = (SELECT id FROM strings WHERE value = 'pending') "
      "GROUP BY p.exe_id");
  if (!select.ok()) return Fail("find pending hashes", select.status());
  (*select)->BindInt(1, recent_rows);
  std::vector<std::string> exes;
  while (true) {
    Result<bool> row = (*select)->Step();
    if (!row.ok()) return Fail("find pending hashes", row.status());
    if (!*row) break;
    int64_t exe_id = (*select)->ColumnInt(0);
    int64_t first = (*select)->ColumnInt(1);
    auto [it, added] = pending_hashes_.try_emplace(exe_id, first);
    if (!added) it->second = std::min(it->second, first);
    exes.emplace_back((*select)->ColumnText(2));
  }
  return exes;
}

uint64_t EventStore::InstanceKey::Hash::operator()(const InstanceKey& k) const {
  uint64_t h = static_cast<uint64_t>(k.node_id) * 0x9E3779B97F4A7C15ULL;
  h ^= static_cast<uint32_t>(k.pid) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  h ^= static_cast<uint64_t>(k.start_ms) + (h << 6) + (h >> 2);
  return h;
}

void EventStore::RememberInstance(int64_t node_id, int32_t pid, int64_t start_ms,
                                  int64_t process_id) {
  InstanceKey key{node_id, pid, start_ms};
  if (!missing_instances_.empty()) missing_instances_.erase(key);
  auto [it, added] = instances_.insert_or_assign(key, process_id);
  (void)it;
  if (!added) return;
  instance_order_.push_back(key);
  // A bound, FIFO: parents that old are rarely asked for, and a miss only
  // falls back to the pid's current process.
  while (instance_order_.size() > options_.max_tracked_processes * 2) {
    instances_.erase(instance_order_.front());
    instance_order_.pop_front();
  }
}

Result<int64_t> EventStore::FindInstance(int64_t node_id, int32_t pid, int64_t start_ms) {
  const InstanceKey key{node_id, pid, start_ms};
  auto it = instances_.find(key);
  if (it != instances_.end()) return it->second;
  // Not written by this store: maybe by the previous run (a restart while
  // the process ran). Only on a miss, and then remembered. The query
  // reads audit_events, so the keys still queued go in first; a miss is
  // remembered for the transaction too (a parent that started before the
  // recorder and never had an event of its own, such as pid 1, is asked
  // for at every exec of its children, and each lookup would write the
  // queues out).
  if (missing_instances_.contains(key)) return int64_t{0};
  Status flushed = FlushProcesses();
  if (flushed.ok()) flushed = FlushAuditKeys();
  if (!flushed.ok()) return flushed;
  Statement* select = sql_->select_instance.get();
  select->BindInt(1, start_ms);
  select->BindInt(2, node_id);
  select->BindInt(3, pid);
  Result<bool> row = select->Step();
  int64_t id = row.ok() && *row ? select->ColumnInt(0) : 0;
  select->Reset();
  if (id != 0)
    RememberInstance(node_id, pid, start_ms, id);
  else if (missing_instances_.size() < kMaxMissingInstances)
    missing_instances_.insert(key);
  return id;
}

Result<int64_t> EventStore::ParentProcessId(const TypedEvent& event, int64_t node_id) {
  const Subject& s = event.subject;
  const int64_t parent_start = event.enrichment.parent_start_ms;
  if (parent_start >= 0) {
    Result<int64_t> id = FindInstance(node_id, s.ppid, parent_start);
    if (!id.ok() || *id != 0) return id;
  }
  const ProcessEntry* parent = LiveEntry(ProcessKey(node_id, s.ppid), event.header.time_ms);
  if (parent == nullptr) return 0;
  // Without enrichment "whatever ppid runs now" is the best guess; with it,
  // a current process of another known start is somebody else.
  if (parent_start >= 0 && parent->start_ms >= 0 && parent->start_ms != parent_start) return 0;
  return parent->process_id;
}

Result<int64_t> EventStore::UpdateHashes(std::string_view exe, std::string_view sha256,
                                         std::string_view md5, std::string_view note) {
  Result<int64_t> exe_id = interner_->Intern(exe);
  if (!exe_id.ok()) return Fail("update hashes", exe_id.status());
  auto pending = pending_hashes_.find(*exe_id);
  if (pending == pending_hashes_.end()) return int64_t{0};
  const int64_t first = pending->second;
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  int64_t ids[4] = {};
  std::string_view values[4] = {sha256, md5, note, "pending"};
  for (int i = 0; i < 4; ++i) {
    Result<int64_t> id = interner_->Intern(values[i]);
    if (!id.ok()) return Fail("update hashes", id.status());
    ids[i] = *id;
  }
  // The statement updates the written rows; rows still waiting are
  // updated where they wait (after it, so a failed statement leaves
  // both as they were).
  Statement* stmt = sql_->update_hashes.get();
  stmt->BindInt(1, first);
  stmt->BindInt(2, *exe_id);
  BindStringId(stmt, 3, ids[0]);
  BindStringId(stmt, 4, ids[1]);
  BindStringId(stmt, 5, ids[2]);
  stmt->BindInt(6, ids[3]);
  status = stmt->Run();
  if (!status.ok()) return Fail("update hashes", status);
  // Done for this exe once the transaction commits (see RollBack).
  pending_hashes_.erase(*exe_id);
  hashes_updated_in_batch_.emplace_back(*exe_id, first);
  const int64_t changed = db_->Changes();
  batch_rows_ += static_cast<size_t>(changed);
  int64_t changed_pending = 0;
  for (ProcessRow& row : pending_processes_) {
    // Both ids are strings' (never 0), so an empty column never matches.
    if (*row[kProcessIdColumn] < first || row[kExeColumn] != *exe_id ||
        row[kHashNoteColumn] != ids[3])
      continue;
    row[kSha256Column] = StringIdValue(ids[0]);
    row[kMd5Column] = StringIdValue(ids[1]);
    row[kHashNoteColumn] = StringIdValue(ids[2]);
    ++changed_pending;
  }
  return changed + changed_pending;
}

Result<int64_t> EventStore::BeginRun(std::string_view source, int64_t wall_ms) {
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  sql_->insert_run->BindText(1, source);
  sql_->insert_run->BindInt(2, wall_ms);
  status = sql_->insert_run->Run();
  if (!status.ok()) return Fail("record the run", status);
  run_id_ = db_->LastInsertRowid();
  run_ = StoreCounters();
  return run_id_;
}

Status EventStore::RecordRunStats(const RunStats& stats, int64_t wall_ms) {
  if (run_id_ == 0) return Status::Errorf("{}: RecordRunStats before BeginRun", db_->path());
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  Statement* stmt = sql_->update_run.get();
  auto u = [](uint64_t v) { return static_cast<int64_t>(v); };
  stmt->BindInt(1, run_id_);
  stmt->BindInt(2, wall_ms);
  stmt->BindInt(3, u(stats.lines));
  stmt->BindInt(4, u(stats.bytes));
  stmt->BindInt(5, u(stats.records));
  stmt->BindInt(6, u(stats.malformed));
  stmt->BindInt(7, u(stats.truncated));
  stmt->BindInt(8, u(stats.audit_events));
  stmt->BindInt(9, u(stats.partial_events));
  stmt->BindInt(10, u(stats.ignored_events));
  stmt->BindInt(11, u(run_.process_starts));
  stmt->BindInt(12, u(run_.process_ends));
  stmt->BindInt(13, u(run_.file_events));
  stmt->BindInt(14, u(run_.network_events));
  stmt->BindInt(15, u(run_.security_events));
  stmt->BindInt(16, u(run_.module_events));
  stmt->BindInt(17, u(run_.placeholder_processes));
  stmt->BindInt(18, u(run_.duplicates));
  stmt->BindInt(19, u(stats.kernel_lost));
  stmt->BindInt(20, u(stats.dropped_backlog));
  stmt->BindInt(21, u(stats.dropped_queue_full));
  stmt->BindInt(22, u(stats.dropped_other));
  if (stats.error.empty())
    stmt->BindNull(23);
  else
    stmt->BindText(23, stats.error);
  stmt->BindInt(24, u(run_.failed_execs));
  status = stmt->Run();
  if (!status.ok()) return Fail("record the run", status);
  return Status::Ok();
}

}  // namespace recorder::store
