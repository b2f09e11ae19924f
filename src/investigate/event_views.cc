#include "investigate/event_views.h"

#include <fmt/format.h>

namespace recorder::investigate {
namespace {

constexpr KindSource kSources[] = {
    {EventKind::kExec, "processes", "process_data", "start_time", "success",
     "ifnull(cmdline, exe)"},
    {EventKind::kExit, "processes", "process_data", "end_time", "NULL",
     "'exit ' || ifnull(exit_code, '?')"},
    {EventKind::kFile, "file_events", "file_data", "time", "success",
     "operation || ' ' || ifnull(path, '?') || ifnull(' -> ' || new_path, '')"},
    {EventKind::kNetwork, "network_events", "network_data", "time", "success",
     "direction || ifnull(' ' || protocol, '') || "
     "ifnull(' remote ' || remote_address || ifnull(':' || remote_port, ''), '') || "
     "ifnull(' local ' || local_address || ifnull(':' || local_port, ''), '')"},
    {EventKind::kSecurity, "security_events", "security_data", "time", "success",
     "kind || ' ' || ifnull(result, '') || ifnull(' target=' || target_user, '') || "
     "ifnull(' address=' || address, '') || ifnull(' terminal=' || terminal, '') || "
     "ifnull(' ' || detail, '')"},
    {EventKind::kModule, "module_events", "module_data", "time", "success",
     "operation || ' ' || ifnull(module, '?')"},
    {EventKind::kImage, "image_events", "image_data", "time", "NULL",
     "'load ' || ifnull(path, '?') || ifnull(' sha256=' || sha256, '')"},
    {EventKind::kDns, "dns_events", "dns_data", "time", "NULL",
     "'query ' || ifnull(query, '?') || ifnull(' ' || type, '') || CASE WHEN response_seen "
     "THEN ' ' || ifnull(rcode, '') || ifnull(' -> ' || nullif(response, ''), '') "
     "ELSE ' no response' END"},
    {EventKind::kFailedExec, "failed_execs", "failed_exec_data", "time", "NULL",
     "'exec ' || ifnull(path, '?') || ' failed: ' || ifnull(error, 'errno ' || errno)"},
    {EventKind::kRegistry, "registry_events", "registry_data", "time", "NULL",
     "ifnull(event_type, '?') || ' ' || ifnull(target_object, '?') || "
     "ifnull(' = ' || details, '') || ifnull(' -> ' || new_name, '')"},
};

EventRow ReadEvent(const store::Statement& s) {
  EventRow row;
  row.time = s.ColumnInt(0);
  row.kind = static_cast<EventKind>(s.ColumnInt(1));
  row.process_id = s.ColumnInt(2);
  row.pid = s.ColumnInt(3);
  row.exe = s.ColumnText(4);
  row.user = s.ColumnText(5);
  if (s.ColumnType(6) != SQLITE_NULL) row.success = s.ColumnInt(6) != 0;
  row.detail = s.ColumnText(7);
  return row;
}

}  // namespace

Result<std::vector<EventRow>> ReadEventRows(store::Statement& stmt) {
  std::vector<EventRow> rows;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return rows;
    rows.push_back(ReadEvent(stmt));
  }
}

std::span<const KindSource> KindSources() { return kSources; }

const KindSource& SourceOf(EventKind kind) { return kSources[static_cast<int>(kind)]; }

std::string SelectArm(const KindSource& source, std::string_view conditions) {
  return fmt::format(
      "SELECT {0} AS time, {1} AS kind, process_id, pid, exe, user, {2} AS success, {3} AS detail "
      "FROM {4} WHERE {0} IS NOT NULL{5}",
      source.time, static_cast<int>(source.kind), source.success, source.detail, source.view,
      fmt::format(fmt::runtime(conditions), fmt::arg("time", source.time)));
}

}  // namespace recorder::investigate
