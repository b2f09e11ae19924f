// Background WAL checkpoints: copies the write-ahead log back into the
// database file on a thread of its own, so the writer's COMMIT never does.
//
// Why: with SQLite's automatic checkpoint (wal_autocheckpoint=1000 pages)
// the COMMIT that crosses the threshold writes the pages back and fsyncs
// the database inside the commit, on the live recorder's event loop,
// while nobody reads the kernel's audit backlog. A PASSIVE
// checkpoint from another connection never blocks the writer (it copies
// only frames no reader still needs and takes no write lock), so the
// writer sets wal_autocheckpoint=0 and this thread checkpoints instead.
//
// When: whenever the writer reports (NoteWalFrames, from its wal hook
// after a commit) at least `wal_frames_threshold` frames in the WAL, and
// at least every `interval_ms` otherwise. A passive checkpoint with
// nothing to copy costs a lock and a look at the wal index.
//
// Bounds: a reader that keeps a snapshot open pins the WAL for every
// checkpointer, this one and SQLite's own alike; the writer keeps a hard
// limit of its own (EventStoreOptions) for when this thread falls behind
// or failed to open, see EventStore.
//
// Errors are counted and logged, never thrown and never fatal: a failed
// checkpoint leaves the WAL longer, not the data wrong.
//
// Thread safety: NoteWalFrames and stats() may be called from any
// thread; Start and Stop from the owner's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

struct WalCheckpointerOptions {
  // Checkpoint as soon as the WAL holds this many frames (pages); SQLite's
  // own default auto-checkpoint threshold.
  int64_t wal_frames_threshold = 1000;
  // ...and at least this often, written or not (a checkpoint of an
  // unchanged WAL is cheap).
  int64_t interval_ms = 1000;
  // The database file's growth step (EventStoreOptions::chunk_size_bytes):
  // checkpoints write the pages that grow the file, so this connection
  // needs it as well as the store's.
  int64_t chunk_size_bytes = 0;
};

struct WalCheckpointStats {
  uint64_t checkpoints = 0;          // checkpoint calls that returned OK
  uint64_t frames_checkpointed = 0;  // frames copied into the database by them
  uint64_t busy = 0;                 // another checkpoint held the lock (retention's TRUNCATE)
  uint64_t errors = 0;               // other failures (see last_error)
  double longest_ms = 0;             // longest single checkpoint call
  int64_t last_wal_frames = 0;       // frames in the WAL at the last checkpoint
  int64_t last_wal_frames_left = 0;  // of those, not copied (pinned by a reader)
  std::string last_error;
};

class WalCheckpointer {
 public:
  // `db_path` must already be a WAL database (EventStore::Open makes it so).
  explicit WalCheckpointer(std::string db_path, WalCheckpointerOptions options = {});
  // Stops the thread and closes its connection.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Opens the checkpointer's own connection and starts the thread. An
  // error leaves nothing running (the caller keeps SQLite's own
  // checkpoints or its hard limit).
  Status Start();
  // Wakes the thread, waits for a running checkpoint to end and closes
  // the connection. Idempotent. Call it before the writer closes, so the
  // writer's close is the last one (SQLite then checkpoints and deletes
  // the WAL).
  void Stop();

  // The writer's view after a commit: `frames` in the WAL. Wakes the
  // thread when past the threshold. Cheap; never blocks on a checkpoint.
  void NoteWalFrames(int64_t frames);

  WalCheckpointStats stats() const;
  bool running() const { return thread_.joinable(); }

 private:
  void Run();
  void CheckpointOnce();
  // The WAL header's checkpoint sequence number: it changes when the
  // writer restarts the log, which tells whether the frame counts of two
  // checkpoints are of the same log. 0 when unreadable.
  uint32_t WalGeneration() const;

  const std::string path_;
  const WalCheckpointerOptions options_;
  std::unique_ptr<Database> db_;  // the thread's own connection
  std::thread thread_;

  std::mutex mutex_;  // guards stop_, wake_
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;

  mutable std::mutex stats_mutex_;
  WalCheckpointStats stats_;
  // Where the previous checkpoint left the log (thread-only).
  uint32_t last_generation_ = 0;
  int64_t last_backfilled_ = 0;
};

}  // namespace recorder::store
