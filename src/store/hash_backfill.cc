#include "store/hash_backfill.h"

#include <algorithm>

namespace recorder::store {

namespace {
SqlInt StringIdValue(int64_t id) { return id == 0 ? NullInt() : Int(id); }
}  // namespace

Result<std::unique_ptr<HashBackfill>> HashBackfill::Create(Database* db) {
  std::unique_ptr<HashBackfill> backfill(new HashBackfill(db));
  // Rows from ?1 on (the first row that said "pending" for this exe): a
  // rowid range, so no index on exe_id is needed.
  Result<std::unique_ptr<Statement>> update = db->Prepare(
      "UPDATE process_data SET sha256_id = ?3, md5_id = ?4, hash_note_id = ?5 "
      "WHERE process_id >= ?1 AND exe_id = ?2 AND hash_note_id = ?6");
  if (!update.ok()) return StoreError(*db, "prepare", update.status());
  backfill->update_ = std::move(update).value();
  return backfill;
}

void HashBackfill::NotePending(WriteTransaction* txn, int64_t exe_id, int64_t process_id) const {
  auto [it, added] = txn->pending_hashes.try_emplace(exe_id, 0);
  if (added) {
    auto committed = pending_.find(exe_id);
    if (committed != pending_.end()) it->second = committed->second;
  }
  // Already waiting from an earlier row: that one stays the first.
  if (it->second == 0) it->second = process_id;
}

int64_t HashBackfill::FirstPending(const WriteTransaction* txn, int64_t exe_id) const {
  if (txn != nullptr) {
    auto it = txn->pending_hashes.find(exe_id);
    if (it != txn->pending_hashes.end()) return it->second;
  }
  auto it = pending_.find(exe_id);
  return it != pending_.end() ? it->second : 0;
}

Result<int64_t> HashBackfill::Fill(WriteTransaction* txn, int64_t exe_id, const HashIds& ids) {
  const int64_t first = FirstPending(txn, exe_id);
  if (first == 0) return int64_t{0};
  // The statement updates the written rows; rows still waiting are
  // updated where they wait (after it, so a failed statement leaves
  // both as they were).
  Statement* stmt = update_.get();
  stmt->BindInt(1, first);
  stmt->BindInt(2, exe_id);
  stmt->BindOptionalInt(3, StringIdValue(ids.sha256));
  stmt->BindOptionalInt(4, StringIdValue(ids.md5));
  stmt->BindOptionalInt(5, StringIdValue(ids.note));
  stmt->BindInt(6, ids.pending);
  Status status = stmt->Run();
  if (!status.ok()) return StoreError(*db_, "update hashes", status);
  txn->pending_hashes[exe_id] = 0;  // filled, once the transaction commits
  const int64_t changed = db_->Changes();
  txn->rows += static_cast<size_t>(changed);
  int64_t changed_waiting = 0;
  for (ProcessRow& row : txn->waiting_processes) {
    // Both ids are strings' (never 0), so an empty column never matches.
    if (*row[ProcessColumn::kProcessId] < first || row[ProcessColumn::kExe] != exe_id ||
        row[ProcessColumn::kHashNote] != ids.pending)
      continue;
    row[ProcessColumn::kSha256] = StringIdValue(ids.sha256);
    row[ProcessColumn::kMd5] = StringIdValue(ids.md5);
    row[ProcessColumn::kHashNote] = StringIdValue(ids.note);
    ++changed_waiting;
  }
  return changed + changed_waiting;
}

Result<std::vector<std::string>> HashBackfill::Adopt(WriteTransaction* txn, int64_t recent_rows) {
  Result<std::unique_ptr<Statement>> select = db_->Prepare(
      "SELECT p.exe_id, min(p.process_id), s.value FROM process_data p "
      "JOIN strings s ON s.id = p.exe_id "
      "WHERE p.process_id > (SELECT coalesce(max(process_id), 0) FROM process_data) - ?1 "
      "AND p.hash_note_id = (SELECT id FROM strings WHERE value = 'pending') "
      "GROUP BY p.exe_id");
  if (!select.ok()) return StoreError(*db_, "find pending hashes", select.status());
  (*select)->BindInt(1, recent_rows);
  // Rows of the open transaction were noted as it wrote them; committed
  // rows are what an earlier run (or this one) left behind.
  const int64_t uncommitted = txn != nullptr ? txn->first_process_id : INT64_MAX;
  std::vector<std::string> exes;
  while (true) {
    Result<bool> row = (*select)->Step();
    if (!row.ok()) return StoreError(*db_, "find pending hashes", row.status());
    if (!*row) break;
    const int64_t exe_id = (*select)->ColumnInt(0);
    const int64_t first = (*select)->ColumnInt(1);
    if (first < uncommitted) {
      auto [it, added] = pending_.try_emplace(exe_id, first);
      if (!added) it->second = std::min(it->second, first);
      // What the open transaction says of this exe hides the committed
      // entry: it must wait from these rows on too.
      if (txn != nullptr) {
        auto open = txn->pending_hashes.find(exe_id);
        if (open != txn->pending_hashes.end())
          open->second = open->second == 0 ? first : std::min(open->second, first);
      }
    }
    exes.emplace_back((*select)->ColumnText(2));
  }
  return exes;
}

void HashBackfill::Commit(const WriteTransaction& txn) {
  for (const auto& [exe_id, first] : txn.pending_hashes) {
    if (first == 0)
      pending_.erase(exe_id);
    else
      pending_[exe_id] = first;
  }
}

}  // namespace recorder::store
