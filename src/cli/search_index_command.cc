// `recorder search-index`: builds, on request, the indexes `recorder
// search` would use (store::SearchIndexSql(): the string-id indexes and a
// trigram index of the strings, brought up to date on every run), which
// the recorder does not keep while recording: their keys come in random
// order, so every insert would cost more (BENCHMARKS.md rows B and M).
// For an investigation on a copy or an archive of a database, or a live
// one whose owner accepts the write cost; `--drop` takes them away again.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "util/file_util.h"

namespace recorder::cli {
namespace {

constexpr int kExitDatabase = 2;

struct SearchIndexOptions {
  std::string db;
  std::string config_dir;
  bool drop = false;
};

int Fail(const Status& status) {
  std::fprintf(stderr, "recorder search-index: %s\n", status.message().c_str());
  return kExitDatabase;
}

// A step after the indexes were built or dropped that only gives space
// back: its failure leaves the file larger than it need be, not wrong.
void WarnIfFailed(const Status& status, const std::string& path, const char* step) {
  if (status.ok()) return;
  std::fprintf(stderr, "recorder search-index: warning: %s: %s: %s (the size below may be off)\n",
               path.c_str(), step, status.message().c_str());
}

int RunSearchIndex(const SearchIndexOptions& options) {
  Result<std::string> db_path = DatabasePathFor(options.db, options.config_dir);
  if (!db_path.ok()) return Fail(db_path.status());
  const std::string& path = *db_path;
  if (FileSize(path) < 0) return Fail(Status::Errorf("{}: no such database", path));
  auto db = store::Database::Open(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return Fail(db.status());
  sqlite3_busy_timeout((*db)->handle(), 5000);  // a recorder may be committing
  // The schema this binary knows, migrated as any writer would.
  Result<int64_t> version = store::CheckSchema(db->get());
  if (!version.ok()) return Fail(version.status());
  if (*version == 0) return Fail(Status::Errorf("{}: is empty, not a recorder database", path));
  Status status = store::PrepareSchema(db->get(), *version);
  if (!status.ok()) return Fail(status);
  const auto names = store::SearchIndexNames();
  Result<int64_t> before = store::SearchIndexesPresent(db->get());
  if (!before.ok()) return Fail(before.status());
  const int64_t bytes_before = std::max<int64_t>(FileSize(path), 0);
  const auto start = std::chrono::steady_clock::now();
  status =
      options.drop ? store::DropSearchIndexes(db->get()) : store::CreateSearchIndexes(db->get());
  if (!status.ok()) return Fail(Status::Errorf("{}: {}", path, status.message()));
  if (options.drop)
    WarnIfFailed((*db)->Exec("PRAGMA incremental_vacuum"), path, "giving the freed pages back");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WarnIfFailed((*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)"), path, "checkpointing the WAL");
  Result<int64_t> after = store::SearchIndexesPresent(db->get());
  if (!after.ok()) return Fail(after.status());
  const double mb = (std::max<int64_t>(FileSize(path), 0) - bytes_before) / 1e6;
  if (options.drop) {
    std::printf("%s: dropped %lld search index(es) in %.1f s (file %+.1f MB); %lld of %zu left\n",
                path.c_str(), static_cast<long long>(*before - *after), seconds, mb,
                static_cast<long long>(*after), names.size());
  } else {
    std::printf(
        "%s: built %lld search index(es) in %.1f s (file %+.1f MB); %lld of %zu present.\n"
        "A recorder writing this database keeps the indexes up to date from now on, at a\n"
        "cost per event (BENCHMARKS.md row B). The trigram index of the strings covers\n"
        "those there are now: `search` reads newer ones through, and running this again\n"
        "adds them. `recorder search-index --drop` removes them all.\n",
        path.c_str(), static_cast<long long>(*after - *before), seconds, mb,
        static_cast<long long>(*after), names.size());
  }
  return 0;
}

}  // namespace

void AddSearchIndexCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<SearchIndexOptions>();
  CLI::App* cmd =
      app.add_subcommand("search-index", "Build (or drop) the indexes `recorder search` uses");
  cmd->description(
      "Build the indexes `recorder search` would use on a large database (paths,\n"
      "addresses, ports, exe, command line, hashes and users, by their string ids),\n"
      "and a trigram index of the strings themselves (FTS5), or bring that one up to\n"
      "date. The recorder does not keep them while recording: their keys come in\n"
      "random order, so every insert would cost more. Without them a search reads\n"
      "each table through (about 1 s on 10M events); with them it reads a few pages\n"
      "(16-96 ms). For a copy or an archive of a database under investigation\n"
      "(copy it first: the indexes stay in the file), or a live one whose owner\n"
      "accepts the cost; --drop removes them.\n"
      "\n"
      "Examples:\n"
      "  recorder search-index --db case.db\n"
      "  recorder search-index --db case.db --drop\n"
      "\n"
      "Exit codes: 0 done; 2 the database is missing, cannot be written or is not a\n"
      "recorder database.");
  AddReadDatabaseOptions(cmd, &options->db, &options->config_dir);
  cmd->add_flag("--drop", options->drop, "Remove the search indexes instead");
  cmd->callback([options, exit_code] { *exit_code = RunSearchIndex(*options); });
}

}  // namespace recorder::cli
