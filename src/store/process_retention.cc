#include "store/process_retention.h"

#include <fmt/format.h>

#include <algorithm>

#include "store/retention.h"

namespace recorder::store {

namespace {

constexpr char kProcessTable[] = "process_data";
// The columns ReadRow reads, in its order.
constexpr char kRowColumns[] = "process_id, node_id, pid, parent_process_id, start_time, end_time";

std::optional<int64_t> OptionalInt(const Statement& stmt, int col) {
  if (stmt.ColumnType(col) == SQLITE_NULL) return std::nullopt;
  return stmt.ColumnInt(col);
}

void ReadRow(const Statement& stmt, ProcessRetention::Row* row) {
  row->process_id = stmt.ColumnInt(0);
  row->node_id = stmt.ColumnInt(1);
  row->pid = stmt.ColumnInt(2);
  row->parent_process_id = stmt.ColumnType(3) == SQLITE_NULL ? 0 : stmt.ColumnInt(3);
  row->start_ms = OptionalInt(stmt, 4);
  row->end_ms = OptionalInt(stmt, 5);
}

}  // namespace

void ProcessRetention::Start(int64_t now_ms, int64_t grace_ms) {
  Clear();
  now_ms_ = now_ms;
  grace_ms_ = grace_ms;
}

void ProcessRetention::Clear() {
  now_ms_ = 0;
  grace_ms_ = 0;
  max_process_id_ = 0;
  pass_cursor_ = 0;
  references_.clear();
  children_.clear();
  succession_.Clear();
  retry_parents_.clear();
}

void ProcessRetention::Unreference(int64_t process_id) {
  auto it = references_.find(process_id);
  if (it == references_.end()) return;
  if (--it->second <= 0) references_.erase(it);
}

Status ProcessRetention::Scan(Database* db, int64_t* cursor, int64_t limit, int64_t* read) {
  Result<std::unique_ptr<Statement>> select = db->Prepare(
      "SELECT process_id, node_id, pid, parent_process_id, success FROM "
      "process_data WHERE process_id > ?1 ORDER BY process_id LIMIT ?2");
  if (!select.ok()) return select.status();
  Statement* stmt = select->get();
  stmt->BindInt(1, *cursor);
  stmt->BindInt(2, limit);
  *read = 0;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ++*read;
    const int64_t process_id = stmt->ColumnInt(0);
    *cursor = process_id;
    if (stmt->ColumnType(3) != SQLITE_NULL && stmt->ColumnInt(3) != 0)
      ++children_[stmt->ColumnInt(3)];
    // A placeholder's success is NULL.
    const bool placeholder = stmt->ColumnType(4) == SQLITE_NULL;
    succession_.Note(enrich::StoredProcessKey(stmt->ColumnInt(1), stmt->ColumnInt(2)), process_id,
                     placeholder, !placeholder && stmt->ColumnInt(4) != 0);
  }
  return Status::Ok();
}

Status ProcessRetention::ReadRows(Database* db, int64_t cursor, int64_t limit,
                                  std::vector<Row>* rows) const {
  Result<std::unique_ptr<Statement>> select = db->Prepare(
      fmt::format("SELECT {} FROM process_data WHERE process_id > ?1 ORDER BY process_id LIMIT ?2",
                  kRowColumns));
  if (!select.ok()) return select.status();
  (*select)->BindInt(1, cursor);
  (*select)->BindInt(2, limit);
  while (true) {
    Result<bool> row = (*select)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Row process;
    ReadRow(**select, &process);
    rows->push_back(process);
  }
  return Status::Ok();
}

Status ProcessRetention::ReadMaxProcessId(Database* db) {
  Result<int64_t> max_id = db->QueryInt("SELECT coalesce(max(process_id), 0) FROM process_data");
  if (!max_id.ok()) return max_id.status();
  max_process_id_ = *max_id;
  return Status::Ok();
}

bool ProcessRetention::Eligible(const Row& row, int64_t cutoff_ms) const {
  // SQLite gives the largest rowid + 1 to the next insert: deleting the
  // last row would hand its id to a new process while the store may still
  // hold the old one in memory.
  if (row.process_id >= max_process_id_) return false;
  if (references_.count(row.process_id) != 0) return false;
  if (children_.count(row.process_id) != 0) return false;
  const bool superseded =
      succession_.Superseded(enrich::StoredProcessKey(row.node_id, row.pid), row.process_id);
  if (std::optional<int64_t> last = row.last_ms();
      last && (*last >= cutoff_ms || *last >= now_ms_ - grace_ms_))
    return false;
  // Over when it ended, or when a later process took its pid (a row with
  // no time at all is over only then).
  return row.end_ms.has_value() || superseded;
}

Result<bool> ProcessRetention::MaybeDelete(Database* db, Statement* del, const Row& row,
                                           int64_t cutoff_ms, RetentionResult* out) {
  if (!Eligible(row, cutoff_ms)) return false;
  del->BindInt(1, row.process_id);
  Status status = del->Run();
  if (!status.ok()) return status;
  out->rows_deleted[kProcessTable] += db->Changes();
  if (row.parent_process_id != 0) {
    auto it = children_.find(row.parent_process_id);
    if (it != children_.end() && --it->second <= 0) {
      children_.erase(it);
      retry_parents_.push_back(row.parent_process_id);
    }
  }
  return true;
}

Status ProcessRetention::DeletePass(Database* db, Statement* del, int64_t cutoff_ms,
                                    int64_t* budget, RetentionResult* out, bool* done) {
  *done = false;
  Status status = ReadMaxProcessId(db);
  if (!status.ok()) return status;
  if (pass_cursor_ >= 0) {
    const int64_t limit = *budget;
    std::vector<Row> rows;
    status = ReadRows(db, pass_cursor_, limit, &rows);
    if (!status.ok()) return status;
    out->rows_scanned += static_cast<int64_t>(rows.size());
    *budget -= std::max<int64_t>(static_cast<int64_t>(rows.size()), 1);
    for (const Row& process : rows) {
      Result<bool> gone = MaybeDelete(db, del, process, cutoff_ms, out);
      if (!gone.ok()) return gone.status();
      pass_cursor_ = process.process_id;
    }
    if (static_cast<int64_t>(rows.size()) < limit) pass_cursor_ = -1;  // pass done
    return Status::Ok();
  }

  // After the pass: parents whose last child went in this run.
  Result<std::unique_ptr<Statement>> select =
      db->Prepare(fmt::format("SELECT {} FROM process_data WHERE process_id = ?1", kRowColumns));
  if (!select.ok()) return select.status();
  while (!retry_parents_.empty() && *budget > 0) {
    const int64_t id = retry_parents_.back();
    retry_parents_.pop_back();
    --*budget;
    (*select)->BindInt(1, id);
    Result<bool> row = (*select)->Step();
    if (!row.ok()) return row.status();
    if (!*row) {
      (*select)->Reset();
      continue;
    }
    Row process;
    ReadRow(**select, &process);
    (*select)->Reset();
    Result<bool> gone = MaybeDelete(db, del, process, cutoff_ms, out);
    if (!gone.ok()) return gone.status();
  }
  *done = retry_parents_.empty();
  return Status::Ok();
}

}  // namespace recorder::store
