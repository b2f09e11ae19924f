// monitor.db's schema: versioned, created on first open, migrated forward
// one step at a time. The version lives in PRAGMA user_version (0 = a new,
// empty file). Tables hold packed rows (integer codes, interned string
// ids); the public query surface is the views, documented in
// docs/schema.md. Users script against the views, so a migration may
// change tables freely but must keep every view's name and columns.
#pragma once

#include <cstdint>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

// The schema version this binary writes and understands.
inline constexpr int64_t kSchemaVersion = 2;

// Brings the database to kSchemaVersion: on an empty file sets
// auto_vacuum=INCREMENTAL (which only takes effect before the first
// table), then creates everything in one transaction. Errors (each naming
// the file): not a database, an SQLite file that is not a recorder
// database, a schema newer than kSchemaVersion, I/O or permission failure.
Status PrepareSchema(Database* db);

// The errors of PrepareSchema that need no write (not a database,
// somebody else's database, a newer schema), changing nothing but, on an
// empty file, the auto_vacuum setting: for callers that set the journal
// mode before creating the schema (that writes the file's first page).
Status CheckSchema(Database* db);

// Reads the version without changing anything (0 for an empty file).
Result<int64_t> SchemaVersion(Database* db);

}  // namespace recorder::store
