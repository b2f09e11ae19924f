#include "store/views.h"

#include <fmt/format.h>

namespace recorder::store {

std::string SqlQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}

namespace {

std::string Utc(std::string_view column) {
  return fmt::format("strftime('%Y-%m-%dT%H:%M:%fZ', {} / 1000.0, 'unixepoch')", column);
}

// Interned strings are ids into `strings`.
std::string Str(std::string_view id_column) {
  return fmt::format("(SELECT value FROM strings WHERE id = {})", id_column);
}

// The columns every event view starts with: the event's time and process.
std::string EventHead() {
  return fmt::format(
      "  e.time, {} AS time_utc,\n"
      "  e.process_id, p.pid, {} AS exe,\n"
      "  {} AS user,\n",
      Utc("e.time"), Str("p.exe_id"), Str("e.user_id"));
}

constexpr std::string_view kJoinProcess = "JOIN process_data p ON p.process_id = e.process_id";

std::vector<ViewDefinition> MakeViews() {
  std::vector<ViewDefinition> views;
  auto add = [&](std::string name, std::string body) {
    views.push_back({name, fmt::format("CREATE VIEW {} AS SELECT\n{}", name, body)});
  };

  add("processes",
      fmt::format("  p.process_id, p.pid, p.ppid, p.parent_process_id,\n"
                  "  p.start_time, {} AS start_time_utc,\n"
                  "  p.end_time, {} AS end_time_utc,\n"
                  "  p.exit_code,\n"
                  "  {} AS exe,\n"
                  "  coalesce({}, c.cmdline) AS cmdline, c.argv,\n"
                  "  {} AS cwd,\n"
                  "  p.uid, {} AS user,\n"
                  "  p.euid, {} AS euser,\n"
                  "  p.auid, {} AS login_user,\n"
                  "  p.ses AS session,\n"
                  "  {} AS tty,\n"
                  "  {} AS sha256,\n"
                  "  {} AS md5,\n"
                  "  {} AS hash_note,\n"
                  "  p.success,\n"
                  "  {} AS comm,\n"
                  "  {} AS node,\n"
                  "  (p.flags & 1) AS placeholder,\n"
                  "  ((p.flags & 2) >> 1) AS argv_truncated,\n"
                  "  ifnull(p.path_search_attempts, 0) AS path_search_attempts,\n"
                  "  w.guid AS process_guid, w.parent_guid AS parent_process_guid,\n"
                  "  w.logon_id, {} AS integrity_level, w.sha1, w.imphash\n"
                  "FROM process_data p LEFT JOIN commands c ON c.id = p.command_id\n"
                  "  LEFT JOIN windows_process_data w ON w.process_id = p.process_id",
                  Utc("p.start_time"), Utc("p.end_time"), Str("p.exe_id"), Str("w.command_line_id"),
                  Str("p.cwd_id"), Str("p.user_id"), Str("p.euser_id"), Str("p.login_user_id"),
                  Str("p.tty_id"), Str("p.sha256_id"), Str("p.md5_id"), Str("p.hash_note_id"),
                  Str("p.comm_id"), Str("p.node_id"), Str("w.integrity_level_id")));

  add("file_events",
      fmt::format("{}"
                  "  {} AS operation,\n"
                  "  {} AS path,\n"
                  "  {} AS new_path,\n"
                  "  e.success, e.uid, e.mode, e.owner_uid, e.owner_gid,\n"
                  "  coalesce(e.path_unresolved, 0) AS path_unresolved,\n"
                  "  e.path_dir_dev, e.path_dir_inode,\n"
                  "  coalesce(e.new_path_unresolved, 0) AS new_path_unresolved,\n"
                  "  e.new_path_dir_dev, e.new_path_dir_inode,\n"
                  "  {} AS node\n"
                  "FROM file_data e {}",
                  EventHead(), SqlCase("e.operation", kFileOperationCodes), Str("e.path_id"),
                  Str("e.new_path_id"), Str("p.node_id"), kJoinProcess));

  add("network_events",
      fmt::format("{}"
                  "  {} AS direction,\n"
                  "  {} AS protocol,\n"
                  "  {} AS family,\n"
                  "  {} AS local_address, e.local_port,\n"
                  "  {} AS remote_address, e.remote_port,\n"
                  "  e.success, e.uid, e.in_progress,\n"
                  "  {} AS node\n"
                  "FROM network_data e {}",
                  EventHead(), SqlCase("e.direction", kNetworkDirectionCodes),
                  SqlCase("e.protocol", kNetworkProtocolCodes),
                  SqlCase("e.family", kAddressFamilyCodes), Str("e.local_address_id"),
                  Str("e.remote_address_id"), Str("p.node_id"), kJoinProcess));

  // `user` here is the acting user as the record names it (security_data
  // has no enrichment column of its own).
  add("security_events",
      fmt::format("  e.time, {} AS time_utc,\n"
                  "  e.process_id, p.pid, {} AS exe,\n"
                  "  {} AS kind,\n"
                  "  {} AS user,\n"
                  "  {} AS target_user,\n"
                  "  {} AS result,\n"
                  "  {} AS terminal,\n"
                  "  {} AS address,\n"
                  "  {} AS detail,\n"
                  "  {} AS record_type,\n"
                  "  {} AS hostname,\n"
                  "  e.success, e.uid,\n"
                  "  {} AS node\n"
                  "FROM security_data e {}",
                  Utc("e.time"), Str("p.exe_id"), SqlCase("e.kind", kSecurityKindCodes),
                  Str("e.user_id"), Str("e.target_user_id"),
                  SqlCase("e.result", kSecurityResultCodes), Str("e.terminal_id"),
                  Str("e.address_id"), Str("e.detail_id"),
                  SqlCase("e.record_type", kSecurityRecordTypeCodes), Str("e.hostname_id"),
                  Str("p.node_id"), kJoinProcess));

  add("module_events", fmt::format("{}"
                                   "  {} AS operation,\n"
                                   "  {} AS module,\n"
                                   "  e.success, e.uid,\n"
                                   "  {} AS node\n"
                                   "FROM module_data e {}",
                                   EventHead(), SqlCase("e.operation", kModuleOperationCodes),
                                   Str("e.module_id"), Str("p.node_id"), kJoinProcess));

  add("image_events", fmt::format("{}"
                                  "  {} AS path, e.sha256, e.uid,\n"
                                  "  {} AS node\n"
                                  "FROM image_data e {}",
                                  EventHead(), Str("e.path_id"), Str("p.node_id"), kJoinProcess));

  // LEFT JOIN: a row whose process the capture could not tell has no
  // process_id; its pid is the capture's (NULL too for the packet socket).
  add("dns_events",
      fmt::format("  e.time, {} AS time_utc,\n"
                  "  e.process_id, coalesce(p.pid, e.pid) AS pid, {} AS exe,\n"
                  "  {} AS user,\n"
                  "  e.query, e.type, e.class,\n"
                  "  e.response_seen, e.rcode, e.response, e.answers,\n"
                  "  {} AS transport,\n"
                  "  {} AS family,\n"
                  "  {} AS server_address, e.server_port,\n"
                  "  e.latency_us, e.dns_id, e.uid,\n"
                  "  {} AS attribution,\n"
                  "  {} AS node\n"
                  "FROM dns_data e LEFT JOIN process_data p ON p.process_id = e.process_id",
                  Utc("e.time"), Str("p.exe_id"), Str("e.user_id"),
                  SqlCase("e.transport", kNetworkProtocolCodes),
                  SqlCase("e.family", kAddressFamilyCodes), Str("e.server_address_id"),
                  SqlCase("e.attribution", kDnsAttributionCodes), Str("p.node_id")));

  // Windows registry changes (Sysmon 12/13/14): EventType as Sysmon
  // writes it.
  add("registry_events",
      fmt::format("{}"
                  "  {} AS event_type,\n"
                  "  {} AS target_object,\n"
                  "  {} AS details,\n"
                  "  {} AS new_name,\n"
                  "  {} AS node\n"
                  "FROM registry_data e {}",
                  EventHead(), Str("e.event_type_id"), Str("e.target_object_id"),
                  Str("e.details_id"), Str("e.new_name_id"), Str("p.node_id"), kJoinProcess));

  // Every stored Sysmon record whole: EventData as JSON under Sysmon's
  // field names (json_extract(data, '$.CommandLine')).
  add("sysmon_events", fmt::format("  e.time, {} AS time_utc,\n"
                                   "  {} AS node, e.record_id, e.event_id,\n"
                                   "  e.process_id, e.data\n"
                                   "FROM sysmon_data e",
                                   Utc("e.time"), Str("e.node_id")));

  // process_id, pid and exe are the caller's: a failed exec starts nothing.
  add("failed_execs",
      fmt::format("{}"
                  "  {} AS path,\n"
                  "  {} AS error,\n"
                  "  e.errno,\n"
                  "  {} AS cwd,\n"
                  "  e.uid,\n"
                  "  {} AS node\n"
                  "FROM failed_exec_data e {}",
                  EventHead(), Str("e.path_id"), SqlCase("e.errno", kExecErrnoCodes),
                  Str("e.cwd_id"), Str("p.node_id"), kJoinProcess));

  add("runs",
      fmt::format("  run_id, source,\n"
                  "  start_time, {} AS start_time_utc,\n"
                  "  end_time, {} AS end_time_utc,\n"
                  "  lines, bytes, records, malformed, truncated, audit_events, partial_events,\n"
                  "  ignored_events,\n"
                  "  process_starts + process_ends + file_events + network_events\n"
                  "    + security_events + module_events + failed_execs + dns_events\n"
                  "    + registry_events\n"
                  "    AS events_stored,\n"
                  "  process_starts, process_ends, file_events, network_events, security_events,\n"
                  "  module_events,\n"
                  "  placeholder_processes, duplicates,\n"
                  "  kernel_lost, dropped_backlog, dropped_queue_full, dropped_other,\n"
                  "  kernel_lost + dropped_backlog + dropped_queue_full + dropped_other\n"
                  "    AS events_lost,\n"
                  "  error, unresolved_paths,\n"
                  "  failed_execs, note, serial_gaps,\n"
                  "  dropped_cap_process_start, dropped_cap_process_end, dropped_cap_file,\n"
                  "  dropped_cap_network, dropped_cap_security, dropped_cap_module,\n"
                  "  dropped_cap_image, dropped_cap_failed_exec,\n"
                  "  filtered_out_process_start, filtered_out_process_end, filtered_out_file,\n"
                  "  filtered_out_network, filtered_out_security, filtered_out_module,\n"
                  "  filtered_out_image, filtered_out_failed_exec,\n"
                  "  unresolved_ports, dns_events, dropped_cap_dns, filtered_out_dns,\n"
                  "  dns_unattributed,\n"
                  "  registry_events, dropped_cap_registry, filtered_out_registry,\n"
                  "  evtx_records, evtx_other_channels,\n"
                  "  signal_matches, signal_matches_removed\n"
                  "FROM run_data",
                  Utc("start_time"), Utc("end_time")));

  add("signal_matches",
      fmt::format(
          "  s.id, s.time, {} AS time_utc,\n"
          "  s.rule_id, s.title, s.level, s.author,\n"
          "  s.event_table, s.event_row, s.process_id, p.pid, {} AS exe,\n"
          "  s.selection,\n"
          "  s.hunt_time, {} AS hunt_time_utc\n"
          "FROM signal_match_data s LEFT JOIN process_data p ON p.process_id = s.process_id",
          Utc("s.time"), Str("p.exe_id"), Utc("s.hunt_time")));

  add("signal_rules",
      fmt::format("  rule_id, title, level, author, status, description, logsource, file,\n"
                  "  condition, loaded_time, {} AS loaded_time_utc\n"
                  "FROM signal_rule_data",
                  Utc("loaded_time")));
  return views;
}

}  // namespace

const std::vector<ViewDefinition>& CurrentViews() {
  static const std::vector<ViewDefinition> views = MakeViews();
  return views;
}

}  // namespace recorder::store
