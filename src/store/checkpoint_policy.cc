#include "store/checkpoint_policy.h"

#include <algorithm>

#include "util/clock.h"

namespace recorder::store {

CheckpointPolicy::CheckpointPolicy(Database* db, WalCheckpointerOptions thread_options,
                                   int64_t hard_limit_frames)
    : db_(db), thread_options_(thread_options), hard_limit_frames_(hard_limit_frames) {}

CheckpointPolicy::~CheckpointPolicy() {
  Stop();
  if (checkpointer_) sqlite3_wal_hook(db_->handle(), nullptr, nullptr);
}

void CheckpointPolicy::StartBackground() {
  auto checkpointer = std::make_unique<WalCheckpointer>(db_->path(), thread_options_);
  Status started = checkpointer->Start();
  if (!started.ok()) {
    // SQLite's automatic checkpoints stay on: slower commits, bounded WAL.
    checkpointer_error_ = started.message();
    return;
  }
  // The pragma resets the wal hook (auto-checkpoint is itself a wal hook),
  // so it goes first.
  Status off = db_->Exec("PRAGMA wal_autocheckpoint=0");
  if (!off.ok()) {
    checkpointer_error_ = fmt::format("wal_autocheckpoint=0: {}", off.message());
    return;  // the checkpointer stops as it goes out of scope
  }
  sqlite3_wal_hook(db_->handle(), &CheckpointPolicy::OnWalCommit, this);
  checkpointer_ = std::move(checkpointer);
}

int CheckpointPolicy::OnWalCommit(void* policy, sqlite3* /*db*/, const char* /*name*/, int frames) {
  static_cast<CheckpointPolicy*>(policy)->wal_frames_ = frames;
  return SQLITE_OK;
}

void CheckpointPolicy::AfterCommit() {
  // Without a running checkpoint thread SQLite's own auto-checkpoint is on.
  if (!checkpointer_) return;
  checkpointer_->NoteWalFrames(wal_frames_);
  if (wal_frames_ < hard_limit_frames_) {
    last_fallback_frames_ = 0;
    return;
  }
  // A reader pinning the log makes every checkpoint copy little; retry
  // only once the log grew by another threshold's worth.
  if (last_fallback_frames_ > 0 && wal_frames_ >= last_fallback_frames_ &&
      wal_frames_ - last_fallback_frames_ < thread_options_.wal_frames_threshold)
    return;
  int log_frames = 0;
  int backfilled = 0;
  const int64_t started = MonotonicMs();
  // PASSIVE: copies what no reader needs, waits for nobody. A failure
  // (the thread's checkpoint holds the lock) is retried after the next
  // commit.
  if (sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                &backfilled) != SQLITE_OK)
    return;
  last_fallback_frames_ = wal_frames_;
  ++writer_checkpoints_;
  if (log_frames > 0) writer_frames_ += static_cast<uint64_t>(log_frames);
  writer_longest_ms_ = std::max(writer_longest_ms_, static_cast<double>(MonotonicMs() - started));
}

void CheckpointPolicy::Stop() {
  if (checkpointer_) checkpointer_->Stop();
}

StoreCheckpointStats CheckpointPolicy::stats() const {
  StoreCheckpointStats stats;
  if (checkpointer_) {
    stats.background = checkpointer_->running();
    stats.thread = checkpointer_->stats();
  }
  if (!checkpointer_error_.empty()) stats.thread.last_error = checkpointer_error_;
  stats.writer_checkpoints = writer_checkpoints_;
  stats.writer_frames = writer_frames_;
  stats.writer_longest_ms = writer_longest_ms_;
  stats.wal_frames = wal_frames_;
  return stats;
}

}  // namespace recorder::store
