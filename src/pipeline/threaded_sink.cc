#include "pipeline/threaded_sink.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace recorder {

ThreadedSink::ThreadedSink(EventSink* next, ThreadedSinkOptions options)
    : next_(next),
      max_queued_batches_(std::max<size_t>(1, options.max_queued_batches)),
      max_pending_events_(options.max_pending_events),
      thread_name_(options.thread_name) {
  writer_ = std::thread([this] { WriterLoop(); });
}

ThreadedSink::~ThreadedSink() { (void)Stop(); }

void ThreadedSink::DropOverCap(EventBatch* events) {
  const size_t room = max_pending_events_ > in_flight_ ? max_pending_events_ - in_flight_ : 0;
  if (events->size() <= room) return;
  // The first `room` events go on, in order; the rest are dropped.
  for (size_t i = room; i < events->size(); ++i) {
    ++stats_.dropped_by_kind[(*events)[i].body.index()];
    ++stats_.dropped;
  }
  events->Truncate(room);
}

Status ThreadedSink::Consume(EventBatch* events) {
  if (events->empty()) return Status::Ok();
  std::unique_lock<std::mutex> lock(mutex_);
  if (max_pending_events_ > 0) {
    if (error_.ok() && !stopping_) DropOverCap(events);
    if (events->empty()) return Status::Ok();
  } else if (queue_.size() >= max_queued_batches_ && error_.ok() && !stopping_) {
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
  in_flight_ += batch.size();
  queue_.push_back(Item{std::move(batch), nullptr});
  work_ready_.notify_one();
  return Status::Ok();
}

Status ThreadedSink::Post(std::function<Status()> task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error_.ok()) return error_;
  if (stopping_) return Status::Error("event writer thread already stopped");
  queue_.push_back(Item{EventBatch(), std::move(task)});
  work_ready_.notify_one();
  return Status::Ok();
}

bool ThreadedSink::WaitIdle(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return space_or_done_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return Idle() || stopping_;
  }) && Idle();
}

void ThreadedSink::set_max_pending_events(size_t cap) {
  std::lock_guard<std::mutex> lock(mutex_);
  max_pending_events_ = cap;
}

ThreadedSinkStats ThreadedSink::StatsNow() {
  std::lock_guard<std::mutex> lock(mutex_);
  ThreadedSinkStats copy = stats_;
  copy.in_flight = in_flight_;
  return copy;
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
  pthread_setname_np(pthread_self(), thread_name_);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_ready_.wait(
        lock, [&] { return !queue_.empty() || flush_requested_ > flush_done_ || stopping_; });
    if (!queue_.empty()) {
      Item item = std::move(queue_.front());
      queue_.pop_front();
      const size_t events = item.batch.size();  // the sink may change the batch
      writing_ = true;
      const bool failed = !error_.ok();
      space_or_done_.notify_all();
      lock.unlock();
      // After an error the rest is discarded: the run is stopping.
      Status status = Status::Ok();
      if (!failed) status = item.task ? item.task() : next_->Consume(&item.batch);
      lock.lock();
      writing_ = false;
      in_flight_ -= events;
      if (!status.ok() && error_.ok()) error_ = std::move(status);
      if (!item.task) spare_.push_back(std::move(item.batch));
      // A waiting producer sees the room or the error; WaitIdle the end.
      space_or_done_.notify_all();
      continue;
    }
    if (flush_requested_ > flush_done_) {
      const uint64_t generation = flush_requested_;
      const bool failed = !error_.ok();
      writing_ = true;
      lock.unlock();
      Status status = failed ? Status::Ok() : next_->Flush();
      lock.lock();
      writing_ = false;
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
