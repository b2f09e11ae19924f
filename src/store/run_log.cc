#include "store/run_log.h"

#include <fmt/format.h>

#include <string>

#include "store/write_transaction.h"

namespace recorder::store {
namespace {

// The UPDATE's parameter of dropped_cap_<kind 0>; the other kinds follow.
constexpr size_t kFirstCapParameter = 29;
// ... and of filtered_out_<kind 0>, after them.
constexpr size_t kFirstFilteredParameter = kFirstCapParameter + kRunEventKinds;
// ... and of dns_events, after those, then dns_unattributed.
constexpr size_t kDnsEventsParameter = kFirstFilteredParameter + kRunEventKinds;
constexpr size_t kDnsUnattributedParameter = kDnsEventsParameter + 1;
constexpr size_t kRegistryEventsParameter = kDnsUnattributedParameter + 1;
constexpr size_t kEvtxRecordsParameter = kRegistryEventsParameter + 1;
constexpr size_t kEvtxOtherChannelsParameter = kEvtxRecordsParameter + 1;
// ... and of signal_matches and signal_matches_removed, after them.
constexpr size_t kSignalParameter = kEvtxOtherChannelsParameter + 1;

}  // namespace

Result<std::unique_ptr<RunLog>> RunLog::Create(Database* db) {
  std::unique_ptr<RunLog> log(new RunLog(db));
  Result<std::unique_ptr<Statement>> insert =
      db->Prepare("INSERT INTO run_data(source, start_time) VALUES (?1, ?2)");
  if (!insert.ok()) return StoreError(*db, "prepare", insert.status());
  log->insert_ = std::move(insert).value();
  std::string sql =
      "UPDATE run_data SET end_time = ?2, lines = ?3, bytes = ?4, records = ?5, malformed = ?6, "
      "truncated = ?7, audit_events = ?8, partial_events = ?9, ignored_events = ?10, "
      "process_starts = ?11, process_ends = ?12, file_events = ?13, network_events = ?14, "
      "security_events = ?15, module_events = ?16, placeholder_processes = ?17, "
      "duplicates = ?18, kernel_lost = ?19, dropped_backlog = ?20, dropped_queue_full = ?21, "
      "dropped_other = ?22, error = ?23, unresolved_paths = ?24, failed_execs = ?25, note = ?26, "
      "serial_gaps = ?27, unresolved_ports = ?28";
  for (size_t kind = 0; kind < kRunEventKinds; ++kind)
    sql += fmt::format(", dropped_cap_{} = ?{}", EventKindName(kind), kFirstCapParameter + kind);
  for (size_t kind = 0; kind < kRunEventKinds; ++kind)
    sql +=
        fmt::format(", filtered_out_{} = ?{}", EventKindName(kind), kFirstFilteredParameter + kind);
  sql += fmt::format(", dns_events = ?{}, dns_unattributed = ?{}", kDnsEventsParameter,
                     kDnsUnattributedParameter);
  sql += fmt::format(", registry_events = ?{}", kRegistryEventsParameter);
  sql += fmt::format(", evtx_records = ?{}, evtx_other_channels = ?{}", kEvtxRecordsParameter,
                     kEvtxOtherChannelsParameter);
  sql += fmt::format(", signal_matches = ?{}, signal_matches_removed = ?{}", kSignalParameter,
                     kSignalParameter + 1);
  sql += " WHERE run_id = ?1";
  Result<std::unique_ptr<Statement>> update = db->Prepare(sql);
  if (!update.ok()) return StoreError(*db, "prepare", update.status());
  log->update_ = std::move(update).value();
  return log;
}

Result<int64_t> RunLog::Begin(std::string_view source, int64_t wall_ms,
                              const StoreCounters& carried) {
  insert_->BindText(1, source);
  insert_->BindInt(2, wall_ms);
  Status status = insert_->Run();
  if (!status.ok()) return StoreError(*db_, "record the run", status);
  run_id_ = db_->LastInsertRowid();
  run_ = carried;
  return run_id_;
}

Status RunLog::Record(const RunStats& stats, int64_t wall_ms) {
  if (run_id_ == 0) return Status::Errorf("{}: RecordRunStats before BeginRun", db_->path());
  Statement* stmt = update_.get();
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
  stmt->BindInt(24, u(run_.unresolved_paths));
  stmt->BindInt(25, u(run_.failed_execs));
  if (stats.note.empty())
    stmt->BindNull(26);
  else
    stmt->BindText(26, stats.note);
  stmt->BindInt(27, u(stats.serial_gaps));
  stmt->BindInt(28, u(run_.unresolved_ports));
  for (size_t kind = 0; kind < kRunEventKinds; ++kind)
    stmt->BindInt(static_cast<int>(kFirstCapParameter + kind), u(stats.cap_dropped_by_kind[kind]));
  for (size_t kind = 0; kind < kRunEventKinds; ++kind)
    stmt->BindInt(static_cast<int>(kFirstFilteredParameter + kind),
                  u(stats.filtered_out_by_kind[kind]));
  stmt->BindInt(static_cast<int>(kDnsEventsParameter), u(run_.dns_events));
  stmt->BindInt(static_cast<int>(kDnsUnattributedParameter), u(run_.dns_unattributed));
  stmt->BindInt(static_cast<int>(kRegistryEventsParameter), u(run_.registry_events));
  stmt->BindInt(static_cast<int>(kEvtxRecordsParameter), u(stats.evtx_records));
  stmt->BindInt(static_cast<int>(kEvtxOtherChannelsParameter), u(stats.evtx_other_channels));
  stmt->BindInt(static_cast<int>(kSignalParameter), u(run_.signal_matches));
  stmt->BindInt(static_cast<int>(kSignalParameter + 1), u(run_.signal_matches_removed));
  Status status = stmt->Run();
  if (!status.ok()) return StoreError(*db_, "record the run", status);
  return Status::Ok();
}

}  // namespace recorder::store
