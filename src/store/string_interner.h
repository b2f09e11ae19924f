// Interns repeated strings (exe paths, cwd, file paths, addresses, users,
// command lines) into side tables so an event row holds small integer ids.
//
// A bounded in-memory cache answers the hot path; only a string not seen
// recently costs a lookup (and, when new, an insert). The cache is
// cleared wholesale when it passes its byte budget: the working set of an
// endpoint (a few thousand exe paths and addresses) refills it quickly,
// and a simple bound beats an LRU's per-hit bookkeeping here.
//
// Not thread-safe; uses the owner's connection and transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/sqlite_db.h"
#include "util/status.h"
#include "util/string_map.h"

namespace recorder::store {

class StringInterner {
 public:
  static Result<std::unique_ptr<StringInterner>> Create(Database* db, size_t cache_bytes);

  // The id of `value` in `strings`, inserting it when new; 0 (stored as
  // NULL) for the empty string.
  Result<int64_t> Intern(std::string_view value);
  // The id in `commands` for this argv (JSON array + shell-quoted
  // cmdline); 0 for an empty argv.
  Result<int64_t> InternArgv(const std::vector<std::string>& argv);

  // After a ROLLBACK: ids handed out in it no longer exist (and will be
  // handed out again), so nothing cached may be trusted. Also how a full
  // cache starts over.
  void ForgetAll() {
    strings_.clear();
    commands_.clear();
    used_bytes_ = 0;
  }

  uint64_t cache_hits() const { return hits_; }
  uint64_t cache_misses() const { return misses_; }

 private:
  using Cache = StringMap<int64_t>;

  StringInterner(Database* db, size_t cache_bytes) : db_(db), cache_bytes_(cache_bytes) {}
  void Remember(Cache* cache, std::string_view key, int64_t id);

  Database* db_;
  size_t cache_bytes_;
  size_t used_bytes_ = 0;
  Cache strings_;
  Cache commands_;   // keyed by the argv joined with NUL bytes
  std::string key_;  // reused scratch for the argv key
  std::unique_ptr<Statement> select_string_, insert_string_;
  std::unique_ptr<Statement> select_command_, insert_command_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

// argv as one shell-readable line: arguments that are empty or hold
// anything but [A-Za-z0-9_@%+=:,./-] are single-quoted, a quote inside
// written '\'' (POSIX shell quoting, like Python's shlex.quote).
std::string ShellJoin(const std::vector<std::string>& argv);
// argv as a JSON array of strings; bytes that are not UTF-8 become U+FFFD.
std::string ArgvJson(const std::vector<std::string>& argv);

}  // namespace recorder::store
