// The path resolver's live part: what a process's directory descriptor
// names, from /proc/PID/fd/N, while the process still holds it.
//
// Each answer is checked, because descriptor numbers are reused and the
// process may be gone (its pid reused too): the descriptor must be a
// directory whose path, looked up again, is the same inode; and that
// directory (or the directory part of a longer name below it) must be the
// one the event's PATH item gave, or the file itself must be. A deleted
// directory's path ("... (deleted)") is not taken: it may have been
// renamed before it went.
//
// Read on the enrich stage's thread, only for a name the directory map
// could not resolve: a miss costs a stat and a readlink (more for a name
// with a directory part); a descriptor read once answers its process's
// later names from a bounded per-process cache, checked against the
// event's inode each time and dropped when the process ends or any
// directory is renamed.
//
// Not thread-safe: one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "enrich/path_resolver.h"

namespace recorder::enrich {

struct ProcDirfdsStats {
  uint64_t lookups = 0;
  uint64_t cache_hits = 0;
  uint64_t reads = 0;       // /proc reads
  uint64_t mismatches = 0;  // an answer whose inode was not the event's
};

class ProcDirfds : public LiveDirectories {
 public:
  // `proc` is the procfs mount ("/proc"); `max_entries` bounds the cache.
  explicit ProcDirfds(std::string proc = "/proc", size_t max_entries = 4096);

  std::optional<Answer> Lookup(const LiveQuery& query, int64_t now_ms) override;
  void ProcessEnded(int32_t pid) override;
  void DirectoryMoved() override;

  const ProcDirfdsStats& stats() const { return stats_; }
  size_t cached() const { return entries_; }

 private:
  struct Descriptor {
    int32_t fd = -1;
    uint64_t dev = 0;  // the directory it names
    uint64_t inode = 0;
    std::string path;
    int64_t read_ms = 0;
  };
  std::optional<Descriptor> Read(int32_t pid, int32_t fd, int64_t now_ms);
  // The query's name through `d`, if `d` checks out against the query.
  std::optional<std::string> Through(const Descriptor& d, const LiveQuery& query);

  const std::string proc_;
  const size_t max_entries_;
  std::unordered_map<int32_t, std::vector<Descriptor>> by_pid_;
  size_t entries_ = 0;
  ProcDirfdsStats stats_;
};

}  // namespace recorder::enrich
