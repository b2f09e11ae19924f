// uid/gid -> name from /etc/passwd and /etc/group, read directly.
//
// Files only, no NSS (getpwuid_r): an NSS lookup may go to LDAP/sssd over
// the network and block for seconds, and the event path must never wait.
// Users that exist only in a directory service show as their number. See
// docs/enrichment.md.
//
// The files are re-read when their identity (inode, size, mtime) changes,
// checked at most once per refresh interval; time is passed in. Not
// thread-safe: the event path owns it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "enrich/hash_cache.h"

namespace recorder::enrich {

struct UserNamesOptions {
  std::string passwd_path = "/etc/passwd";
  std::string group_path = "/etc/group";
  int64_t refresh_interval_ms = 10'000;
  // An id that is not in the files makes them be checked again (a stat of
  // each; read only if changed), at most this often: a user created a
  // moment ago (useradd, then su) is named at once instead of after the
  // refresh interval, and a flood of events from an id with no entry costs
  // at most ten stats a second.
  int64_t miss_recheck_interval_ms = 100;
};

class UserNames {
 public:
  explicit UserNames(UserNamesOptions options = {});

  // "root"; the number as text when unknown; "unset" for -1/4294967295
  // (audit's "not set", e.g. the auid of a daemon).
  std::string UserName(int64_t uid, int64_t now_ms);
  std::string GroupName(int64_t gid, int64_t now_ms);

  // Re-reads changed files if the interval has passed since the last check.
  void MaybeRefresh(int64_t now_ms);
  uint64_t reloads() const { return reloads_; }

 private:
  struct Table {
    std::string path;
    FileKey key;
    bool loaded = false;
    std::unordered_map<int64_t, std::string> names;
  };
  void Reload(Table* table);
  // The name of `id` in `table`, re-checking the files once on a miss.
  std::string Name(Table* table, int64_t id, int64_t now_ms);

  UserNamesOptions options_;
  Table users_;
  Table groups_;
  int64_t last_check_ms_ = INT64_MIN;
  uint64_t reloads_ = 0;
};

}  // namespace recorder::enrich
