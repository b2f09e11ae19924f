// Database archives: what happens to a monitor.db that cannot stay (the
// manual's MaxCleanTries and DatabaseArchiveLimit, a damaged file found at
// start, `recorder recreate-db`). The database is compressed next to
// itself as <name>.archive-<UTC time>.gz (0600), then only the newest
// `archive_limit` archives of it are kept. With a limit of 0 (the
// manual's default) no archive is kept: the database is simply removed.
//
// The caller closes every connection to the database first: an archive is
// a copy of a file at rest. Time is an argument, so names are testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

// DatabaseArchiveLimit: default 0, bounds 0..100.
inline constexpr int kDefaultDatabaseArchiveLimit = 0;
inline constexpr int kMaxDatabaseArchiveLimit = 100;

struct ArchiveResult {
  std::string archive;              // the archive written; empty when none was kept
  std::vector<std::string> erased;  // older archives removed to keep the limit
  uint64_t bytes_in = 0;            // database (+ WAL) bytes archived
};

// Moves `db_path` (and a leftover -wal, which a damaged database may still
// need) into an archive, removes the database's -wal and -shm, and prunes
// older archives down to `archive_limit`. Afterwards `db_path` does not
// exist, so the next open starts a fresh database. All in one call:
// MoveAsideForArchive, CompressArchive and PruneArchives.
Result<ArchiveResult> ArchiveDatabase(const std::string& db_path, int64_t now_ms,
                                      int archive_limit);

// The first half of an archive, quick at any size (renames in the same
// directory): `db_path` becomes <name>.archive-<UTC time> — a database
// still uncompressed, valid as it is — a leftover -wal goes with it as
// <that>-wal, the -shm is removed. Returns the new name. Then `db_path`
// does not exist, and recording can go on in a fresh file while
// CompressArchive runs elsewhere.
Result<std::string> MoveAsideForArchive(const std::string& db_path, int64_t now_ms);

// The second half: compresses `moved` (from MoveAsideForArchive) to
// <moved>.gz, 0600, and its -wal to <moved>-wal.gz, then removes the
// uncompressed files. Each archive is written under a temporary name,
// synced and renamed, so an archive name never holds half a file: a crash
// or a failure leaves `moved` as it was (and a stray .tmp that the next
// CompressArchive of it replaces). Returns the .gz name; `bytes` (may be
// null) gets the bytes read.
Result<std::string> CompressArchive(const std::string& moved, uint64_t* bytes = nullptr);

// Erases the oldest archives of `db_path`, compressed or not yet, until
// `archive_limit` are left (a -wal archive goes with its database's).
// Returns the archives erased.
Result<std::vector<std::string>> PruneArchives(const std::string& db_path, int archive_limit);

// The archives of `db_path`, oldest first (their names sort by time): the
// compressed ones (<name>.archive-<time>.gz) and those moved aside whose
// compression has not finished (<name>.archive-<time>, no .gz beside it).
// -wal companions are not listed.
std::vector<std::string> ListArchives(const std::string& db_path);

// The archives of `db_path` moved aside but not compressed (a stop or a
// crash came first), oldest first.
std::vector<std::string> ListUncompressedArchives(const std::string& db_path);

// Runs SQLite's quick_check (every page and index entry is well formed;
// cheaper than integrity_check, which also cross-checks indexes against
// tables). ok() with an empty string when the database is sound; ok()
// with SQLite's first complaint when it is damaged; an error when it
// cannot be checked at all (not a database, I/O).
Result<std::string> QuickCheck(Database* db);

// What the damage check at start found and did.
struct DamageReport {
  std::string problem;     // quick_check's first complaint, or SQLite's error
  ArchiveResult archived;  // where the damaged file went
};

// The damage check made before the recorder writes into `db_path`: an
// existing SQLite file (known by its header) that quick_check finds
// damaged, or that SQLite calls corrupt when it reads it, is archived so
// that the next open starts a fresh database. A damaged database is
// evidence: at least one archive is kept even with `archive_limit` 0.
// nullopt when there is no file, an empty one, a file that is not SQLite
// (the open refuses it then, untouched) or a sound database. An error
// when the file cannot be checked (locked, unreadable, a symlink) or the
// archive cannot be written; the file is left as it was.
Result<std::optional<DamageReport>> ArchiveIfDamaged(const std::string& db_path, int64_t now_ms,
                                                     int archive_limit);

// Removes the database, its -wal and -shm (`recorder recreate-db
// --discard`); no archive is made and existing archives stay.
Status RemoveDatabase(const std::string& db_path);

}  // namespace recorder::store
