// Hashing off the event path: Lookup() answers from the cache or queues
// the file for a worker thread and says "pending"; the worker streams the
// file through SHA-256/MD5, fills the cache and reports a completion, so
// the store can fill the hash in later (an UPDATE of the rows that said
// "pending").
//
// The event path only stat()s the file and takes a mutex for a map probe;
// it never reads file contents and never waits for the worker. The queue
// is bounded; a full queue drops the request (counted, note "queue full").
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "enrich/hash_cache.h"

namespace recorder::enrich {

inline constexpr char kNotePending[] = "pending";
inline constexpr char kNoteQueueFull[] = "queue full";

struct HashWorkerOptions {
  // ~100 bytes a request: 4096 absorbs a burst of that many new binaries.
  size_t queue_capacity = 4096;
  int64_t max_file_bytes = 64LL * 1024 * 1024;  // larger files: note "too large"
  size_t max_completions = 8192;  // undelivered completions kept; oldest dropped (counted)
};

enum class HashState : uint8_t {
  kReady,        // hashes filled from the cache
  kPending,      // queued (now or by an earlier lookup); a completion will follow
  kUnavailable,  // no hash will come; hashes.note says why
};

struct HashLookup {
  HashState state = HashState::kUnavailable;
  FileHashes hashes;  // note = "pending" while kPending
  FileKey key;
};

struct HashCompletion {
  std::string path;
  FileKey key;  // identity of the file that was read
  FileHashes hashes;
};

struct HashWorkerStats {
  uint64_t lookups = 0;
  uint64_t hits = 0;
  uint64_t queued = 0;
  uint64_t dropped = 0;  // queue full
  uint64_t hashed = 0;
  uint64_t too_large = 0;
  uint64_t failed = 0;  // unreadable or changed while hashing
  uint64_t completions_dropped = 0;
};

class HashWorker {
 public:
  // `cache` is borrowed and must outlive the worker.
  HashWorker(HashCache* cache, HashWorkerOptions options = {});
  ~HashWorker();  // Stop()s
  HashWorker(const HashWorker&) = delete;
  HashWorker& operator=(const HashWorker&) = delete;

  // Optional; called on the worker thread for each finished file. Set it
  // before Start(). It must not call back into the worker.
  void SetCompletionCallback(std::function<void(const HashCompletion&)> callback);
  void Start();
  // Finishes the file in hand, drops the rest of the queue, joins.
  void Stop();

  // Event path. Thread-safe.
  HashLookup Lookup(const std::string& path);
  // Completions since the last call (oldest first). Thread-safe.
  std::vector<HashCompletion> TakeCompletions();
  // Test/shutdown helper: true once the queue is empty and the worker
  // idle, false after timeout_ms.
  bool WaitIdle(int64_t timeout_ms);

  HashWorkerStats stats() const;
  const HashWorkerOptions& options() const { return options_; }

 private:
  struct Request {
    std::string path;
    FileKey key;
  };
  void Run();

  HashCache* const cache_;
  const HashWorkerOptions options_;
  std::function<void(const HashCompletion&)> callback_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;                        // work arrived or stopping
  std::condition_variable idle_;                        // queue drained
  std::deque<Request> queue_;                           // guarded by mutex_
  std::unordered_set<FileKey, FileKeyHash> in_flight_;  // queued or being hashed; mutex_
  std::deque<HashCompletion> completions_;              // guarded by mutex_
  bool busy_ = false;                                   // guarded by mutex_
  bool stopping_ = false;                               // guarded by mutex_
  HashWorkerStats stats_;                               // guarded by mutex_
  std::thread thread_;
};

}  // namespace recorder::enrich
