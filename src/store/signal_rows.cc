// Signal matches and rules (schema versions 12 and 13): the rows the signal stage's
// TypedEvent::signals become, and the loaded rules.
#include <set>
#include <tuple>

#include "store/event_store.h"
#include "store/event_store_statements.h"

namespace recorder::store {

Status EventStore::WriteSignalMatches(const TypedEvent& event, const char* table,
                                      BatchedInsert* batch, int64_t row, int64_t process_id) {
  if (options_.signal_match_limit <= 0) return Status::Ok();
  if (batch != nullptr) {
    // The event's row is the last one queued: written now, its id is the
    // connection's last insert. Matches are rare, so this flush costs
    // little.
    Status flushed = batch->Flush();
    if (!flushed.ok()) return Fail("write", flushed);
    row = db_->LastInsertRowid();
  }
  Statement* insert = sql_->insert_signal_match.get();
  for (const SignalHit& hit : event.signals) {
    insert->BindInt(1, event.header.time_ms);
    insert->BindText(2, hit.rule_id);
    insert->BindText(3, hit.title);
    insert->BindText(4, hit.level);
    insert->BindText(5, hit.author);
    insert->BindText(6, table);
    insert->BindInt(7, row);
    insert->BindInt(8, process_id);
    insert->BindText(9, hit.selection);
    Status status = insert->Run();
    if (!status.ok()) return Fail("write", status);
    runs_->Count(&StoreCounters::signal_matches);
    Statement* trim = sql_->trim_signal_matches.get();
    trim->BindInt(1, db_->LastInsertRowid());
    trim->BindInt(2, options_.signal_match_limit);
    status = trim->Run();
    if (!status.ok()) return Fail("write", status);
    for (int64_t removed = db_->Changes(); removed > 0; --removed)
      runs_->Count(&StoreCounters::signal_matches_removed);
  }
  return Status::Ok();
}

Status EventStore::StoreSignalRules(const std::vector<SignalRuleRow>& rules, int64_t wall_ms) {
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  status = db_->Exec("DELETE FROM signal_rule_data");
  if (!status.ok()) return Fail("store the signal rules", status);
  Statement* insert = sql_->insert_signal_rule.get();
  for (const SignalRuleRow& r : rules) {
    insert->BindText(1, r.rule_id);
    insert->BindText(2, r.title);
    insert->BindText(3, r.level);
    insert->BindText(4, r.author);
    insert->BindText(5, r.status);
    insert->BindText(6, r.description);
    insert->BindText(7, r.logsource);
    insert->BindText(8, r.file);
    insert->BindText(9, r.condition);
    insert->BindInt(10, wall_ms);
    status = insert->Run();
    if (!status.ok()) return Fail("store the signal rules", status);
  }
  return Status::Ok();
}

Result<HuntStoreCounts> EventStore::StoreHuntMatches(const std::vector<HuntMatchRow>& rows,
                                                     int64_t hunt_ms) {
  HuntStoreCounts counts;
  if (options_.signal_match_limit <= 0 || rows.empty()) return counts;
  Status status = BeginBatchIfNeeded(options_.clock());
  if (!status.ok()) return status;
  // The matches kept are few (RecordSignalMatches): one pass reads them.
  using Key = std::tuple<std::string, std::string, int64_t>;
  std::set<Key> stored;
  {
    Result<std::unique_ptr<Statement>> select =
        db_->Prepare("SELECT rule_id, event_table, event_row FROM signal_match_data");
    if (!select.ok()) return Fail("read the signal matches", select.status());
    while (true) {
      Result<bool> row = (*select)->Step();
      if (!row.ok()) return Fail("read the signal matches", row.status());
      if (!*row) break;
      stored.emplace((*select)->ColumnText(0), (*select)->ColumnText(1), (*select)->ColumnInt(2));
    }
  }
  Statement* insert = sql_->insert_hunt_match.get();
  Statement* trim = sql_->trim_signal_matches.get();
  for (const HuntMatchRow& r : rows) {
    if (!stored.emplace(r.rule_id, r.event_table, r.event_row).second) {
      ++counts.already;
      continue;
    }
    insert->BindInt(1, r.time);
    insert->BindText(2, r.rule_id);
    insert->BindText(3, r.title);
    insert->BindText(4, r.level);
    insert->BindText(5, r.author);
    insert->BindText(6, r.event_table);
    insert->BindInt(7, r.event_row);
    insert->BindInt(8, r.process_id);
    insert->BindText(9, r.selection);
    insert->BindInt(10, hunt_ms);
    status = insert->Run();
    if (!status.ok()) return Fail("store the hunt's matches", status);
    ++counts.stored;
    trim->BindInt(1, db_->LastInsertRowid());
    trim->BindInt(2, options_.signal_match_limit);
    status = trim->Run();
    if (!status.ok()) return Fail("store the hunt's matches", status);
    counts.removed += db_->Changes();
  }
  return counts;
}

}  // namespace recorder::store
