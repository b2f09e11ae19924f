// Where directories are, by (device, inode), as file events reveal them:
// the path resolver's memory (src/enrich/path_resolver.h).
//
// An entry is either an absolute path ("/var/tmp/rmtest") or a name under
// another directory ("sub" under inode 1098723). Chains of names end at an
// absolute entry or at a directory not known yet, so a name logged under
// an unknown directory becomes absolute as soon as some event reveals a
// directory above it, in either order. A rename moves one entry and every
// chain through it follows; absolute entries below a moved directory are
// rewritten (or, when the old path is not known, all absolute entries are
// dropped: none of them can be trusted to be outside the moved tree).
//
// Bounded: past `max_entries` the oldest entry goes. Pure: no I/O, no
// clock. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace recorder::enrich {

struct DirKey {
  uint32_t node = 0;  // the event's node, numbered by the caller (0: this machine)
  uint64_t dev = 0;   // st_dev
  uint64_t inode = 0;
  bool known() const { return inode != 0; }
  bool operator==(const DirKey&) const = default;
};

struct DirKeyHash {
  size_t operator()(const DirKey& k) const {
    uint64_t h = k.inode * 0x9E3779B97F4A7C15ull;
    h ^= (k.dev + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2));
    h ^= (static_cast<uint64_t>(k.node) << 48);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// `base` + "/" + `relative` ("" is the directory itself), without a double
// slash after "/".
std::string JoinPath(std::string_view base, std::string_view relative);

struct DirectoryMapStats {
  uint64_t evicted = 0;           // entries dropped for the bound
  uint64_t absolute_dropped = 0;  // absolute entries dropped by a move from an unknown path
};

class DirectoryMap {
 public:
  explicit DirectoryMap(size_t max_entries = 65536);

  // `key` is at absolute `path` now. Returns false when it already was.
  bool SetPath(const DirKey& key, std::string_view path);
  // `key` is `name` (one component) under `parent` now. Returns false
  // when it already was.
  bool SetChild(const DirKey& key, const DirKey& parent, std::string_view name);
  void Forget(const DirKey& key);

  // `*relative` is a path relative to the directory `*key` ("" for the
  // directory itself). When the chain of names from *key reaches an
  // absolute entry, makes *relative that absolute path and returns true.
  // Otherwise rewrites *relative relative to the first directory on the
  // chain that is not known, sets *key to it, and returns false.
  bool Resolve(DirKey* key, std::string* relative) const;
  // The absolute path of `key` now, or "" when not known.
  std::string PathOf(const DirKey& key) const;
  // The directories above `key` along its chain of names, nearest first,
  // up to an absolute entry or the first directory not known.
  void Ancestors(const DirKey& key, std::vector<DirKey>* out) const;

  // `key` was moved by a rename: it is now at `new_path` (absolute, or ""
  // when not known) or else `new_name` under `new_parent`. Returns the
  // absolute path it had before ("" when not known) in *old_path and the
  // one it has now in *moved_to. Absolute entries below the old path move
  // with it; when the old path is not known, every absolute entry is
  // dropped.
  void Move(const DirKey& key, std::string_view new_path, const DirKey& new_parent,
            std::string_view new_name, std::string* old_path, std::string* moved_to);

  size_t size() const { return entries_.size(); }
  const DirectoryMapStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::string path;  // absolute when parent is not known
    DirKey parent;
    std::string name;
    uint64_t stamp = 0;  // position in order_
  };
  // Chains longer than this are taken as a cycle (a stale entry).
  static constexpr int kMaxDepth = 256;

  Entry& Touch(const DirKey& key);
  void Evict();

  const size_t max_entries_;
  std::unordered_map<DirKey, Entry, DirKeyHash> entries_;
  // Keys in the order they were last set, with their stamp then: the
  // front is the oldest unless its stamp is stale (set again since).
  std::deque<std::pair<DirKey, uint64_t>> order_;
  uint64_t next_stamp_ = 1;
  DirectoryMapStats stats_;
};

}  // namespace recorder::enrich
