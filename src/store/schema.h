// monitor.db's schema: versioned, created on first open, migrated forward
// one step at a time. The version lives in PRAGMA user_version (0 = a new,
// empty file). Tables hold packed rows (integer codes, interned string
// ids); the public query surface is the views, documented in
// docs/schema.md. Users script against the views, so a migration may
// change tables freely but must keep every view's name and columns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

// The schema version this binary writes and understands.
inline constexpr int64_t kSchemaVersion = 14;

// The indexes that would make `search` fast on a large database. The
// recorder creates the other investigation indexes (schema version 14)
// but not these (schema.cc says why); `recorder search-index` does, on
// request.
// SearchIndexSql() creates those missing and brings the trigram index over
// the strings up to date (it covers the strings there are when it runs);
// SearchIndexNames() are the indexes' names and the trigram table's.
std::string SearchIndexSql();
std::vector<std::string> SearchIndexNames();
// How many of SearchIndexNames() the database has.
Result<int64_t> SearchIndexesPresent(Database* db);
// Whether the database has the trigram index over its strings
// (strings_trigram, an FTS5 table `search` reads instead of the strings).
Result<bool> SearchTrigramPresent(Database* db);
// Creates those missing and brings the trigram index up to date, or drops
// them all (one transaction each).
Status CreateSearchIndexes(Database* db);
Status DropSearchIndexes(Database* db);

// The first step of opening: the schema version, once it is known to be
// one this binary can open or create. Errors (each naming the file): not
// a database, an SQLite file that is not a recorder database, a schema
// newer than kSchemaVersion. Changes nothing but, on an empty file, the
// auto_vacuum setting, which must precede the file's first write (the
// journal-mode change that callers make next is one).
Result<int64_t> CheckSchema(Database* db);

// Brings the database from `checked_version` (CheckSchema's answer) to
// kSchemaVersion in one transaction, checking the version again under the
// write lock in case another process migrated meanwhile, and (re)creates
// the views when they differ from views.h's. Changes nothing when both
// are current. Errors: as CheckSchema's, and I/O or permission failures.
Status PrepareSchema(Database* db, int64_t checked_version);

// Reads the version without changing anything (0 for an empty file).
Result<int64_t> SchemaVersion(Database* db);

}  // namespace recorder::store
