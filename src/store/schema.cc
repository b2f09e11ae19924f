#include "store/schema.h"

#include <string>

namespace recorder::store {

namespace {

#define UTC(col) "strftime('%Y-%m-%dT%H:%M:%fZ', " col " / 1000.0, 'unixepoch')"
#define STR(col) "(SELECT value FROM strings WHERE id = " col ")"

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

CREATE VIEW processes AS SELECT
  p.process_id, p.pid, p.ppid, p.parent_process_id,
  p.start_time, )sql" UTC("p.start_time") R"sql( AS start_time_utc,
  p.end_time, )sql" UTC("p.end_time") R"sql( AS end_time_utc,
  p.exit_code,
  )sql" STR("p.exe_id") R"sql( AS exe,
  c.cmdline, c.argv,
  )sql" STR("p.cwd_id") R"sql( AS cwd,
  p.uid, NULL AS user, p.euid, NULL AS euser, p.auid, NULL AS login_user,
  p.ses AS session,
  )sql" STR("p.tty_id") R"sql( AS tty,
  NULL AS sha256, NULL AS md5,
  p.success,
  )sql" STR("p.comm_id") R"sql( AS comm,
  )sql" STR("p.node_id") R"sql( AS node,
  (p.flags & 1) AS placeholder,
  ((p.flags & 2) >> 1) AS argv_truncated
FROM process_data p LEFT JOIN commands c ON c.id = p.command_id;

CREATE VIEW file_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe, NULL AS user,
  CASE e.operation WHEN 0 THEN 'create' WHEN 1 THEN 'write' WHEN 2 THEN 'rename'
    WHEN 3 THEN 'delete' WHEN 4 THEN 'chmod' WHEN 5 THEN 'chown' WHEN 6 THEN 'mkdir'
    WHEN 7 THEN 'rmdir' WHEN 8 THEN 'link' WHEN 9 THEN 'truncate' END AS operation,
  )sql" STR("e.path_id") R"sql( AS path,
  )sql" STR("e.new_path_id") R"sql( AS new_path,
  e.success, e.uid, e.mode, e.owner_uid, e.owner_gid
FROM file_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW network_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe, NULL AS user,
  CASE e.direction WHEN 0 THEN 'outbound' WHEN 1 THEN 'inbound' WHEN 2 THEN 'listen' END
    AS direction,
  )sql" STR("e.protocol_id") R"sql( AS protocol,
  )sql" STR("e.family_id") R"sql( AS family,
  )sql" STR("e.local_address_id") R"sql( AS local_address, e.local_port,
  )sql" STR("e.remote_address_id") R"sql( AS remote_address, e.remote_port,
  e.success, e.uid, e.in_progress
FROM network_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW security_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  CASE e.kind WHEN 0 THEN 'authentication' WHEN 1 THEN 'account' WHEN 2 THEN 'login'
    WHEN 3 THEN 'logout' WHEN 4 THEN 'session_start' WHEN 5 THEN 'session_end'
    WHEN 6 THEN 'credential' WHEN 7 THEN 'command' WHEN 8 THEN 'account_change'
    WHEN 9 THEN 'privilege_change' END AS kind,
  )sql" STR("e.user_id") R"sql( AS user,
  )sql" STR("e.target_user_id") R"sql( AS target_user,
  )sql" STR("e.result_id") R"sql( AS result,
  )sql" STR("e.terminal_id") R"sql( AS terminal,
  )sql" STR("e.address_id") R"sql( AS address,
  )sql" STR("e.detail_id") R"sql( AS detail,
  )sql" STR("e.record_type_id") R"sql( AS record_type,
  )sql" STR("e.hostname_id") R"sql( AS hostname,
  e.success, e.uid
FROM security_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW module_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe, NULL AS user,
  CASE e.operation WHEN 0 THEN 'load' WHEN 1 THEN 'unload' END AS operation,
  )sql" STR("e.module_id") R"sql( AS module,
  e.success, e.uid
FROM module_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW image_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe, NULL AS user,
  )sql" STR("e.path_id") R"sql( AS path, e.sha256, e.uid
FROM image_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW dns_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe, NULL AS user,
  e.query, e.response, e.type, e.uid
FROM dns_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW runs AS SELECT
  run_id, source,
  start_time, )sql" UTC("start_time") R"sql( AS start_time_utc,
  end_time, )sql" UTC("end_time") R"sql( AS end_time_utc,
  lines, bytes, records, malformed, truncated, audit_events, partial_events, ignored_events,
  process_starts + process_ends + file_events + network_events + security_events
    + module_events AS events_stored,
  process_starts, process_ends, file_events, network_events, security_events, module_events,
  placeholder_processes, duplicates,
  kernel_lost, dropped_backlog, dropped_queue_full, dropped_other,
  kernel_lost + dropped_backlog + dropped_queue_full + dropped_other AS events_lost,
  error
FROM run_data;
)sql";

// Version 2: the enrich stage's results. User names and hashes are
// interned like every other repeating string (a hash repeats once per
// exec of the same binary). hash_note says why a hash is missing; rows
// written with "pending" are filled in by EventStore::UpdateHashes when
// the hash worker finishes the file. Event tables get the name of their
// event's uid (which may differ from the process row's after setuid).
// The views keep every v1 column and fill user/euser/login_user/sha256/md5.
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

DROP VIEW processes;
DROP VIEW file_events;
DROP VIEW network_events;
DROP VIEW module_events;
DROP VIEW image_events;
DROP VIEW dns_events;

CREATE VIEW processes AS SELECT
  p.process_id, p.pid, p.ppid, p.parent_process_id,
  p.start_time, )sql" UTC("p.start_time") R"sql( AS start_time_utc,
  p.end_time, )sql" UTC("p.end_time") R"sql( AS end_time_utc,
  p.exit_code,
  )sql" STR("p.exe_id") R"sql( AS exe,
  c.cmdline, c.argv,
  )sql" STR("p.cwd_id") R"sql( AS cwd,
  p.uid, )sql" STR("p.user_id") R"sql( AS user,
  p.euid, )sql" STR("p.euser_id") R"sql( AS euser,
  p.auid, )sql" STR("p.login_user_id") R"sql( AS login_user,
  p.ses AS session,
  )sql" STR("p.tty_id") R"sql( AS tty,
  )sql" STR("p.sha256_id") R"sql( AS sha256,
  )sql" STR("p.md5_id") R"sql( AS md5,
  )sql" STR("p.hash_note_id") R"sql( AS hash_note,
  p.success,
  )sql" STR("p.comm_id") R"sql( AS comm,
  )sql" STR("p.node_id") R"sql( AS node,
  (p.flags & 1) AS placeholder,
  ((p.flags & 2) >> 1) AS argv_truncated
FROM process_data p LEFT JOIN commands c ON c.id = p.command_id;

CREATE VIEW file_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  )sql" STR("e.user_id") R"sql( AS user,
  CASE e.operation WHEN 0 THEN 'create' WHEN 1 THEN 'write' WHEN 2 THEN 'rename'
    WHEN 3 THEN 'delete' WHEN 4 THEN 'chmod' WHEN 5 THEN 'chown' WHEN 6 THEN 'mkdir'
    WHEN 7 THEN 'rmdir' WHEN 8 THEN 'link' WHEN 9 THEN 'truncate' END AS operation,
  )sql" STR("e.path_id") R"sql( AS path,
  )sql" STR("e.new_path_id") R"sql( AS new_path,
  e.success, e.uid, e.mode, e.owner_uid, e.owner_gid
FROM file_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW network_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  )sql" STR("e.user_id") R"sql( AS user,
  CASE e.direction WHEN 0 THEN 'outbound' WHEN 1 THEN 'inbound' WHEN 2 THEN 'listen' END
    AS direction,
  )sql" STR("e.protocol_id") R"sql( AS protocol,
  )sql" STR("e.family_id") R"sql( AS family,
  )sql" STR("e.local_address_id") R"sql( AS local_address, e.local_port,
  )sql" STR("e.remote_address_id") R"sql( AS remote_address, e.remote_port,
  e.success, e.uid, e.in_progress
FROM network_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW module_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  )sql" STR("e.user_id") R"sql( AS user,
  CASE e.operation WHEN 0 THEN 'load' WHEN 1 THEN 'unload' END AS operation,
  )sql" STR("e.module_id") R"sql( AS module,
  e.success, e.uid
FROM module_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW image_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  )sql" STR("e.user_id") R"sql( AS user,
  )sql" STR("e.path_id") R"sql( AS path, e.sha256, e.uid
FROM image_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW dns_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  )sql" STR("e.user_id") R"sql( AS user,
  e.query, e.response, e.type, e.uid
FROM dns_data e JOIN process_data p ON p.process_id = e.process_id;
)sql";

// Version 3: file paths that could not be made absolute (a name relative
// to a directory descriptor whose directory no event revealed in time) are
// stored as the name relative to that directory, flagged, with the
// directory's st_dev and inode (NULL when not even that is known); all
// NULL for an absolute path, which costs a row nothing. The runs view
// counts such rows. docs/normalization.md says what can be resolved.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE file_data ADD COLUMN path_unresolved INTEGER;
ALTER TABLE file_data ADD COLUMN path_dir_dev INTEGER;
ALTER TABLE file_data ADD COLUMN path_dir_inode INTEGER;
ALTER TABLE file_data ADD COLUMN new_path_unresolved INTEGER;
ALTER TABLE file_data ADD COLUMN new_path_dir_dev INTEGER;
ALTER TABLE file_data ADD COLUMN new_path_dir_inode INTEGER;
ALTER TABLE run_data ADD COLUMN unresolved_paths INTEGER NOT NULL DEFAULT 0;

DROP VIEW file_events;
DROP VIEW runs;

CREATE VIEW file_events AS SELECT
  e.time, )sql" UTC("e.time") R"sql( AS time_utc,
  e.process_id, p.pid, )sql" STR("p.exe_id") R"sql( AS exe,
  )sql" STR("e.user_id") R"sql( AS user,
  CASE e.operation WHEN 0 THEN 'create' WHEN 1 THEN 'write' WHEN 2 THEN 'rename'
    WHEN 3 THEN 'delete' WHEN 4 THEN 'chmod' WHEN 5 THEN 'chown' WHEN 6 THEN 'mkdir'
    WHEN 7 THEN 'rmdir' WHEN 8 THEN 'link' WHEN 9 THEN 'truncate' END AS operation,
  )sql" STR("e.path_id") R"sql( AS path,
  )sql" STR("e.new_path_id") R"sql( AS new_path,
  e.success, e.uid, e.mode, e.owner_uid, e.owner_gid,
  coalesce(e.path_unresolved, 0) AS path_unresolved, e.path_dir_dev, e.path_dir_inode,
  coalesce(e.new_path_unresolved, 0) AS new_path_unresolved, e.new_path_dir_dev,
  e.new_path_dir_inode
FROM file_data e JOIN process_data p ON p.process_id = e.process_id;

CREATE VIEW runs AS SELECT
  run_id, source,
  start_time, )sql" UTC("start_time") R"sql( AS start_time_utc,
  end_time, )sql" UTC("end_time") R"sql( AS end_time_utc,
  lines, bytes, records, malformed, truncated, audit_events, partial_events, ignored_events,
  process_starts + process_ends + file_events + network_events + security_events
    + module_events AS events_stored,
  process_starts, process_ends, file_events, network_events, security_events, module_events,
  placeholder_processes, duplicates,
  kernel_lost, dropped_backlog, dropped_queue_full, dropped_other,
  kernel_lost + dropped_backlog + dropped_queue_full + dropped_other AS events_lost,
  error, unresolved_paths
FROM run_data;
)sql";

// Version 4: the runs count the audit serials that never reached a
// netlink source (source/serial_gaps.h) — not part of events_lost: a lost
// serial may already be counted there (kernel_lost for the rate limit,
// dropped_backlog for a socket overrun) — and the events PendingEventCap
// dropped, by kind (EventKindName; their sum is in dropped_queue_full).
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE run_data ADD COLUMN serial_gaps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_process_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_process_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_file INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_network INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_security INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_module INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run_data ADD COLUMN dropped_cap_image INTEGER NOT NULL DEFAULT 0;

DROP VIEW runs;

CREATE VIEW runs AS SELECT
  run_id, source,
  start_time, )sql" UTC("start_time") R"sql( AS start_time_utc,
  end_time, )sql" UTC("end_time") R"sql( AS end_time_utc,
  lines, bytes, records, malformed, truncated, audit_events, partial_events, ignored_events,
  process_starts + process_ends + file_events + network_events + security_events
    + module_events AS events_stored,
  process_starts, process_ends, file_events, network_events, security_events, module_events,
  placeholder_processes, duplicates,
  kernel_lost, dropped_backlog, dropped_queue_full, dropped_other,
  kernel_lost + dropped_backlog + dropped_queue_full + dropped_other AS events_lost,
  error, unresolved_paths, serial_gaps,
  dropped_cap_process_start, dropped_cap_process_end, dropped_cap_file, dropped_cap_network,
  dropped_cap_security, dropped_cap_module, dropped_cap_image
FROM run_data;
)sql";

#undef UTC
#undef STR

struct Migration {
  int64_t to_version;
  const char* sql;
};

// Append-only: a released migration is never edited, a new one is added.
constexpr Migration kMigrations[] = {
    {1, kSchemaV1},
    {2, kSchemaV2},
    {3, kSchemaV3},
    {4, kSchemaV4},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

}  // namespace

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
  if (checked_version == kSchemaVersion) return Status::Ok();
  Transaction transaction(db);
  Status status = transaction.Begin();
  if (!status.ok())
    return Status::Errorf("{}: cannot write database: {}", db->path(), status.message());
  // Another process may have migrated (even to a newer schema) while we
  // waited for the lock.
  Result<int64_t> version = CheckedVersion(db);
  if (!version.ok()) return version.status();
  for (const Migration& migration : kMigrations) {
    if (migration.to_version <= *version) continue;
    status = db->Exec(migration.sql);
    if (!status.ok()) {
      return Status::Errorf("{}: cannot migrate database to schema version {}: {}", db->path(),
                            migration.to_version, status.message());
    }
  }
  status = db->Exec(fmt::format("PRAGMA user_version={}", kSchemaVersion));
  if (status.ok()) status = transaction.Commit();
  if (!status.ok())
    return Status::Errorf("{}: cannot write database: {}", db->path(), status.message());
  return Status::Ok();
}

}  // namespace recorder::store
