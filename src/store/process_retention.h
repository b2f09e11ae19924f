// Which process_data rows a retention run may delete: the rule under
// "Process rows" in retention.h, learned as the run scans the database,
// and the deletions it allows. Retention (retention.h) drives it: its scan
// reports the event rows it keeps (CountReference) and every stored
// process row (Scan), its size rounds and its process phase ask for
// deletions (MaybeDelete, DeletePass).
//
// Whether a later row took a row's pid over is process identity's rule
// (enrich::PidSuccession), the one the store attributes events by.
//
// Not thread-safe; retention's caller (the store's thread) owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "enrich/process_rows.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

struct RetentionResult;

class ProcessRetention {
 public:
  // One process_data row, as the rule needs it.
  struct Row {
    int64_t process_id = 0;
    int64_t node_id = 0;
    int64_t pid = 0;
    int64_t parent_process_id = 0;  // 0: none
    std::optional<int64_t> start_ms;
    std::optional<int64_t> end_ms;
    // Last known time: the end, else the start.
    std::optional<int64_t> last_ms() const { return end_ms ? end_ms : start_ms; }
  };

  // A new run at `now_ms`: rows younger than `grace_ms` are never deleted.
  void Start(int64_t now_ms, int64_t grace_ms);
  void Clear();

  // A kept event row names `process_id`; a deleted one no longer does.
  void CountReference(int64_t process_id) { ++references_[process_id]; }
  void Unreference(int64_t process_id);
  // Reads up to `limit` process rows after `*cursor` (advanced): parent
  // links and which row each pid reaches. Sets `*read`.
  Status Scan(Database* db, int64_t* cursor, int64_t limit, int64_t* read);
  // Up to `limit` rows after `cursor`, for deciding.
  Status ReadRows(Database* db, int64_t cursor, int64_t limit, std::vector<Row>* rows) const;
  // The largest process_id now (never deleted: SQLite would hand its id
  // out again while the store may still hold it).
  Status ReadMaxProcessId(Database* db);

  // Deletes `row` when the rule allows, with `del` ("DELETE FROM
  // process_data WHERE process_id = ?1"); counts it in `out`.
  Result<bool> MaybeDelete(Database* db, Statement* del, const Row& row, int64_t cutoff_ms,
                           RetentionResult* out);
  // The process phase: one bounded chunk of the pass over process_data
  // (older than `cutoff_ms`), then the parents whose last child went
  // after the pass passed them. `*done` when nothing is left.
  Status DeletePass(Database* db, Statement* del, int64_t cutoff_ms, int64_t* budget,
                    RetentionResult* out, bool* done);

 private:
  bool Eligible(const Row& row, int64_t cutoff_ms) const;

  int64_t now_ms_ = 0;
  int64_t grace_ms_ = 0;
  int64_t max_process_id_ = 0;
  int64_t pass_cursor_ = 0;  // DeletePass; -1 once the pass is done
  // process_id -> kept event rows / process rows naming it as parent.
  std::unordered_map<int64_t, int64_t> references_;
  std::unordered_map<int64_t, int64_t> children_;
  // For each (node, pid), the row the store can still give its events to.
  enrich::PidSuccession succession_;
  // Parents whose last child went after the pass passed them.
  std::vector<int64_t> retry_parents_;
};

}  // namespace recorder::store
