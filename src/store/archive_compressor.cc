#include "store/archive_compressor.h"

#include <fmt/format.h>
#include <pthread.h>

#include <utility>

#include "store/db_archive.h"

namespace recorder::store {

void ArchiveCompressor::Add(std::string moved, std::string db_path, int archive_limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(Job{std::move(moved), std::move(db_path), archive_limit});
  if (!thread_.joinable()) {
    stopping_ = false;
    thread_ = std::thread([this] { Work(); });
  }
  changed_.notify_all();
}

void ArchiveCompressor::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return queue_.empty(); });
}

void ArchiveCompressor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<ArchiveCompressor::Done> ArchiveCompressor::TakeDone() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(done_, {});
}

std::vector<std::string> ArchiveCompressor::TakeErrors() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(errors_, {});
}

size_t ArchiveCompressor::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void ArchiveCompressor::Work() {
  // Named for top -H (15 characters at most).
  pthread_setname_np(pthread_self(), "recorder-archiv");
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    // Stopping finishes the queue first: an archive is never left behind
    // half done by a stop.
    if (queue_.empty()) return;
    const Job job = queue_.front();
    lock.unlock();
    Done done;
    std::string error;
    Result<std::string> archive = CompressArchive(job.moved);
    if (archive.ok()) {
      done.archive = *archive;
      Result<std::vector<std::string>> erased = PruneArchives(job.db_path, job.archive_limit);
      if (erased.ok()) {
        done.erased = std::move(*erased);
      } else {
        error = fmt::format("erasing old archives (DatabaseArchiveLimit {}): {}", job.archive_limit,
                            erased.status().message());
      }
    } else {
      error = fmt::format("compressing {} (left uncompressed): {}", job.moved,
                          archive.status().message());
    }
    lock.lock();
    if (!done.archive.empty()) done_.push_back(std::move(done));
    if (!error.empty()) errors_.push_back(std::move(error));
    queue_.pop_front();
    changed_.notify_all();
  }
}

}  // namespace recorder::store
