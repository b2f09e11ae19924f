#include "store/wal_checkpointer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace recorder::store {

WalCheckpointer::WalCheckpointer(std::string db_path, WalCheckpointerOptions options)
    : path_(std::move(db_path)), options_(options) {}

WalCheckpointer::~WalCheckpointer() { Stop(); }

Status WalCheckpointer::Start() {
  if (thread_.joinable()) return Status::Ok();
  // NOMUTEX: only the checkpoint thread uses this connection once started.
  Result<std::unique_ptr<Database>> db =
      Database::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!db.ok()) return db.status();
  if (options_.chunk_size_bytes > 0) {
    Status chunk = (*db)->SetChunkSize(options_.chunk_size_bytes);
    if (!chunk.ok()) return chunk;
  }
  // A checkpoint from a connection that never read the database finds no
  // WAL open (SQLite opens it on the first read): read the schema once.
  Result<int64_t> mode = (*db)->QueryInt("SELECT count(*) FROM sqlite_master");
  if (!mode.ok()) return Status::Errorf("{}: checkpointer: {}", path_, mode.status().message());
  db_ = std::move(db).value();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = false;
    wake_ = false;
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void WalCheckpointer::Stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  db_.reset();
}

void WalCheckpointer::NoteWalFrames(int64_t frames) {
  if (frames < options_.wal_frames_threshold) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_ = true;
  }
  cv_.notify_one();
}

WalCheckpointStats WalCheckpointer::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

void WalCheckpointer::Run() {
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(options_.interval_ms, 1));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, interval, [this] { return stop_ || wake_; });
    if (stop_) break;
    wake_ = false;
    lock.unlock();
    CheckpointOnce();
    lock.lock();
  }
}

uint32_t WalCheckpointer::WalGeneration() const {
  // WAL header (sqlite.org/fileformat2.html#walformat): bytes 12..15 are
  // the big-endian checkpoint sequence number.
  int fd = open((path_ + "-wal").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned char header[16] = {};
  ssize_t got = pread(fd, header, sizeof header, 0);
  close(fd);
  if (got != static_cast<ssize_t>(sizeof header)) return 0;
  return (uint32_t{header[12]} << 24) | (uint32_t{header[13]} << 16) | (uint32_t{header[14]} << 8) |
         uint32_t{header[15]};
}

void WalCheckpointer::CheckpointOnce() {
  int log_frames = 0;
  int backfilled = 0;
  const auto started = std::chrono::steady_clock::now();
  const int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &log_frames, &backfilled);
  const double took_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const uint32_t generation = WalGeneration();

  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.longest_ms = std::max(stats_.longest_ms, took_ms);
  const int code = rc & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    // Another checkpoint (retention's TRUNCATE, the writer's fallback)
    // holds the checkpoint lock: it does the work.
    ++stats_.busy;
    return;
  }
  if (rc != SQLITE_OK) {
    ++stats_.errors;
    std::string message = fmt::format("{}: checkpoint: {}", path_, sqlite3_errmsg(db_->handle()));
    // Once per distinct message: a persistent failure must not flood the log.
    if (message != stats_.last_error) spdlog::warn("{}", message);
    stats_.last_error = std::move(message);
    return;
  }
  ++stats_.checkpoints;
  if (log_frames >= 0 && backfilled >= 0) {
    // Frames this call copied: the backfill count grows within one log;
    // a restarted log (new generation) counts from zero again.
    const int64_t before = generation == last_generation_ ? last_backfilled_ : 0;
    if (backfilled > before)
      stats_.frames_checkpointed += static_cast<uint64_t>(backfilled - before);
    last_generation_ = generation;
    last_backfilled_ = backfilled;
    stats_.last_wal_frames = log_frames;
    stats_.last_wal_frames_left = log_frames - backfilled;
  }
}

}  // namespace recorder::store
