#include "pipeline/threaded_sink.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <utility>

namespace recorder {

ThreadedSink::ThreadedSink(EventSink* next, ThreadedSinkOptions options)
    : next_(next), max_queued_batches_(std::max<size_t>(1, options.max_queued_batches)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

ThreadedSink::~ThreadedSink() { (void)Stop(); }

Status ThreadedSink::Consume(EventBatch* events) {
  if (events->empty()) return Status::Ok();
  std::unique_lock<std::mutex> lock(mutex_);
  if (queue_.size() >= max_queued_batches_ && error_.ok() && !stopping_) {
    ++stats_.producer_waits;
    space_or_done_.wait(
        lock, [&] { return queue_.size() < max_queued_batches_ || !error_.ok() || stopping_; });
  }
  if (!error_.ok()) return error_;
  if (stopping_) return Status::Error("event writer thread already stopped");
  EventBatch batch;
  if (!spare_.empty()) {
    batch = std::move(spare_.back());
    spare_.pop_back();
  }
  // The spare still holds the events the writer stored. clear() keeps
  // them as slots: the pipeline refills their strings in place, so
  // nothing is freed, and above all nothing allocated on this thread is
  // freed on the writer (that would send every string back to this
  // thread's malloc arena under its lock, and the two threads would queue
  // on that lock).
  lock.unlock();
  batch.clear();
  // The caller keeps an empty batch with warm slots; the events travel
  // without being copied or moved one by one.
  batch.swap(*events);
  lock.lock();
  ++stats_.batches;
  stats_.events += batch.size();
  queue_.push_back(std::move(batch));
  work_ready_.notify_one();
  return Status::Ok();
}

Status ThreadedSink::Flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) return error_;
  const uint64_t generation = ++flush_requested_;
  work_ready_.notify_one();
  space_or_done_.wait(lock, [&] { return flush_done_ >= generation; });
  return error_;
}

Status ThreadedSink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  space_or_done_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void ThreadedSink::WriterLoop() {
  // Named for top -H, perf and gdb (15 characters at most).
  pthread_setname_np(pthread_self(), "recorder-writer");
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_ready_.wait(
        lock, [&] { return !queue_.empty() || flush_requested_ > flush_done_ || stopping_; });
    if (!queue_.empty()) {
      EventBatch batch = std::move(queue_.front());
      queue_.pop_front();
      const bool failed = !error_.ok();
      space_or_done_.notify_all();
      lock.unlock();
      // After an error the rest is discarded: the replay is stopping.
      Status status = failed ? Status::Ok() : next_->Consume(&batch);
      lock.lock();
      if (!status.ok() && error_.ok()) error_ = std::move(status);
      spare_.push_back(std::move(batch));
      if (!error_.ok()) space_or_done_.notify_all();  // a waiting producer sees it
      continue;
    }
    if (flush_requested_ > flush_done_) {
      const uint64_t generation = flush_requested_;
      const bool failed = !error_.ok();
      lock.unlock();
      Status status = failed ? Status::Ok() : next_->Flush();
      lock.lock();
      if (!status.ok() && error_.ok()) error_ = std::move(status);
      flush_done_ = generation;
      space_or_done_.notify_all();
      continue;
    }
    if (stopping_) {
      timespec cpu{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
      stats_.writer_cpu_seconds = static_cast<double>(cpu.tv_sec) + cpu.tv_nsec / 1e9;
      return;
    }
  }
}

}  // namespace recorder
