// The hash back-fill: executable hashes that arrive after their process
// rows. The enrich stage writes a row with hash_note "pending" when the
// HashWorker has not hashed its exe yet; the owner hands each completion
// to EventStore::UpdateHashes, which lands here and fills every row of
// that exe still waiting: written ones by an UPDATE, ones still waiting
// in the transaction where they wait.
//
// Which exes have waiting rows is kept per exe as the first such row
// (process rows are numbered in order, so the UPDATE is a rowid range and
// needs no index on exe_id). A transaction's changes to that set live in
// its WriteTransaction and count only once it commits: a rolled-back
// update leaves its rows waiting, and the next completion fills them.
//
// Not thread-safe; the store's writer thread owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sqlite_db.h"
#include "store/write_transaction.h"
#include "util/status.h"

namespace recorder::store {

// The string ids a completion writes (0: NULL).
struct HashIds {
  int64_t sha256 = 0;
  int64_t md5 = 0;
  int64_t note = 0;
  int64_t pending = 0;  // of "pending": the rows to fill still say it
};

class HashBackfill {
 public:
  static Result<std::unique_ptr<HashBackfill>> Create(Database* db);

  // A row of `exe_id` was written (or queued) in `txn` saying "pending".
  void NotePending(WriteTransaction* txn, int64_t exe_id, int64_t process_id) const;
  // The first row of `exe_id` waiting for its hash as `txn` (null: none
  // open) sees it; 0 when none waits.
  int64_t FirstPending(const WriteTransaction* txn, int64_t exe_id) const;
  // Fills the waiting rows of `exe_id`; how many changed. Part of `txn`.
  Result<int64_t> Fill(WriteTransaction* txn, int64_t exe_id, const HashIds& ids);
  // Rows an earlier run left "pending": makes Fill find them too, and
  // returns their distinct exe paths. Looks at the last `recent_rows`
  // process rows only. `txn` may be null; rows it wrote are known already.
  Result<std::vector<std::string>> Adopt(WriteTransaction* txn, int64_t recent_rows);
  // `txn` committed: its changes hold from now on.
  void Commit(const WriteTransaction& txn);

 private:
  explicit HashBackfill(Database* db) : db_(db) {}

  Database* db_;
  std::unique_ptr<Statement> update_;
  // Committed: exe id -> first process row waiting for its hash.
  std::unordered_map<int64_t, int64_t> pending_;
};

}  // namespace recorder::store
