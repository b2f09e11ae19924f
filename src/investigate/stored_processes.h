// The process rows of monitor.db as the signal matcher's lineage
// (filter::ProcessLineage), for hunts: each row's pid, parent, exe and
// argv, read once; strings and argv read on first use and kept.
//
// Instances are keyed by process_id, not by start time: every stored
// event knows its process_id, so a hunt puts it where the matcher passes
// a start time (Enrichment::process_start_ms, ProcessFacts::start_ms and
// parent_start_ms), and Instance looks it up. A key < 0 is no instance.
// Not thread-safe (the caches fill as the matcher asks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "filter/process_lineage.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// A nullable integer column: `fallback` for NULL.
int64_t ColumnIntOr(const store::Statement& statement, int column, int64_t fallback);

// `strings` by id, cached.
class StringCache {
 public:
  static Result<std::unique_ptr<StringCache>> Open(store::Database& db);
  // Empty for id 0 (NULL) or an unknown id. Valid as long as the cache.
  std::string_view Get(int64_t id) const;

 private:
  explicit StringCache(std::unique_ptr<store::Statement> select) : select_(std::move(select)) {}
  std::unique_ptr<store::Statement> select_;
  mutable std::unordered_map<int64_t, std::string> values_;
};

class StoredProcesses : public filter::ProcessLineage {
 public:
  struct Row {
    int32_t pid = 0;
    int32_t ppid = 0;
    int64_t parent_id = -1;  // parent_process_id; -1 when NULL
    int64_t exe_id = 0;
    int64_t command_id = 0;
    int64_t uid = -1;
    int64_t auid = -1;
    // Imported from a Sysmon log (a windows_process_data row): its events
    // are Windows ones, which a hunt does not rebuild.
    bool windows = false;
  };

  // Reads every process row. With `keep_argv`, Instance gives argv (read
  // from `commands` on first use). `strings` is borrowed.
  static Result<std::unique_ptr<StoredProcesses>> Load(store::Database& db,
                                                       const StringCache* strings, bool keep_argv);

  // `key` is a process_id, which names its host already: `node` is kept
  // in the answer, not looked up.
  bool Instance(std::string_view node, int32_t pid, int64_t key, int64_t at_ms,
                filter::ProcessFacts* out) const override;

  // Null for an unknown process_id.
  const Row* Find(int64_t process_id) const;
  std::string_view Exe(const Row& row) const { return strings_->Get(row.exe_id); }
  // The argv of command `command_id` (empty for 0 or an unknown id).
  const std::vector<std::string>& Argv(int64_t command_id) const;
  size_t size() const { return rows_.size(); }

 private:
  StoredProcesses(const StringCache* strings, std::unique_ptr<store::Statement> select_command,
                  bool keep_argv)
      : strings_(strings), select_command_(std::move(select_command)), keep_argv_(keep_argv) {}

  const StringCache* strings_;
  std::unique_ptr<store::Statement> select_command_;
  bool keep_argv_;
  std::unordered_map<int64_t, Row> rows_;
  mutable std::unordered_map<int64_t, std::vector<std::string>> argv_;
};

}  // namespace recorder::investigate
