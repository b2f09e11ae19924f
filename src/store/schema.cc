#include "store/schema.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <string>

#include "normalize/event_codes.h"
#include "store/views.h"

namespace recorder::store {

namespace {

// Version 1. Design notes (the why; docs/schema.md has the what):
// - Every table but audit_events is a rowid table appended in arrival
//   order, which is (nearly) time order: inserts touch only the rightmost
//   b-tree page. No index on pid or path: those would be written in
//   random order and cost more than the rare query they speed up.
// - audit_events is the idempotence key: one row per stored audit event,
//   keyed (time, serial, node_id) WITHOUT ROWID. Its key is time-ordered
//   too, so the uniqueness check is an append, not a random probe.
// - Strings that repeat (exe, cwd, paths, addresses, users, tty, node)
//   are stored once in `strings`; command lines once per distinct argv in
//   `commands` (argv as JSON plus the shell-quoted cmdline, so the views
//   need no custom SQL function).
//
// Migrations change tables only. The views are views.cc's, (re)created
// by PrepareSchema; the views that versions 1 to 3 created are dropped
// by version 4.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE strings(
  id INTEGER PRIMARY KEY,
  value TEXT NOT NULL UNIQUE
);
CREATE TABLE commands(
  id INTEGER PRIMARY KEY,
  argv TEXT NOT NULL UNIQUE,
  cmdline TEXT NOT NULL
);
CREATE TABLE audit_events(
  time INTEGER NOT NULL,
  serial INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  process_id INTEGER,
  PRIMARY KEY(time, serial, node_id)
) WITHOUT ROWID;
CREATE TABLE process_data(
  process_id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  ppid INTEGER,
  parent_process_id INTEGER,
  start_time INTEGER,
  end_time INTEGER,
  exit_code INTEGER,
  exe_id INTEGER,
  comm_id INTEGER,
  command_id INTEGER,
  cwd_id INTEGER,
  uid INTEGER,
  euid INTEGER,
  auid INTEGER,
  ses INTEGER,
  tty_id INTEGER,
  success INTEGER,
  flags INTEGER NOT NULL
);
CREATE TABLE file_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  operation INTEGER NOT NULL,
  path_id INTEGER,
  new_path_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER,
  mode INTEGER,
  owner_uid INTEGER,
  owner_gid INTEGER
);
CREATE TABLE network_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  direction INTEGER NOT NULL,
  protocol_id INTEGER,
  family_id INTEGER,
  local_address_id INTEGER,
  local_port INTEGER,
  remote_address_id INTEGER,
  remote_port INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER,
  in_progress INTEGER NOT NULL
);
CREATE TABLE security_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  record_type_id INTEGER,
  user_id INTEGER,
  target_user_id INTEGER,
  result_id INTEGER,
  terminal_id INTEGER,
  address_id INTEGER,
  hostname_id INTEGER,
  detail_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER
);
CREATE TABLE module_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  operation INTEGER NOT NULL,
  module_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER
);
CREATE TABLE image_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  path_id INTEGER,
  sha256 TEXT,
  uid INTEGER
);
CREATE TABLE dns_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  query TEXT,
  response TEXT,
  type TEXT,
  uid INTEGER
);
CREATE TABLE run_data(
  run_id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  lines INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  records INTEGER NOT NULL DEFAULT 0,
  malformed INTEGER NOT NULL DEFAULT 0,
  truncated INTEGER NOT NULL DEFAULT 0,
  audit_events INTEGER NOT NULL DEFAULT 0,
  partial_events INTEGER NOT NULL DEFAULT 0,
  ignored_events INTEGER NOT NULL DEFAULT 0,
  process_starts INTEGER NOT NULL DEFAULT 0,
  process_ends INTEGER NOT NULL DEFAULT 0,
  file_events INTEGER NOT NULL DEFAULT 0,
  network_events INTEGER NOT NULL DEFAULT 0,
  security_events INTEGER NOT NULL DEFAULT 0,
  module_events INTEGER NOT NULL DEFAULT 0,
  placeholder_processes INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  kernel_lost INTEGER NOT NULL DEFAULT 0,
  dropped_backlog INTEGER NOT NULL DEFAULT 0,
  dropped_queue_full INTEGER NOT NULL DEFAULT 0,
  dropped_other INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
)sql";

// Version 2: the enrich stage's results. User names and hashes are
// interned like every other repeating string (a hash repeats once per
// exec of the same binary). hash_note says why a hash is missing; rows
// written with "pending" are filled in by EventStore::UpdateHashes when
// the hash worker finishes the file. Event tables get the name of their
// event's uid (which may differ from the process row's after setuid).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE process_data ADD COLUMN user_id INTEGER;
ALTER TABLE process_data ADD COLUMN euser_id INTEGER;
ALTER TABLE process_data ADD COLUMN login_user_id INTEGER;
ALTER TABLE process_data ADD COLUMN sha256_id INTEGER;
ALTER TABLE process_data ADD COLUMN md5_id INTEGER;
ALTER TABLE process_data ADD COLUMN hash_note_id INTEGER;
ALTER TABLE file_data ADD COLUMN user_id INTEGER;
ALTER TABLE network_data ADD COLUMN user_id INTEGER;
ALTER TABLE module_data ADD COLUMN user_id INTEGER;
ALTER TABLE image_data ADD COLUMN user_id INTEGER;
ALTER TABLE dns_data ADD COLUMN user_id INTEGER;
)sql";

// Version 3: file paths that could not be made absolute (a name relative
// to a directory descriptor whose directory no event revealed in time) are
// stored as the name relative to that directory, flagged, with the
// directory's st_dev and inode (NULL when not even that is known); all
// NULL for an absolute path, which costs a row nothing. runs.unresolved_paths
// counts such rows. docs/normalization.md says what can be resolved.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE file_data ADD COLUMN path_unresolved INTEGER;
ALTER TABLE file_data ADD COLUMN path_dir_dev INTEGER;
ALTER TABLE file_data ADD COLUMN path_dir_inode INTEGER;
ALTER TABLE file_data ADD COLUMN new_path_unresolved INTEGER;
ALTER TABLE file_data ADD COLUMN new_path_dir_dev INTEGER;
ALTER TABLE file_data ADD COLUMN new_path_dir_inode INTEGER;
ALTER TABLE run_data ADD COLUMN unresolved_paths INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 4: closed sets are stored as their enum's integer
// (normalize/event_codes.h) instead of interned text: network protocol
// and family, security result and record type (the audit message type
// number). The views decode every code with CASE expressions generated
// from those tables (views.cc). Also: failed execs get their own
// table (they start no process), and a process row counts the PATH search
// misses folded into its exec.
//
// network_data and security_data are rebuilt in one pass each, the codes
// where the string ids were; a text outside a table becomes NULL.
std::string SchemaV4() {
  std::string sql;
  for (const char* view : {"processes", "file_events", "network_events", "security_events",
                           "module_events", "image_events", "dns_events", "runs"})
    sql += fmt::format("DROP VIEW IF EXISTS {};\n", view);
  auto text_of = [](const char* id_column) {
    return fmt::format("(SELECT value FROM strings WHERE id = {})", id_column);
  };
  sql += fmt::format(R"sql(
CREATE TABLE network_data_v4(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  direction INTEGER NOT NULL,
  protocol INTEGER,
  family INTEGER,
  local_address_id INTEGER,
  local_port INTEGER,
  remote_address_id INTEGER,
  remote_port INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER,
  in_progress INTEGER NOT NULL,
  user_id INTEGER
);
INSERT INTO network_data_v4 SELECT
  id, time, process_id, direction, {}, {}, local_address_id, local_port, remote_address_id,
  remote_port, success, uid, in_progress, user_id
FROM network_data;
DROP TABLE network_data;
ALTER TABLE network_data_v4 RENAME TO network_data;

CREATE TABLE security_data_v4(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  record_type INTEGER,
  user_id INTEGER,
  target_user_id INTEGER,
  result INTEGER,
  terminal_id INTEGER,
  address_id INTEGER,
  hostname_id INTEGER,
  detail_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER
);
INSERT INTO security_data_v4 SELECT
  id, time, process_id, kind, {}, user_id, target_user_id, {}, terminal_id, address_id,
  hostname_id, detail_id, success, uid
FROM security_data;
DROP TABLE security_data;
ALTER TABLE security_data_v4 RENAME TO security_data;

CREATE TABLE failed_exec_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  path_id INTEGER,
  errno INTEGER NOT NULL,
  cwd_id INTEGER,
  uid INTEGER,
  user_id INTEGER
);
ALTER TABLE process_data ADD COLUMN path_search_attempts INTEGER;
ALTER TABLE run_data ADD COLUMN failed_execs INTEGER NOT NULL DEFAULT 0;
)sql",
                     SqlCaseFromText(text_of("protocol_id"), kNetworkProtocolCodes),
                     SqlCaseFromText(text_of("family_id"), kAddressFamilyCodes),
                     SqlCaseFromText(text_of("record_type_id"), kSecurityRecordTypeCodes),
                     SqlCaseFromText(text_of("result_id"), kSecurityResultCodes));
  return sql;
}

// Version 5: runs.note, what happened to the database file at a run's
// start or end that is not an error of the run: a damaged file archived
// and a fresh one started, an archive after MaxCleanTries, `recorder
// recreate-db`, the file deleted under the recorder.
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE run_data ADD COLUMN note TEXT;
)sql";

// Version 6: the runs count the audit serials that never reached a
// netlink source (source/serial_gaps.h) — not part of events_lost: a lost
// serial may already be counted there (kernel_lost for the rate limit,
// dropped_backlog for a socket overrun) — and the events PendingEventCap
// dropped, by kind (EventKindName; their sum is in dropped_queue_full).
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE run_data ADD COLUMN serial_gaps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_process_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_process_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_file INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_network INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_security INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_module INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_image INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_failed_exec INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 7: the events the user-space filters left out, by kind
// (EventKindName), per run: chosen by the user, not lost.
constexpr const char* kSchemaV7 = R"sql(
ALTER TABLE run_data ADD COLUMN filtered_out_process_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_process_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_file INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_network INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_security INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_module INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_image INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_failed_exec INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 8: network rows whose local address and port the live enrich
// stage could not look up (src/enrich/socket_ports.h), per run.
constexpr const char* kSchemaV8 = R"sql(
ALTER TABLE run_data ADD COLUMN unresolved_ports INTEGER NOT NULL DEFAULT 0;
)sql";

// The indexes `search` would use (src/investigate/event_search.cc): the
// columns it matches, looked up by the ids of the matching strings or by
// the term's number. Not created by the recorder: their keys are string
// ids, most in random order, so each row written dirties pages all over
// them; with them a replay stored half the events per CPU-second and
// twice the bytes per event, and under a flood one batch's WAL outgrew
// the hard size limit's headroom (BENCHMARKS.md row B). Without them a
// search reads each event table through once (~1 s at 10M events, 16-96 ms
// with them: BENCHMARKS.md row M). `recorder search-index` adds them to a
// database on request (then every insert keeps them up to date), with
// kSearchTrigram below.
constexpr const char* kSearchIndexes = R"sql(
CREATE INDEX IF NOT EXISTS process_data_exe ON process_data(exe_id);
CREATE INDEX IF NOT EXISTS process_data_command ON process_data(command_id);
CREATE INDEX IF NOT EXISTS process_data_sha256 ON process_data(sha256_id);
CREATE INDEX IF NOT EXISTS process_data_user ON process_data(user_id);
CREATE INDEX IF NOT EXISTS file_data_path ON file_data(path_id);
CREATE INDEX IF NOT EXISTS file_data_new_path ON file_data(new_path_id) WHERE new_path_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS network_data_remote ON network_data(remote_address_id);
CREATE INDEX IF NOT EXISTS network_data_remote_port ON network_data(remote_port);
CREATE INDEX IF NOT EXISTS network_data_local_port ON network_data(local_port);
CREATE INDEX IF NOT EXISTS security_data_target_user ON security_data(target_user_id);
CREATE INDEX IF NOT EXISTS security_data_address ON security_data(address_id);
CREATE INDEX IF NOT EXISTS security_data_terminal ON security_data(terminal_id);
CREATE INDEX IF NOT EXISTS security_data_detail ON security_data(detail_id);
CREATE INDEX IF NOT EXISTS security_data_hostname ON security_data(hostname_id);
CREATE INDEX IF NOT EXISTS module_data_module ON module_data(module_id);
CREATE INDEX IF NOT EXISTS image_data_path ON image_data(path_id);
CREATE INDEX IF NOT EXISTS failed_exec_data_path ON failed_exec_data(path_id);
CREATE INDEX IF NOT EXISTS registry_data_target ON registry_data(target_object_id);
CREATE INDEX IF NOT EXISTS registry_data_details ON registry_data(details_id);
CREATE INDEX IF NOT EXISTS registry_data_new_name ON registry_data(new_name_id) WHERE new_name_id IS NOT NULL;
)sql";

// The other half of `search`: finding the strings that contain the term,
// which is otherwise a read of every interned string (~50 ms at 10M
// events, 578k strings). A trigram index over the strings answers a LIKE
// '%term%' of three characters or more from its posting lists (2 ms for a
// rare term); detail=none keeps it to ~1.5x the strings' text, and FTS5
// still checks each candidate against the pattern. External content: the
// text stays in `strings` alone.
//
// It covers the strings up to strings_trigram_extent.last_string_id, those
// there were when `search-index` last ran; `search` reads the newer ones
// through (strings are only ever added, so the two parts are exact).
// Triggers keeping it in step cost the writer ~22 us per new string (+40%
// writer CPU on a replay of many distinct paths: BENCHMARKS.md row M),
// for what a read of the strings written since costs a search instead.
constexpr const char* kSearchTrigram = R"sql(
CREATE VIRTUAL TABLE IF NOT EXISTS strings_trigram USING fts5(value, content='strings', content_rowid='id', tokenize='trigram', detail='none');
CREATE TABLE IF NOT EXISTS strings_trigram_extent(last_string_id INTEGER NOT NULL);
INSERT INTO strings_trigram_extent SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM strings_trigram_extent);
INSERT INTO strings_trigram(rowid, value)
  SELECT id, value FROM strings WHERE id > (SELECT last_string_id FROM strings_trigram_extent);
UPDATE strings_trigram_extent SET last_string_id = (SELECT ifnull(max(id), 0) FROM strings);
)sql";
constexpr std::string_view kTrigramTable = "strings_trigram";

// Version 9: DNS queries and their answers (MonitorDNS, the cgroup BPF
// capture). dns_data was never written before, so it is rebuilt rather
// than altered: process_id may now be NULL (the packet-socket capture
// cannot tell the process), and the columns are the ones the DNS events
// have. The closed sets (transport, family) are codes like
// network_data's; the DNS type, class and rcode are open sets (numbers
// without a name stay "TYPE65534") and are stored as their text.
// `response` is the answer's addresses, `answers` every answer record as
// JSON (names, types, TTLs, CNAME targets).
constexpr const char* kSchemaV9 = R"sql(
DROP VIEW IF EXISTS dns_events;
DROP TABLE dns_data;
CREATE TABLE dns_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER,
  pid INTEGER,
  query TEXT,
  type TEXT,
  class TEXT,
  dns_id INTEGER,
  response_seen INTEGER NOT NULL,
  rcode TEXT,
  response TEXT,
  answers TEXT,
  transport INTEGER,
  family INTEGER,
  server_address_id INTEGER,
  server_port INTEGER,
  latency_us INTEGER,
  uid INTEGER,
  user_id INTEGER
);
ALTER TABLE run_data ADD COLUMN dns_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_dns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_dns INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 10: how each DNS query's process was found (DnsAttribution's
// codes: none, the BPF socket hooks, the packet socket's local-port
// lookup; NULL in rows of schema 9), and the queries of a run stored
// without a process. Network rows need no column for accept's remote
// address looked up in the kernel: they count in unresolved_ports.
constexpr const char* kSchemaV10 = R"sql(
ALTER TABLE dns_data ADD COLUMN attribution INTEGER;
ALTER TABLE run_data ADD COLUMN dns_unattributed INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 11: Windows evidence imported from Sysmon logs.
// - windows_process_data: a process row's Windows identity and details.
//   Windows names a process instance by its ProcessGuid; (node, guid) is
//   unique, so a record of another file of the same host finds the row
//   (ancestry across files). The command line is kept as written (the
//   commands table holds its split argv, whose shell-quoted form is not
//   what Windows ran).
// - registry_data: Sysmon 12/13/14; EventType kept as Sysmon's text.
// - sysmon_data: every stored Sysmon record's EventData as JSON, under
//   Sysmon's own field names (what Sigma's Windows rules name).
// - runs count the registry rows, the EVTX records read and those of
//   other channels (Security, PowerShell...) skipped.
constexpr const char* kSchemaV11 = R"sql(
CREATE TABLE windows_process_data(
  process_id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  guid TEXT NOT NULL,
  parent_guid TEXT,
  command_line_id INTEGER,
  logon_id TEXT,
  integrity_level_id INTEGER,
  sha1 TEXT,
  imphash TEXT
);
CREATE UNIQUE INDEX windows_process_guid ON windows_process_data(node_id, guid);
CREATE TABLE registry_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  event_type_id INTEGER,
  target_object_id INTEGER,
  details_id INTEGER,
  new_name_id INTEGER,
  user_id INTEGER
);
CREATE TABLE sysmon_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  event_id INTEGER NOT NULL,
  process_id INTEGER,
  data TEXT NOT NULL
);
ALTER TABLE run_data ADD COLUMN registry_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_registry INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN filtered_out_registry INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN evtx_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN evtx_other_channels INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 12: signals (src/signals/, docs/signals.md). The Sigma rules
// that matched an event, each pointing at the event's row (event_table is
// the view, event_row the row's id in the table behind it: the
// process_id for processes); the loaded rules when RecordSignalDefinitions
// is on; the runs count the matches stored and those removed past
// RecordSignalMatches. Rule text is stored as text, not interned: matches
// are rare and capped.
constexpr const char* kSchemaV12 = R"sql(
CREATE TABLE signal_match_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  rule_id TEXT NOT NULL,
  title TEXT NOT NULL,
  level TEXT NOT NULL,
  author TEXT,
  event_table TEXT NOT NULL,
  event_row INTEGER NOT NULL,
  process_id INTEGER,
  selection TEXT
);
CREATE TABLE signal_rule_data(
  rule_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  level TEXT NOT NULL,
  author TEXT,
  status TEXT,
  description TEXT,
  logsource TEXT NOT NULL,
  file TEXT,
  condition TEXT NOT NULL,
  loaded_time INTEGER NOT NULL
);
ALTER TABLE run_data ADD COLUMN signal_matches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN signal_matches_removed INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 13: a signal match stored by `recorder signals hunt --store`
// (src/investigate/hunt.h) carries the time of the hunt; NULL for a match
// made while the event was recorded or replayed.
constexpr const char* kSchemaV13 = R"sql(
ALTER TABLE signal_match_data ADD COLUMN hunt_time INTEGER;
)sql";

// Version 14: the indexes of the investigation commands and the web view
// (src/investigate/), so that `tree`, `show` and `timeline` read a few
// pages per request, never a whole table:
//   processes: by parent (descendants), by pid and start (a pid at a
//     time: `--at`, and a parent inferred from ppid), by start and by end
//     (timeline);
//   every event table: by process and time (a process's activity) and by
//     time (timeline pages, the histogram).
// Every key here grows at its right edge or near a live process's entry
// (times increase; a new row's process is a recent or a long-lived one;
// the kernel hands pids out in order), so a batch dirties few pages of
// each: BENCHMARKS.md row B has their cost. The indexes of `search` are
// left out for theirs (kSearchIndexes).
// IF NOT EXISTS: a database given the investigation indexes by hand
// before this version keeps them.
constexpr const char* kSchemaV14 = R"sql(
CREATE INDEX IF NOT EXISTS process_data_parent ON process_data(parent_process_id);
CREATE INDEX IF NOT EXISTS process_data_pid ON process_data(pid, start_time);
CREATE INDEX IF NOT EXISTS process_data_start ON process_data(start_time);
CREATE INDEX IF NOT EXISTS process_data_end ON process_data(end_time);
CREATE INDEX IF NOT EXISTS file_data_process ON file_data(process_id, time);
CREATE INDEX IF NOT EXISTS file_data_time ON file_data(time);
CREATE INDEX IF NOT EXISTS network_data_process ON network_data(process_id, time);
CREATE INDEX IF NOT EXISTS network_data_time ON network_data(time);
CREATE INDEX IF NOT EXISTS security_data_process ON security_data(process_id, time);
CREATE INDEX IF NOT EXISTS security_data_time ON security_data(time);
CREATE INDEX IF NOT EXISTS module_data_process ON module_data(process_id, time);
CREATE INDEX IF NOT EXISTS module_data_time ON module_data(time);
CREATE INDEX IF NOT EXISTS image_data_process ON image_data(process_id, time);
CREATE INDEX IF NOT EXISTS image_data_time ON image_data(time);
CREATE INDEX IF NOT EXISTS dns_data_process ON dns_data(process_id, time);
CREATE INDEX IF NOT EXISTS dns_data_time ON dns_data(time);
CREATE INDEX IF NOT EXISTS failed_exec_data_process ON failed_exec_data(process_id, time);
CREATE INDEX IF NOT EXISTS failed_exec_data_time ON failed_exec_data(time);
CREATE INDEX IF NOT EXISTS registry_data_process ON registry_data(process_id, time);
CREATE INDEX IF NOT EXISTS registry_data_time ON registry_data(time);
)sql";

struct Migration {
  int64_t to_version;
  std::string (*sql)();
};

// Append-only: a released migration's table changes are never edited; a
// new version adds a migration.
constexpr Migration kMigrations[] = {
    {1, [] { return std::string(kSchemaV1); }},    // the tables
    {2, [] { return std::string(kSchemaV2); }},    // enrichment columns
    {3, [] { return std::string(kSchemaV3); }},    // unresolved paths
    {4, SchemaV4},                                 // code tables, failed execs
    {5, [] { return std::string(kSchemaV5); }},    // runs.note
    {6, [] { return std::string(kSchemaV6); }},    // serial gaps, PendingEventCap drops
    {7, [] { return std::string(kSchemaV7); }},    // runs.filtered_out_<kind>
    {8, [] { return std::string(kSchemaV8); }},    // runs.unresolved_ports
    {9, [] { return std::string(kSchemaV9); }},    // dns_data, runs.dns_events
    {10, [] { return std::string(kSchemaV10); }},  // dns_data.attribution, runs.dns_unattributed
    {11, [] { return std::string(kSchemaV11); }},  // Windows processes, registry, Sysmon records
    {12, [] { return std::string(kSchemaV12); }},  // signal matches and rules
    {13, [] { return std::string(kSchemaV13); }},  // signal_match_data.hunt_time
    {14, [] { return std::string(kSchemaV14); }},  // investigation indexes
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

// Whether the database's views are CurrentViews(), text for text.
Result<bool> ViewsAreCurrent(Database* db) {
  Result<std::unique_ptr<Statement>> select =
      db->Prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'view'");
  if (!select.ok()) return select.status();
  std::map<std::string, std::string, std::less<>> stored;
  while (true) {
    Result<bool> row = (*select)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    stored.emplace((*select)->ColumnText(0), (*select)->ColumnText(1));
  }
  for (const ViewDefinition& view : CurrentViews()) {
    auto it = stored.find(view.name);
    if (it == stored.end() || it->second != view.sql) return false;
  }
  return true;
}

Status RecreateViews(Database* db) {
  for (const ViewDefinition& view : CurrentViews()) {
    Status status = db->Exec(fmt::format("DROP VIEW IF EXISTS {}", view.name));
    if (status.ok()) status = db->Exec(view.sql);
    if (!status.ok()) return Status::Errorf("view {}: {}", view.name, status.message());
  }
  return Status::Ok();
}

}  // namespace

std::string SearchIndexSql() { return std::string(kSearchIndexes) + kSearchTrigram; }

std::vector<std::string> SearchIndexNames() {
  // From the statements themselves, so the two never disagree.
  static constexpr std::string_view kCreate = "CREATE INDEX IF NOT EXISTS ";
  std::vector<std::string> names;
  const std::string_view sql = kSearchIndexes;
  for (size_t at = sql.find(kCreate); at != std::string_view::npos;
       at = sql.find(kCreate, at + 1)) {
    const size_t start = at + kCreate.size();
    names.emplace_back(sql.substr(start, sql.find(' ', start) - start));
  }
  names.emplace_back(kTrigramTable);
  return names;
}

Result<int64_t> SearchIndexesPresent(Database* db) {
  std::string names;
  for (const std::string& name : SearchIndexNames())
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", name);
  return db->QueryInt(fmt::format(
      "SELECT count(*) FROM sqlite_schema WHERE type IN ('index', 'table') AND name IN ({})",
      names));
}

Result<bool> SearchTrigramPresent(Database* db) {
  Result<int64_t> n = db->QueryInt(fmt::format(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{}'", kTrigramTable));
  if (!n.ok()) return n.status();
  return *n > 0;
}

Status CreateSearchIndexes(Database* db) {
  return db->Exec(fmt::format("BEGIN; {}{} COMMIT;", kSearchIndexes, kSearchTrigram));
}

Status DropSearchIndexes(Database* db) {
  std::string sql = "BEGIN;";
  for (const std::string& name : SearchIndexNames())
    if (name != kTrigramTable) sql += fmt::format(" DROP INDEX IF EXISTS {};", name);
  sql += fmt::format(" DROP TABLE IF EXISTS {0}; DROP TABLE IF EXISTS {0}_extent;", kTrigramTable);
  return db->Exec(sql + " COMMIT;");
}

Result<int64_t> SchemaVersion(Database* db) {
  // The first read of the file: this is where a non-database file fails.
  Result<int64_t> version = db->QueryInt("PRAGMA user_version");
  if (!version.ok())
    return Status::Errorf(version.status().code(), "{}: cannot read database: {}", db->path(),
                          version.status().message());
  return version;
}

namespace {

// The version, once it is known to be one this binary can open or create:
// errors for a newer schema and for somebody else's SQLite database.
Result<int64_t> CheckedVersion(Database* db) {
  Result<int64_t> version = SchemaVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return Status::Errorf(
        "{}: database schema version {} is newer than this recorder understands (version {}); "
        "use a newer recorder or another --db",
        db->path(), *version, kSchemaVersion);
  }

  if (*version == 0) {
    // A file with tables but no version is somebody else's database:
    // adding ours to it would mix the two.
    Result<int64_t> tables = db->QueryInt("SELECT count(*) FROM sqlite_schema");
    if (!tables.ok())
      return Status::Errorf("{}: cannot read database: {}", db->path(), tables.status().message());
    if (*tables > 0) {
      return Status::Errorf(
          "{}: is an SQLite database but not a recorder database "
          "(it has tables and no schema version)",
          db->path());
    }
  }
  return version;
}

}  // namespace

Result<int64_t> CheckSchema(Database* db) {
  Result<int64_t> version = CheckedVersion(db);
  if (!version.ok() || *version != 0) return version;
  // An empty file: auto_vacuum takes effect only if set before the file
  // is first written (a journal-mode change writes it too).
  Status status = db->Exec("PRAGMA auto_vacuum=INCREMENTAL");
  if (!status.ok())
    return Status::Errorf("{}: cannot set up database: {}", db->path(), status.message());
  return version;
}

Status PrepareSchema(Database* db, int64_t checked_version) {
  if (checked_version == kSchemaVersion) {
    Result<bool> current = ViewsAreCurrent(db);
    if (current.ok() && *current) return Status::Ok();
  }
  Transaction transaction(db);
  Status status = transaction.Begin();
  if (!status.ok())
    return Status::Errorf("{}: cannot write database: {}", db->path(), status.message());
  // Another process may have migrated (even to a newer schema) while we
  // waited for the lock.
  Result<int64_t> version = CheckedVersion(db);
  if (!version.ok()) return version.status();
  // An existing database's migration can take a while (version 14 builds
  // indexes over every row: ~1 s per million events): say what is going on.
  if (*version > 0 && *version < kSchemaVersion)
    spdlog::info("{}: migrating the database from schema version {} to {}", db->path(), *version,
                 kSchemaVersion);
  for (const Migration& migration : kMigrations) {
    if (migration.to_version <= *version) continue;
    status = db->Exec(migration.sql());
    if (!status.ok()) {
      return Status::Errorf("{}: cannot migrate database to schema version {}: {}", db->path(),
                            migration.to_version, status.message());
    }
  }
  Result<bool> views_current = ViewsAreCurrent(db);
  if (!views_current.ok() || !*views_current) {
    status = RecreateViews(db);
    if (!status.ok())
      return Status::Errorf("{}: cannot create the views: {}", db->path(), status.message());
  }
  status = db->Exec(fmt::format("PRAGMA user_version={}", kSchemaVersion));
  if (status.ok()) status = transaction.Commit();
  if (!status.ok())
    return Status::Errorf("{}: cannot write database: {}", db->path(), status.message());
  return Status::Ok();
}

}  // namespace recorder::store
