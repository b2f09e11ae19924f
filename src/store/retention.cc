#include "store/retention.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <utility>

#include "util/file_util.h"

namespace recorder::store {

namespace {

constexpr char kProcessTable[] = "process_data";
constexpr char kAuditKeysTable[] = "audit_events";
constexpr int64_t kNoCutoff = std::numeric_limits<int64_t>::min();

std::string Quote(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// Runs `sql` with ?1 bound to `limit` and calls `on_row` with the
// statement at each row; `*read` counts the rows.
template <typename OnRow>
Status ForEachRow(Database* db, const std::string& sql, int64_t limit, int64_t* read,
                  OnRow on_row) {
  Result<std::unique_ptr<Statement>> select = db->Prepare(sql);
  if (!select.ok()) return select.status();
  (*select)->BindInt(1, limit);
  while (true) {
    Result<bool> row = (*select)->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    ++*read;
    on_row(**select);
  }
}

}  // namespace

Result<StorageSize> MeasureStorage(Database* db) {
  StorageSize size;
  Result<int64_t> page_size = db->QueryInt("PRAGMA page_size");
  if (!page_size.ok()) return page_size.status();
  Result<int64_t> page_count = db->QueryInt("PRAGMA page_count");
  if (!page_count.ok()) return page_count.status();
  Result<int64_t> freelist = db->QueryInt("PRAGMA freelist_count");
  if (!freelist.ok()) return freelist.status();
  size.page_size = *page_size;
  size.page_count = *page_count;
  size.freelist_count = *freelist;
  const std::string& path = db->path();
  if (!path.empty() && path != ":memory:") {
    size.main_file_bytes = std::max<int64_t>(FileSize(path), 0);
    size.wal_bytes = std::max<int64_t>(FileSize(path + "-wal"), 0);
  }
  return size;
}

Retention::Retention(RetentionPolicy policy) : policy_(policy) {
  policy_.rows_per_step = std::max<int64_t>(policy_.rows_per_step, 100);
  policy_.vacuum_pages_per_step = std::max<int64_t>(policy_.vacuum_pages_per_step, 1);
  policy_.clean_percent_over_limit = std::clamp(policy_.clean_percent_over_limit, 0, 100);
}

Retention::~Retention() = default;

bool Retention::OverSizeLimit(const StorageSize& size) const {
  return policy_.max_size_bytes > 0 && size.total_bytes() > policy_.max_size_bytes;
}

Result<RetentionResult> Retention::Step(Database* db, int64_t now_ms) {
  if (sqlite3_get_autocommit(db->handle()) == 0) {
    return Status::Errorf(
        "{}: retention: a transaction is open on this connection; call EventStore::Flush() "
        "before Retention::Step()",
        db->path());
  }
  auto fail = [&](std::string_view what, const Status& status) -> Status {
    EndRun();
    return Status::Errorf("{}: retention: {}: {}", db->path(), what, status.message());
  };

  RetentionResult out;
  Result<StorageSize> before = MeasureStorage(db);
  if (!before.ok()) return fail("measure", before.status());
  out.before = *before;

  if (phase_ == Phase::kIdle) {
    Status started = StartRun(db, now_ms, out.before, &out);
    if (!started.ok()) return fail("start", started);
  }

  int64_t budget = policy_.rows_per_step;
  if (phase_ == Phase::kScan || phase_ == Phase::kSize || phase_ == Phase::kProcesses) {
    // One transaction per step: a crash loses at most this step's work,
    // and the store (which waits for us on the same thread) is never
    // locked out for longer than one step.
    Transaction transaction(db);
    Status status = transaction.Begin();
    // Prepared once per step: a step may delete thousands of processes.
    Result<std::unique_ptr<Statement>> delete_process =
        db->Prepare("DELETE FROM process_data WHERE process_id = ?1");
    if (status.ok() && !delete_process.ok()) status = delete_process.status();
    delete_process_ = delete_process.ok() ? delete_process->get() : nullptr;
    while (status.ok() && budget > 0 &&
           (phase_ == Phase::kScan || phase_ == Phase::kSize || phase_ == Phase::kProcesses)) {
      switch (phase_) {
        case Phase::kScan:
          status = ScanChunk(db, &budget, &out);
          break;
        case Phase::kSize:
          status = SizeRound(db, &budget, &out);
          break;
        case Phase::kProcesses:
          status = ProcessChunk(db, &budget, &out);
          break;
        default:
          break;
      }
    }
    delete_process_ = nullptr;
    if (status.ok()) status = transaction.Commit();
    if (!status.ok()) {
      // The rolled-back deletions were already counted.
      out.rows_deleted.clear();
      return fail("delete", status);
    }
  }
  // Before the vacuum step, which may end the run and forget them.
  out.size_cleanup = size_cleanup_;
  out.age_cutoff_ms = age_cutoff_ms_;
  out.size_cutoff_ms = size_cutoff_ms_;
  if (phase_ == Phase::kVacuum) {
    Status vacuumed = VacuumChunk(db, &out);
    if (!vacuumed.ok()) return fail("vacuum", vacuumed);
  }

  Result<StorageSize> after = MeasureStorage(db);
  if (!after.ok()) return fail("measure", after.status());
  out.after = *after;
  out.more_work = phase_ != Phase::kIdle;

  int64_t hard_limit = 0;
  for (int64_t limit : {policy_.max_runtime_storage_bytes, policy_.absolute_max_storage_bytes}) {
    if (limit > 0 && (hard_limit == 0 || limit < hard_limit)) hard_limit = limit;
  }
  out.over_hard_limit = hard_limit > 0 && out.after.total_bytes() > hard_limit;
  if (out.over_hard_limit && !out.more_work) {
    out.disable = true;
    out.disable_reason = fmt::format(
        "database {} is {} bytes after cleanup, over the storage limit of {} bytes "
        "(MaxRuntimeStorageSizeMB/AbsoluteMaxStorageSizeMB)",
        db->path(), out.after.total_bytes(), hard_limit);
  }
  return out;
}

Status Retention::StartRun(Database* db, int64_t now_ms, const StorageSize& size,
                           RetentionResult* out) {
  EndRun();
  now_ms_ = now_ms;
  processes_.Start(now_ms, policy_.process_grace_ms);
  age_cutoff_ms_ = policy_.monitor_days > 0
                       ? now_ms - static_cast<int64_t>(policy_.monitor_days) * kMsPerDay
                       : 0;
  size_cleanup_ = OverSizeLimit(size);
  if (age_cutoff_ms_ == 0 && !size_cleanup_) {
    out->run_finished = true;  // nothing asked for: MonitorDays 0 and under maxSizeMB
    return Status::Ok();
  }
  target_used_bytes_ = policy_.max_size_bytes * (100 - policy_.clean_percent_over_limit) / 100;

  // Discover the tables at every run: a newer schema's tables are cleaned
  // without a change here, and a column list is never hard-coded.
  Result<std::unique_ptr<Statement>> tables = db->Prepare(
      "SELECT name, coalesce(sql, '') FROM sqlite_schema WHERE type = 'table' "
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  if (!tables.ok()) return tables.status();
  Result<std::unique_ptr<Statement>> columns =
      db->Prepare("SELECT name FROM pragma_table_info(?1)");
  if (!columns.ok()) return columns.status();
  while (true) {
    Result<bool> row = (*tables)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Table table;
    table.name = std::string((*tables)->ColumnText(0));
    std::string sql((*tables)->ColumnText(1));
    std::transform(sql.begin(), sql.end(), sql.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    table.has_rowid = sql.find("WITHOUT ROWID") == std::string::npos;

    bool has_time = false;
    int process_columns = 0;
    (*columns)->BindText(1, table.name);
    while (true) {
      Result<bool> column = (*columns)->Step();
      if (!column.ok()) return column.status();
      if (!*column) break;
      std::string_view name = (*columns)->ColumnText(0);
      if (name == "time") has_time = true;
      if (name == "process_id") table.has_process_id = true;
      for (std::string_view wanted : {"process_id", "node_id", "pid", "parent_process_id",
                                      "start_time", "end_time", "success"}) {
        if (name == wanted) ++process_columns;
      }
    }
    (*columns)->Reset();

    if (table.name == kProcessTable) {
      have_process_table_ = process_columns == 7 && table.has_rowid;
    } else if (has_time && (table.name.ends_with("_data") || table.name == kAuditKeysTable)) {
      // audit_events is keyed: its process_id (the exec's own key, as old
      // as the process row it names, and gone by time in the same run) is
      // never counted as a reference, as only event tables' are.
      (table.has_rowid && table.name != kAuditKeysTable ? event_tables_ : keyed_tables_)
          .push_back(std::move(table));
    }
  }
  phase_ = Phase::kScan;
  out->run_started = true;
  return Status::Ok();
}

void Retention::EndRun() {
  phase_ = Phase::kIdle;
  checkpoint_tries_ = 0;
  event_tables_.clear();
  keyed_tables_.clear();
  have_process_table_ = false;
  size_cleanup_ = false;
  age_cutoff_ms_ = 0;
  size_cutoff_ms_ = 0;
  scan_table_ = 0;
  scan_rowid_ = 0;
  size_process_cursor_ = 0;
  processes_.Clear();
}

Status Retention::ScanChunk(Database* db, int64_t* budget, RetentionResult* out) {
  const size_t events = event_tables_.size();
  const size_t keyed = keyed_tables_.size();
  const int64_t limit = std::min(*budget, policy_.rows_per_step);

  if (scan_table_ < events) {
    const Table& table = event_tables_[scan_table_];
    Result<std::unique_ptr<Statement>> select = db->Prepare(
        fmt::format("SELECT rowid, time, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
                    table.has_process_id ? "process_id" : "NULL", Quote(table.name)));
    if (!select.ok()) return select.status();
    Statement* stmt = select->get();
    stmt->BindInt(1, scan_rowid_);
    stmt->BindInt(2, limit);
    int64_t read = 0;
    int64_t old_rows = 0;
    const int64_t first_rowid = scan_rowid_;
    while (true) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      ++read;
      scan_rowid_ = stmt->ColumnInt(0);
      const bool old = age_cutoff_ms_ != 0 && stmt->ColumnType(1) != SQLITE_NULL &&
                       stmt->ColumnInt(1) < age_cutoff_ms_;
      if (old) {
        ++old_rows;
      } else if (stmt->ColumnType(2) != SQLITE_NULL) {
        processes_.CountReference(stmt->ColumnInt(2));
      }
    }
    out->rows_scanned += read;
    *budget -= std::max<int64_t>(read, 1);
    if (old_rows > 0) {
      Result<std::unique_ptr<Statement>> del = db->Prepare(fmt::format(
          "DELETE FROM {} WHERE rowid > ?1 AND rowid <= ?2 AND time < ?3", Quote(table.name)));
      if (!del.ok()) return del.status();
      (*del)->BindInt(1, first_rowid);
      (*del)->BindInt(2, scan_rowid_);
      (*del)->BindInt(3, age_cutoff_ms_);
      Status status = (*del)->Run();
      if (!status.ok()) return status;
      out->rows_deleted[table.name] += db->Changes();
    }
    if (read < limit) {
      ++scan_table_;
      scan_rowid_ = 0;
    }
    return Status::Ok();
  }

  if (scan_table_ < events + keyed) {
    const Table& table = keyed_tables_[scan_table_ - events];
    if (age_cutoff_ms_ == 0) {
      ++scan_table_;
      return Status::Ok();
    }
    Result<std::unique_ptr<Statement>> bound = db->Prepare(fmt::format(
        "SELECT time FROM {} WHERE time < ?1 ORDER BY time LIMIT 1 OFFSET ?2", Quote(table.name)));
    if (!bound.ok()) return bound.status();
    (*bound)->BindInt(1, age_cutoff_ms_);
    (*bound)->BindInt(2, limit - 1);
    Result<bool> has_bound = (*bound)->Step();
    if (!has_bound.ok()) return has_bound.status();
    // Ties at the bound may go over `limit`; that is still progress.
    const int64_t upto = *has_bound ? (*bound)->ColumnInt(0) + 1 : age_cutoff_ms_;
    (*bound)->Reset();
    Status status = DeleteByTime(db, table, std::min(upto, age_cutoff_ms_), out);
    if (!status.ok()) return status;
    *budget -= limit;
    if (!*has_bound) ++scan_table_;
    return Status::Ok();
  }

  if (scan_table_ == events + keyed && have_process_table_) {
    int64_t read = 0;
    Status status = processes_.Scan(db, &scan_rowid_, limit, &read);
    if (!status.ok()) return status;
    out->rows_scanned += read;
    *budget -= std::max<int64_t>(read, 1);
    if (read < limit) {
      ++scan_table_;
      scan_rowid_ = 0;
    }
    return Status::Ok();
  }

  phase_ = size_cleanup_ ? Phase::kSize : Phase::kProcesses;
  return Status::Ok();
}

Status Retention::DeleteByTime(Database* db, const Table& table, int64_t cutoff_exclusive,
                               RetentionResult* out) {
  Result<std::unique_ptr<Statement>> del =
      db->Prepare(fmt::format("DELETE FROM {} WHERE time < ?1", Quote(table.name)));
  if (!del.ok()) return del.status();
  (*del)->BindInt(1, cutoff_exclusive);
  Status status = (*del)->Run();
  if (!status.ok()) return status;
  out->rows_deleted[table.name] += db->Changes();
  return Status::Ok();
}

Status Retention::SizeRound(Database* db, int64_t* budget, RetentionResult* out) {
  Result<StorageSize> size = MeasureStorage(db);
  if (!size.ok()) return size.status();
  if (size->used_bytes() <= target_used_bytes_) {
    phase_ = Phase::kProcesses;
    return Status::Ok();
  }
  Status status = processes_.ReadMaxProcessId(db);
  if (!status.ok()) return status;

  const size_t sources =
      event_tables_.size() + keyed_tables_.size() + (have_process_table_ ? 1 : 0);
  const int64_t k = std::max<int64_t>(100, std::min(*budget, policy_.rows_per_step) /
                                               static_cast<int64_t>(std::max<size_t>(sources, 1)));

  // The heads of every source: the oldest-inserted rows of each rowid
  // table (insertion order is nearly time order), the oldest keys of the
  // time-keyed tables, and the process rows past the cursor.
  struct EventHead {
    int64_t last_rowid = 0;
    std::vector<std::pair<int64_t, int64_t>> time_and_process;  // process 0: none
  };
  std::vector<EventHead> heads(event_tables_.size());
  std::vector<int64_t> times;
  int64_t read = 0;
  for (size_t i = 0; i < event_tables_.size(); ++i) {
    const Table& table = event_tables_[i];
    EventHead& head = heads[i];
    Status scanned =
        ForEachRow(db,
                   fmt::format("SELECT rowid, time, {} FROM {} ORDER BY rowid LIMIT ?1",
                               table.has_process_id ? "process_id" : "0", Quote(table.name)),
                   k, &read, [&](Statement& row) {
                     head.last_rowid = row.ColumnInt(0);
                     if (row.ColumnType(1) == SQLITE_NULL) return;
                     head.time_and_process.emplace_back(row.ColumnInt(1), row.ColumnInt(2));
                     times.push_back(row.ColumnInt(1));
                   });
    if (!scanned.ok()) return scanned;
  }
  for (const Table& table : keyed_tables_) {
    Status scanned =
        ForEachRow(db,
                   fmt::format("SELECT time FROM {} WHERE time IS NOT NULL ORDER BY time LIMIT ?1",
                               Quote(table.name)),
                   k, &read, [&](Statement& row) { times.push_back(row.ColumnInt(0)); });
    if (!scanned.ok()) return scanned;
  }
  std::vector<ProcessRetention::Row> processes;
  if (have_process_table_) {
    status = processes_.ReadRows(db, size_process_cursor_, k, &processes);
    if (!status.ok()) return status;
    read += static_cast<int64_t>(processes.size());
    for (const ProcessRetention::Row& process : processes) {
      if (std::optional<int64_t> last = process.last_ms()) times.push_back(*last);
    }
  }
  out->rows_scanned += read;
  *budget -= std::max<int64_t>(read, 1);
  if (times.empty() && processes.empty()) {
    phase_ = Phase::kProcesses;  // nothing left that retention may delete
    return Status::Ok();
  }

  // The time horizon: about k rows, over all sources, are at or before it.
  int64_t horizon = size_cutoff_ms_;
  if (!times.empty()) {
    const size_t nth = std::min<size_t>(static_cast<size_t>(k), times.size()) - 1;
    std::nth_element(times.begin(), times.begin() + static_cast<ptrdiff_t>(nth), times.end());
    horizon = std::max(horizon, times[nth]);
  }
  size_cutoff_ms_ = horizon;

  int64_t deleted = 0;
  for (size_t i = 0; i < event_tables_.size(); ++i) {
    const Table& table = event_tables_[i];
    int64_t doomed = 0;
    for (const auto& [time, process_id] : heads[i].time_and_process) {
      if (time > horizon) continue;
      ++doomed;
      if (process_id != 0) processes_.Unreference(process_id);
    }
    if (doomed == 0) continue;
    Result<std::unique_ptr<Statement>> del = db->Prepare(
        fmt::format("DELETE FROM {} WHERE rowid <= ?1 AND time <= ?2", Quote(table.name)));
    if (!del.ok()) return del.status();
    (*del)->BindInt(1, heads[i].last_rowid);
    (*del)->BindInt(2, horizon);
    status = (*del)->Run();
    if (!status.ok()) return status;
    out->rows_deleted[table.name] += db->Changes();
    deleted += db->Changes();
  }
  for (const Table& table : keyed_tables_) {
    const int64_t before = out->rows_deleted[table.name];
    status = DeleteByTime(db, table, horizon + 1, out);
    if (!status.ok()) return status;
    deleted += out->rows_deleted[table.name] - before;
  }
  // Process rows at or before the horizon: deleted when the rule allows,
  // passed over (for this run) otherwise. The cursor moves over the
  // leading run of such rows only, so a later row is not skipped.
  bool contiguous = true;
  const int64_t cursor_before = size_process_cursor_;
  for (const ProcessRetention::Row& process : processes) {
    std::optional<int64_t> last = process.last_ms();
    const bool due = !last || *last <= horizon;
    if (!due) {
      contiguous = false;
      continue;
    }
    Result<bool> gone = processes_.MaybeDelete(db, delete_process_, process, horizon + 1, out);
    if (!gone.ok()) return gone.status();
    if (*gone) ++deleted;
    if (contiguous) size_process_cursor_ = process.process_id;
  }
  *budget -= deleted;
  if (deleted == 0 && size_process_cursor_ == cursor_before) {
    // Everything left is newer than what may go, or is kept by the rule:
    // the size cannot come down further in this run.
    phase_ = Phase::kProcesses;
  }
  return Status::Ok();
}

Status Retention::ProcessChunk(Database* db, int64_t* budget, RetentionResult* out) {
  if (!have_process_table_) {
    phase_ = Phase::kVacuum;
    return Status::Ok();
  }
  int64_t cutoff = kNoCutoff;
  if (age_cutoff_ms_ != 0) cutoff = age_cutoff_ms_;
  if (size_cutoff_ms_ != 0) cutoff = std::max(cutoff, size_cutoff_ms_ + 1);

  bool done = false;
  Status status = processes_.DeletePass(db, delete_process_, cutoff, budget, out, &done);
  if (!status.ok()) return status;
  if (done) phase_ = Phase::kVacuum;
  return Status::Ok();
}

Status Retention::VacuumChunk(Database* db, RetentionResult* out) {
  Result<int64_t> free_before = db->QueryInt("PRAGMA freelist_count");
  if (!free_before.ok()) return free_before.status();
  int64_t free_after = *free_before;
  if (*free_before > 0) {
    Status status =
        db->Exec(fmt::format("PRAGMA incremental_vacuum({})", policy_.vacuum_pages_per_step));
    if (!status.ok()) return status;
    Result<int64_t> free_now = db->QueryInt("PRAGMA freelist_count");
    if (!free_now.ok()) return free_now.status();
    free_after = *free_now;
    out->pages_vacuumed += *free_before - free_after;
  }
  // More to give back, and the last call made progress (a database made
  // without auto_vacuum=INCREMENTAL makes none): continue next step.
  if (free_after > 0 && free_after < *free_before) return Status::Ok();

  // Copy the WAL into the file and truncate both. Readers and the
  // background checkpointer may hold the WAL; the event loop must not wait
  // for them long, so this call waits a few milliseconds at most and a busy
  // checkpoint is tried again in the next steps (RetentionPolicy). Still
  // busy after the last try is not a failure of the cleanup: the WAL stays
  // until a later run truncates it, and the size checks count it meanwhile.
  Result<int64_t> busy_ms = db->QueryInt("PRAGMA busy_timeout");
  sqlite3_busy_timeout(db->handle(), policy_.checkpoint_wait_ms);
  const int rc = sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                           nullptr, nullptr);
  Status status;
  const bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
  if (rc != SQLITE_OK && !busy) status = Status::Error(db->LastError());
  sqlite3_busy_timeout(db->handle(), busy_ms.ok() ? static_cast<int>(*busy_ms) : 5000);
  if (!status.ok()) return status;
  if (busy && ++checkpoint_tries_ < policy_.checkpoint_tries) return Status::Ok();
  out->checkpoint_blocked = busy;
  out->run_finished = true;
  EndRun();
  return Status::Ok();
}

}  // namespace recorder::store
