#include "investigate/investigation_db.h"

#include <sys/stat.h>

#include <cerrno>

#include "store/schema.h"

namespace recorder::investigate {

Result<std::unique_ptr<store::Database>> OpenInvestigationDb(const std::string& path) {
  // SQLITE_OPEN_READONLY reports a missing file as "unable to open
  // database file"; say plainly which file is missing.
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return Status::FromErrno(errno, path + ": cannot open database");
  auto db = store::Database::Open(path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  // SQLite opens any file lazily; reading the schema version proves it
  // is a database, and a version proves it is the recorder's.
  Result<int64_t> version = store::SchemaVersion(db->get());
  if (!version.ok()) return version.status();
  if (*version == 0)
    return Status::Errorf(StatusCode::kInvalid,
                          "{}: not a recorder database (empty, or no schema version)", path);
  sqlite3* handle = (*db)->handle();
  // The recorder may be writing: wait for its lock rather than fail.
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_db_config(handle, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(handle, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  return std::move(*db);
}

}  // namespace recorder::investigate
