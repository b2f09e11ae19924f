// Free disk space for the database (docs/configuration.md "Free disk
// space"): the manual asks for three times maxSizeMB free, and the
// recorder must never fill the disk it shares with the machine it
// protects.
//
//   - DiskSpaceGuard decides, from the file system's free and total bytes,
//     whether events may be written. Below the floor (DiskFloorBytes) it
//     stops writing; it resumes only once free space is back above the
//     floor by a margin (kResumeMarginPercent), so that it does not flap
//     at the boundary. Pure: it reads nothing, the daemon feeds it.
//   - DiskGateSink sits in front of the store on the writer thread: while
//     writing is stopped it drops events (counted); a write the file
//     system refuses (kNoSpace: SQLITE_FULL, ENOSPC) stops writing at
//     once, counts what the store lost, and does not end the run.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "normalize/event_sink.h"
#include "store/event_store.h"
#include "util/status.h"

namespace recorder::daemon {

struct DiskSpace {
  int64_t free_bytes = 0;   // available to the recorder (statvfs f_bavail)
  int64_t total_bytes = 0;  // the file system's size
};

// The free space below which nothing is written: max(64 MB, 1% of the
// file system), but at most a quarter of the file system (on a small
// one the fixed 64 MB would be most or all of it).
int64_t DiskFloorBytes(int64_t total_bytes);

// The free space at the file system holding `path` (statvfs).
Result<DiskSpace> MeasureDiskSpace(const std::string& path);

class DiskSpaceGuard {
 public:
  // Writing resumes at the floor plus this share of it.
  static constexpr int64_t kResumeMarginPercent = 50;

  struct Verdict {
    bool writing = true;
    bool changed = false;            // writing stopped or resumed with this sample
    bool below_recommended = false;  // free < 3 x maxSizeMB (the manual)
    int64_t floor_bytes = 0;
    int64_t resume_bytes = 0;  // free space at which writing resumes
    int64_t recommended_bytes = 0;
  };

  // `max_size_bytes`: maxSizeMB in bytes (0: no size limit, no
  // recommendation).
  explicit DiskSpaceGuard(int64_t max_size_bytes) : max_size_bytes_(max_size_bytes) {}

  Verdict Feed(const DiskSpace& space);
  // The file system refused a write (kNoSpace) although the last sample
  // allowed writing: stop until a sample shows the resume level.
  void NoteFull() { writing_ = false; }
  void set_max_size_bytes(int64_t bytes) { max_size_bytes_ = bytes; }

  bool writing() const { return writing_; }
  int64_t recommended_bytes() const { return 3 * max_size_bytes_; }

 private:
  int64_t max_size_bytes_;
  bool writing_ = true;
};

// Bytes of the database file plus its -wal (a missing file counts 0).
int64_t DatabaseBytes(const std::string& db_path, const std::string& wal_path);

// The database's size against its hard limit between cleanup runs: a
// flood can grow the file (and its -wal) faster than a cleanup deletes,
// and a cleanup needs the writer idle. At `pause_bytes` (halfway from
// maxSizeMB to the hard limit, the smaller of MaxRuntimeStorageSizeMB
// and AbsoluteMaxStorageSizeMB) writing stops, which also lets the cleanup
// run; it resumes once the file is back at maxSizeMB. Pure.
class StorageCap {
 public:
  // Bytes; 0: no limit (never stops).
  StorageCap(int64_t max_size_bytes, int64_t hard_limit_bytes);
  // `bytes`: the database file plus its -wal now. True: writing allowed.
  bool Feed(int64_t bytes);
  bool writing() const { return writing_; }
  // Writing stops now (the writer found the file at pause_bytes: see
  // DiskGateSink::set_pause_bytes); Feed resumes it at maxSizeMB.
  void Stop() {
    if (pause_bytes_ > 0) writing_ = false;
  }
  int64_t pause_bytes() const { return pause_bytes_; }
  int64_t resume_bytes() const { return max_size_bytes_; }

 private:
  int64_t max_size_bytes_;
  int64_t pause_bytes_;  // 0: never
  bool writing_ = true;
};

// The gate in front of the store (see the top of this file). Consume and
// Flush run on the writer thread; set_writing and the counters may be used
// from any thread.
class DiskGateSink : public EventSink {
 public:
  // `store` is borrowed; null: events are dropped (no database).
  explicit DiskGateSink(store::EventStore* store) : store_(store) {}

  Status Consume(EventBatch* events) override;
  Status Flush() override;
  // Passes `status` on, unless it is a full file system: then writing
  // stops, what the store lost is counted, and Ok is returned. For every
  // other use of the store on the writer thread (commits, hashes).
  Status Absorb(Status status);

  // The store after a database switch (the writer is idle then).
  void set_store(store::EventStore* store);
  // The database file whose size (with its -wal) is checked before each
  // batch, set once before the writer starts; and the size at which
  // writing stops (StorageCap::pause_bytes; 0: no check), from any thread.
  // The daemon's own check runs every 250 ms, and a flood can grow the
  // file and its -wal by several MB in that time (more with the
  // investigation indexes): stopping here holds the hard limit.
  // TakeSizeStop() tells the daemon, whose StorageCap resumes writing.
  void set_db_path(const std::string& path);
  void set_pause_bytes(int64_t bytes) { pause_bytes_ = bytes; }
  bool TakeSizeStop() { return size_stop_.exchange(false); }
  void set_writing(bool writing) { writing_ = writing; }
  bool writing() const { return writing_; }
  // Set when a write found the file system full; cleared by take.
  bool TakeFull() { return full_.exchange(false); }
  // Events not stored because of the free-space floor or a full disk.
  uint64_t dropped() const { return dropped_; }

 private:
  void CountStoreLosses();

  store::EventStore* store_;
  uint64_t store_lost_seen_ = 0;  // store_->events_lost() already counted
  std::string db_path_, wal_path_;
  std::atomic<int64_t> pause_bytes_{0};
  std::atomic<bool> size_stop_{false};
  std::atomic<bool> writing_{true};
  std::atomic<bool> full_{false};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace recorder::daemon
