#include "enrich/port_lookup_worker.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace recorder::enrich {
namespace {

// Spare emptied batches kept for hand-back: enough for the batches of a
// few reads, so the pipeline keeps reusing its events' strings.
constexpr size_t kMaxSpare = 4;

}  // namespace

PortLookupWorker::PortLookupWorker(size_t max_batches, std::string proc)
    : max_batches_(max_batches > 0 ? max_batches : 1),
      sockets_(std::make_unique<KernelSockets>(std::move(proc))),
      ports_(std::make_unique<SocketPorts>(sockets_.get())) {
  thread_ = std::thread([this] { Run(); });
}

PortLookupWorker::~PortLookupWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PortLookupWorker::Submit(EventBatch* batch) {
  auto job = std::make_unique<Job>();
  if (!spare_.empty()) {
    job->events = std::move(spare_.front());
    spare_.pop_front();
  }
  job->events.swap(*batch);
  batch->clear();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.batches;
    job->skip = waiting_lookups_ >= max_batches_;
    if (!job->skip) ++waiting_lookups_;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

bool PortLookupWorker::TakeDone(EventBatch* out) {
  std::unique_ptr<Job> job;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (jobs_.empty() || !jobs_.front()->done) return false;
    job = std::move(jobs_.front());
    jobs_.pop_front();
    --next_job_;
  }
  // The caller's emptied batch keeps its slots for a later Submit.
  out->clear();
  if (spare_.size() < kMaxSpare) spare_.push_back(std::move(*out));
  *out = std::move(job->events);
  return true;
}

void PortLookupWorker::WaitIdle() {
  std::unique_lock<std::mutex> lock(mutex_);
  finished_.wait(lock, [this] { return next_job_ == jobs_.size(); });
}

size_t PortLookupWorker::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return jobs_.size();
}

PortLookupStats PortLookupWorker::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void PortLookupWorker::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || next_job_ < jobs_.size(); });
    if (next_job_ == jobs_.size()) return;  // stopping, nothing left
    Job* job = jobs_[next_job_].get();
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    uint64_t skipped = 0;
    if (job->skip)
      skipped = ports_->SkipBatch(&job->events);
    else
      ports_->FillBatch(&job->events);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    lock.lock();
    job->done = true;
    if (!job->skip) --waiting_lookups_;
    ++next_job_;
    stats_.skipped_busy += skipped;
    stats_.ports = ports_->stats();
    stats_.longest_batch_us = std::max<uint64_t>(stats_.longest_batch_us, took);
    finished_.notify_all();
  }
}

}  // namespace recorder::enrich
