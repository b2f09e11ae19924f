// ThreadedSink: batches reach the wrapped sink in order and complete on
// the writer thread, the queue is bounded (the producer waits, nothing is
// dropped), Flush waits for everything, and the wrapped sink's errors come
// back from Consume/Flush/Stop. With a cap on events in flight
// (PendingEventCap) the producer never waits and what does not fit is
// dropped and counted by kind; posted tasks run in order on the writer.
#include "pipeline/threaded_sink.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
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

// PendingEventCap: with the writer stalled, the events in flight never
// pass the cap, Consume never waits, and what did not fit is dropped and
// counted by kind; once the writer catches up, events flow again.
TEST(ThreadedSinkTest, ACapDropsWhatDoesNotFitWhileTheWriterIsStalled) {
  RecordingSink next;
  ThreadedSinkOptions options;
  options.max_pending_events = 10;
  ThreadedSink sink(&next, options);
  next.Block();
  auto consume_all = std::async(std::launch::async, [&] {
    for (int b = 0; b < 5; ++b) {
      EventBatch events = Batch(b * 4, 4);  // serials 0..19
      if (b == 4) events[3].body = NetworkEvent{};
      EXPECT_TRUE(sink.Consume(&events).ok());
    }
  });
  // The producer never waits on the stalled writer.
  ASSERT_EQ(consume_all.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ThreadedSinkStats stats = sink.StatsNow();
  EXPECT_EQ(stats.in_flight, 10u);
  EXPECT_EQ(stats.dropped, 10u);
  EXPECT_EQ(stats.dropped_by_kind[EventBody(NetworkEvent{}).index()], 1u);
  EXPECT_EQ(stats.dropped_by_kind[EventBody(FileEvent{}).index()], 9u);
  EXPECT_FALSE(sink.WaitIdle(50));

  next.Release();
  ASSERT_TRUE(sink.WaitIdle(10'000));
  EXPECT_EQ(sink.StatsNow().in_flight, 0u);
  EventBatch after = Batch(100, 3);
  ASSERT_TRUE(sink.Consume(&after).ok());
  ASSERT_TRUE(sink.Flush().ok());
  std::lock_guard<std::mutex> lock(next.mutex_);
  // The first ten, in order (the third batch cut after its second event),
  // then the batch that came after the writer caught up.
  EXPECT_EQ(next.serials_, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 101, 102}));
  EXPECT_EQ(sink.StatsNow().dropped, 10u);
}

TEST(ThreadedSinkTest, WithoutACapNothingIsDroppedAndTheProducerWaits) {
  RecordingSink next;
  ThreadedSinkOptions options;
  options.max_queued_batches = 1;
  ThreadedSink sink(&next, options);
  next.Block();
  auto consume_all = std::async(std::launch::async, [&] {
    for (int b = 0; b < 4; ++b) {
      EventBatch events = Batch(b * 4, 4);
      EXPECT_TRUE(sink.Consume(&events).ok());
    }
  });
  EXPECT_EQ(consume_all.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  next.Release();
  consume_all.get();
  ASSERT_TRUE(sink.Flush().ok());
  EXPECT_EQ(sink.StatsNow().dropped, 0u);
  std::lock_guard<std::mutex> lock(next.mutex_);
  EXPECT_EQ(next.serials_.size(), 16u);
}

TEST(ThreadedSinkTest, PostedTasksRunOnTheWriterInOrderWithBatches) {
  RecordingSink next;
  ThreadedSinkOptions options;
  options.max_pending_events = 100;
  ThreadedSink sink(&next, options);
  std::vector<size_t> seen_at_task;  // events the sink had when each task ran
  std::thread::id task_thread;
  for (int b = 0; b < 3; ++b) {
    EventBatch events = Batch(b * 2, 2);
    ASSERT_TRUE(sink.Consume(&events).ok());
    ASSERT_TRUE(sink.Post([&] {
                      std::lock_guard<std::mutex> lock(next.mutex_);
                      seen_at_task.push_back(next.serials_.size());
                      task_thread = std::this_thread::get_id();
                      return Status::Ok();
                    })
                    .ok());
  }
  ASSERT_TRUE(sink.WaitIdle(10'000));
  EXPECT_EQ(seen_at_task, (std::vector<size_t>{2, 4, 6}));
  EXPECT_NE(task_thread, std::this_thread::get_id());
  // A task's error stops the writer like a batch's.
  ASSERT_TRUE(sink.Post([] { return Status::Error("commit failed"); }).ok());
  ASSERT_TRUE(sink.WaitIdle(10'000));
  EventBatch late = Batch(50, 1);
  EXPECT_FALSE(sink.Consume(&late).ok());
  EXPECT_FALSE(sink.Post([] { return Status::Ok(); }).ok());
}

}  // namespace
}  // namespace recorder
