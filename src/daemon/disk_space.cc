#include "daemon/disk_space.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>

#include "util/file_util.h"

namespace recorder::daemon {

int64_t DiskFloorBytes(int64_t total_bytes) {
  constexpr int64_t kMinFloor = int64_t{64} << 20;
  const int64_t floor = std::max(kMinFloor, total_bytes / 100);
  return std::min(floor, total_bytes / 4);
}

Result<DiskSpace> MeasureDiskSpace(const std::string& path) {
  struct statvfs info {};
  if (statvfs(path.c_str(), &info) != 0) return Status::FromErrno(errno, "statvfs " + path);
  DiskSpace space;
  space.free_bytes = static_cast<int64_t>(info.f_bavail) * static_cast<int64_t>(info.f_frsize);
  space.total_bytes = static_cast<int64_t>(info.f_blocks) * static_cast<int64_t>(info.f_frsize);
  return space;
}

DiskSpaceGuard::Verdict DiskSpaceGuard::Feed(const DiskSpace& space) {
  Verdict verdict;
  verdict.floor_bytes = DiskFloorBytes(space.total_bytes);
  verdict.resume_bytes = verdict.floor_bytes + verdict.floor_bytes * kResumeMarginPercent / 100;
  verdict.recommended_bytes = recommended_bytes();
  verdict.below_recommended = max_size_bytes_ > 0 && space.free_bytes < recommended_bytes();
  const bool was_writing = writing_;
  if (writing_ && space.free_bytes < verdict.floor_bytes) writing_ = false;
  if (!writing_ && space.free_bytes >= verdict.resume_bytes) writing_ = true;
  verdict.writing = writing_;
  verdict.changed = writing_ != was_writing;
  return verdict;
}

StorageCap::StorageCap(int64_t max_size_bytes, int64_t hard_limit_bytes)
    : max_size_bytes_(max_size_bytes),
      pause_bytes_(max_size_bytes > 0 && hard_limit_bytes > max_size_bytes
                       ? max_size_bytes + (hard_limit_bytes - max_size_bytes) / 2
                       : 0) {}

bool StorageCap::Feed(int64_t bytes) {
  if (pause_bytes_ == 0) return writing_ = true;
  if (writing_ && bytes >= pause_bytes_) writing_ = false;
  if (!writing_ && bytes <= max_size_bytes_) writing_ = true;
  return writing_;
}

int64_t DatabaseBytes(const std::string& db_path, const std::string& wal_path) {
  return std::max<int64_t>(FileSize(db_path), 0) + std::max<int64_t>(FileSize(wal_path), 0);
}

Status DiskGateSink::Consume(EventBatch* events) {
  if (const int64_t pause = pause_bytes_; writing_ && pause > 0 && !db_path_.empty()) {
    if (DatabaseBytes(db_path_, wal_path_) >= pause) {
      writing_ = false;
      size_stop_ = true;
    }
  }
  if (!writing_ || store_ == nullptr) {
    dropped_ += events->size();
    events->clear();
    return Status::Ok();
  }
  return Absorb(store_->Consume(events));
}

Status DiskGateSink::Flush() {
  if (store_ == nullptr) return Status::Ok();
  return Absorb(store_->Flush());
}

Status DiskGateSink::Absorb(Status status) {
  if (store_ != nullptr) CountStoreLosses();
  if (status.ok() || status.code() != StatusCode::kNoSpace) return status;
  writing_ = false;
  full_ = true;
  return Status::Ok();
}

void DiskGateSink::CountStoreLosses() {
  const uint64_t lost = store_->events_lost();
  dropped_ += lost - store_lost_seen_;
  store_lost_seen_ = lost;
}

void DiskGateSink::set_db_path(const std::string& path) {
  db_path_ = path;
  wal_path_ = path + "-wal";
}

void DiskGateSink::set_store(store::EventStore* store) {
  store_ = store;
  store_lost_seen_ = store ? store->events_lost() : 0;
}

}  // namespace recorder::daemon
