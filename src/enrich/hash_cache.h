// File hashes (SHA-256 and MD5) and the cache that remembers them by file
// identity, so a binary is hashed once per version, not once per exec.
//
// A cache key is (dev, inode, size, mtime_ns): a binary replaced in place
// (new inode from a rename, or rewritten with a new mtime/size) is a
// different key and gets hashed again. Thread-safe: the hash worker writes,
// the event path reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "util/status.h"

namespace recorder::enrich {

struct FileKey {
  uint64_t dev = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;

  bool operator==(const FileKey&) const = default;
};

struct FileKeyHash {
  size_t operator()(const FileKey& k) const {
    uint64_t h = k.dev * 0x9E3779B97F4A7C15ULL;
    h ^= k.inode + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.size) + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.mtime_ns) + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

// Hex digests; both empty with a `note` saying why ("too large",
// "unreadable: ...", "changed while hashing") when there is none.
struct FileHashes {
  std::string sha256;
  std::string md5;
  std::string note;
};

inline constexpr char kNoteTooLarge[] = "too large";

// stat() of path as a cache key.
Result<FileKey> StatFileKey(const std::string& path);

// Hashes a file by streaming it through both digests (64 KiB reads, never
// the whole file in memory). Files over max_bytes are not read: note is
// "too large". `key` receives the identity of the file actually read
// (fstat of the opened descriptor).
FileHashes HashFile(const std::string& path, int64_t max_bytes, FileKey* key);

class HashCache {
 public:
  explicit HashCache(size_t max_entries = 16384);

  std::optional<FileHashes> Get(const FileKey& key);  // marks it recently used
  void Put(const FileKey& key, FileHashes hashes);
  size_t size() const;

  // ImageHashStateFile: a text file, one "dev inode size mtime_ns sha256
  // md5" line per entry after a "recorder-hash-cache 1 COUNT" header,
  // least recently used first. Written to PATH.tmp and renamed.
  Status Save(const std::string& path) const;
  // Adds the file's entries. A corrupt file is an error and adds nothing.
  Status Load(const std::string& path);

 private:
  struct Entry {
    FileKey key;
    FileHashes hashes;
  };
  void PutLocked(const FileKey& key, FileHashes hashes);

  const size_t max_entries_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // front = most recently used; guarded by mutex_
  std::unordered_map<FileKey, std::list<Entry>::iterator, FileKeyHash> index_;  // guarded by mutex_
};

}  // namespace recorder::enrich
