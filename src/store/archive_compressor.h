// Compresses database archives on a thread of its own, so that a
// database switch (MaxCleanTries, `recorder recreate-db`) costs the
// recording path only the quick rename of MoveAsideForArchive: the fresh
// file takes events while the old one is compressed (CompressArchive) and
// the archives are pruned to DatabaseArchiveLimit (PruneArchives), in the
// order they were added.
//
// Stop (and the destructor) finishes the queue: every archive added is
// compressed when it returns. A process killed before that leaves the
// archive uncompressed but whole (CompressArchive writes under a
// temporary name); Add it again at the next start (ListUncompressedArchives).
//
// Thread-safe. Errors are kept for the owner to report (errors()); an
// archive that failed stays uncompressed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace recorder::store {

class ArchiveCompressor {
 public:
  struct Done {
    std::string archive;              // the .gz written
    std::vector<std::string> erased;  // archives erased for the limit
  };

  ArchiveCompressor() = default;
  ~ArchiveCompressor() { Stop(); }
  ArchiveCompressor(const ArchiveCompressor&) = delete;
  ArchiveCompressor& operator=(const ArchiveCompressor&) = delete;

  // Queues `moved` (MoveAsideForArchive's name for an archive of
  // `db_path`); after it, `db_path`'s archives are pruned to
  // `archive_limit`. Starts the thread on first use.
  void Add(std::string moved, std::string db_path, int archive_limit);
  // Waits until everything added so far is done.
  void Wait();
  // Finishes the queue and ends the thread. Idempotent; Add after Stop
  // starts the thread again.
  void Stop();

  // What finished since the last call, and what failed (one line each).
  std::vector<Done> TakeDone();
  std::vector<std::string> TakeErrors();
  size_t pending() const;

 private:
  struct Job {
    std::string moved;
    std::string db_path;
    int archive_limit = 0;
  };
  void Work();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;            // GUARDED_BY(mutex_); the front is being worked on
  bool stopping_ = false;            // GUARDED_BY(mutex_)
  std::vector<Done> done_;           // GUARDED_BY(mutex_)
  std::vector<std::string> errors_;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace recorder::store
