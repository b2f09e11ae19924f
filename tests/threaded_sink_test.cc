// ThreadedSink: batches reach the wrapped sink in order and complete on
// the writer thread, the queue is bounded (the producer waits, nothing is
// dropped), Flush waits for everything, and the wrapped sink's errors come
// back from Consume/Flush/Stop.
#include "pipeline/threaded_sink.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "wait_for.h"

namespace recorder {
namespace {

EventBatch Batch(uint64_t first_serial, size_t count) {
  EventBatch events(count);
  for (size_t i = 0; i < count; ++i) {
    events[i].header.serial = first_serial + i;
    events[i].header.node = "a node name long enough to live on the heap";
    events[i].body = FileEvent{};
  }
  return events;
}

// Records what it was given and on which thread; can be told to block
// (to fill the queue) or to fail at a given batch.
class RecordingSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    std::unique_lock<std::mutex> lock(mutex_);
    released_.wait(lock, [&] { return !blocked_; });
    ++batches_;
    threads_.push_back(std::this_thread::get_id());
    if (fail_at_batch_ != 0 && batches_ >= fail_at_batch_)
      return Status::Error("disk full while writing batch");
    for (const TypedEvent& e : *events) serials_.push_back(e.header.serial);
    return Status::Ok();
  }
  Status Flush() override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++flushes_;
    flushed_serials_ = serials_.size();
    threads_.push_back(std::this_thread::get_id());
    return flush_error_ ? Status::Error("commit failed") : Status::Ok();
  }
  void Block() {
    std::lock_guard<std::mutex> lock(mutex_);
    blocked_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocked_ = false;
    }
    released_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable released_;
  bool blocked_ = false;
  size_t batches_ = 0;
  size_t fail_at_batch_ = 0;
  bool flush_error_ = false;
  int flushes_ = 0;
  size_t flushed_serials_ = 0;
  std::vector<uint64_t> serials_;
  std::vector<std::thread::id> threads_;
};

TEST(ThreadedSinkTest, EveryEventArrivesInOrderOnTheWriterThread) {
  RecordingSink next;
  ThreadedSink sink(&next);
  EventBatch events;
  uint64_t serial = 0;
  for (int b = 0; b < 50; ++b) {
    events = Batch(serial, 1 + b % 7);
    serial += events.size();
    ASSERT_TRUE(sink.Consume(&events).ok());
    // The caller gets an empty vector back (the pipeline reuses it).
    EXPECT_TRUE(events.empty());
  }
  ASSERT_TRUE(sink.Flush().ok());
  {
    std::lock_guard<std::mutex> lock(next.mutex_);
    ASSERT_EQ(next.serials_.size(), serial);
    for (uint64_t i = 0; i < serial; ++i) ASSERT_EQ(next.serials_[i], i);
    EXPECT_EQ(next.flushes_, 1);
    EXPECT_EQ(next.flushed_serials_, serial);  // Flush ran after every batch
    for (std::thread::id id : next.threads_) EXPECT_NE(id, std::this_thread::get_id());
  }
  EXPECT_EQ(sink.stats().events, serial);
  EXPECT_EQ(sink.stats().batches, 50u);
  EXPECT_TRUE(sink.Stop().ok());
}

TEST(ThreadedSinkTest, AFullQueueMakesTheProducerWaitAndDropsNothing) {
  RecordingSink next;
  ThreadedSinkOptions options;
  options.max_queued_batches = 2;
  ThreadedSink sink(&next, options);
  next.Block();
  std::atomic<int> consumed{0};
  std::atomic<pid_t> producer_tid{0};
  std::thread producer([&] {
    producer_tid = static_cast<pid_t>(syscall(SYS_gettid));
    for (int b = 0; b < 10; ++b) {
      EventBatch events = Batch(b * 3, 3);
      if (!sink.Consume(&events).ok()) return;
      ++consumed;
    }
  });
  // The writer holds one batch, the queue two more: the producer stops at
  // the fourth Consume until the writer moves again. Wait for that state:
  // three consumed and the producer asleep (nothing else puts it to sleep;
  // a producer that did not wait would run on to ten and end).
  EXPECT_TRUE(WaitFor([&] { return consumed.load() >= 3 && ThreadSleeping(producer_tid.load()); },
                      std::chrono::seconds(10), std::chrono::milliseconds(5)));
  EXPECT_EQ(consumed.load(), 3);
  next.Release();
  producer.join();
  EXPECT_EQ(consumed.load(), 10);
  ASSERT_TRUE(sink.Flush().ok());
  std::lock_guard<std::mutex> lock(next.mutex_);
  EXPECT_EQ(next.serials_.size(), 30u);
  EXPECT_GE(sink.stats().producer_waits, 1u);
}

TEST(ThreadedSinkTest, TheWrappedSinksErrorStopsTheProducer) {
  RecordingSink next;
  next.fail_at_batch_ = 3;
  ThreadedSink sink(&next);
  Status status;
  int calls = 0;
  // The error shows up in a later Consume (the writer is asynchronous),
  // and at the latest in Flush.
  for (int b = 0; b < 1000 && status.ok(); ++b, ++calls) {
    EventBatch events = Batch(b * 2, 2);
    status = sink.Consume(&events);
  }
  if (status.ok()) status = sink.Flush();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "disk full while writing batch");
  // Once failed, it stays failed, and nothing more reaches the sink.
  EventBatch more = Batch(9999, 1);
  EXPECT_EQ(sink.Consume(&more).message(), "disk full while writing batch");
  EXPECT_EQ(sink.Flush().message(), "disk full while writing batch");
  EXPECT_EQ(sink.Stop().message(), "disk full while writing batch");
  std::lock_guard<std::mutex> lock(next.mutex_);
  EXPECT_EQ(next.batches_, 3u);
  EXPECT_EQ(next.serials_.size(), 4u);  // the two batches before the failing one
  EXPECT_EQ(next.flushes_, 0);
}

TEST(ThreadedSinkTest, AFlushErrorIsReported) {
  RecordingSink next;
  next.flush_error_ = true;
  ThreadedSink sink(&next);
  EventBatch events = Batch(0, 5);
  ASSERT_TRUE(sink.Consume(&events).ok());
  EXPECT_EQ(sink.Flush().message(), "commit failed");
  EXPECT_EQ(sink.Stop().message(), "commit failed");
}

TEST(ThreadedSinkTest, StopWritesWhatIsQueuedAndThenRefusesMore) {
  RecordingSink next;
  ThreadedSink sink(&next);
  next.Block();
  for (int b = 0; b < 3; ++b) {
    EventBatch events = Batch(b * 4, 4);
    ASSERT_TRUE(sink.Consume(&events).ok());
  }
  // Released once Stop() waits for the writer (this thread asleep in it),
  // so Stop finds the three batches still queued.
  const pid_t stopping_tid = static_cast<pid_t>(syscall(SYS_gettid));
  std::thread releaser([&] {
    WaitFor([&] { return ThreadSleeping(stopping_tid); }, std::chrono::seconds(10),
            std::chrono::milliseconds(5));
    next.Release();
  });
  EXPECT_TRUE(sink.Stop().ok());
  releaser.join();
  {
    std::lock_guard<std::mutex> lock(next.mutex_);
    EXPECT_EQ(next.serials_.size(), 12u);
    EXPECT_EQ(next.flushes_, 0);  // Stop does not flush the wrapped sink
  }
  EventBatch late = Batch(100, 1);
  EXPECT_FALSE(sink.Consume(&late).ok());
  EXPECT_TRUE(sink.Stop().ok());  // idempotent
}

}  // namespace
}  // namespace recorder
