// Who checkpoints the event store's WAL, and when.
//
// By default SQLite's automatic checkpoint runs inside the COMMIT that
// pushes the WAL past 1000 pages: it writes pages back and fsyncs, inside
// the writer's commit. In background mode this policy turns that off and
// owns a WalCheckpointer (its own thread and connection, PASSIVE
// checkpoints that never block the writer). The policy, not the store's
// caller, owns the thread, because it is what sees each commit's WAL size
// (the wal hook wakes the thread), what must do the fallback checkpoint on
// the writer's connection when the WAL passes the hard limit (the thread
// fell behind or could not start), and what must stop the thread before
// the writer's connection closes (the last close checkpoints and deletes
// the WAL). A checkpointer that cannot start leaves SQLite's automatic
// checkpoints on; recording never depends on it.
//
// Not thread-safe: the store's writer thread calls it (the checkpointer's
// own thread is internal).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "store/sqlite_db.h"
#include "store/wal_checkpointer.h"

namespace recorder::store {

// How the WAL got checkpointed, for status output.
struct StoreCheckpointStats {
  bool background = false;          // the checkpointer thread is running
  WalCheckpointStats thread;        // its counters (start error in last_error)
  uint64_t writer_checkpoints = 0;  // hard-limit fallbacks on the writer connection
  uint64_t writer_frames = 0;       // log frames at those (mostly copied by the thread)
  double writer_longest_ms = 0;
  int64_t wal_frames = 0;  // frames in the WAL after the last commit
};

class CheckpointPolicy {
 public:
  // `db` is the writer's connection and must outlive the policy.
  // `hard_limit_frames`: see EventStoreOptions::wal_hard_limit_frames.
  CheckpointPolicy(Database* db, WalCheckpointerOptions thread_options, int64_t hard_limit_frames);
  ~CheckpointPolicy();
  CheckpointPolicy(const CheckpointPolicy&) = delete;
  CheckpointPolicy& operator=(const CheckpointPolicy&) = delete;

  // Starts the thread, turns SQLite's own automatic checkpoint off and
  // hooks the commits' WAL size; on failure keeps SQLite's (the reason is
  // in stats().thread.last_error).
  void StartBackground();
  // After each commit: tells the thread the WAL size, or checkpoints on
  // the writer's connection when it passed the hard limit.
  void AfterCommit();
  // Stops the thread; later commits are checkpointed by SQLite's close,
  // or by the hard-limit fallback.
  void Stop();
  StoreCheckpointStats stats() const;

 private:
  static int OnWalCommit(void* policy, sqlite3* db, const char* name, int frames);

  Database* const db_;
  const WalCheckpointerOptions thread_options_;
  const int64_t hard_limit_frames_;
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::string checkpointer_error_;  // why it did not start
  int64_t wal_frames_ = 0;          // from the wal hook, per commit
  int64_t last_fallback_frames_ = 0;
  uint64_t writer_checkpoints_ = 0;
  uint64_t writer_frames_ = 0;
  double writer_longest_ms_ = 0;
};

}  // namespace recorder::store
