// An EventSink that hands batches of typed events to a writer thread,
// which feeds them to the wrapped sink. Replay uses it to put reading,
// parsing and normalizing on one core and enrichment and SQLite on the
// other: the target is wall-clock time on a 2-core machine.
//
//   pipeline -> ThreadedSink -> [writer thread] EnrichingSink -> EventStore
//
// and, with signals, two in a row (matching beside SQLite):
//
//   pipeline -> ThreadedSink -> [matching thread] EnrichingSink -> ...
//     -> SignalSink -> ThreadedSink -> [writer thread] EventStore
//
// Batches move by swapping: Consume() swaps the caller's EventBatch with
// an emptied one from a small pool (its event slots reused), so there is
// no allocation per batch, and none per event beyond what an event's
// strings outgrow, once warm. The queue is bounded, one of two ways:
//   - by batches (`max_queued_batches`, replay): when the writer falls
//     behind, Consume() waits (backpressure), nothing is dropped;
//   - by events (`max_pending_events`, the live recorder's
//     PendingEventCap): the events in flight — queued, or being written —
//     never exceed the cap; Consume() never waits, and the events that do
//     not fit are dropped and counted by kind until the writer has made
//     room. A reader of the kernel's netlink socket must not wait on a
//     slow disk: the kernel would lose the records instead, uncounted by
//     kind.
//
// Post() queues a task for the writer thread, run in order with the
// batches (the owner's other uses of the wrapped sink's store: commits,
// hash updates, run statistics). Tasks are never dropped.
//
// Errors: the first error of the wrapped sink stops the writer; every
// later Consume()/Flush() returns it (so the pipeline stops with that
// message). Batches queued after the error are discarded - the replay is
// failing anyway.
//
// Flush() waits until everything consumed so far has reached the wrapped
// sink and the wrapped sink's own Flush() ran (on the writer thread).
// After Flush() returns, and until the next Consume(), the writer is idle
// and the caller may use the wrapped sink directly (the mutex hand-off
// orders the memory). Stop() (also the destructor) ends the thread
// without flushing the wrapped sink.
//
// Used by the replay shell (backpressure) and the live daemon (cap).
#pragma once

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "normalize/event_sink.h"

namespace recorder {

struct ThreadedSinkOptions {
  // Batches waiting for the writer. With the pipeline's 1024-event
  // batches, 2 keep the writer busy through a producer hiccup; each more
  // holds another 1024-event vector and its strings in memory and does
  // not make replay faster.
  size_t max_queued_batches = 2;
  // Events in flight at most; 0: no cap (the batch bound and its
  // backpressure apply). With a cap, max_queued_batches is not used.
  size_t max_pending_events = 0;
  // The thread's name for top -H, perf and gdb: a string literal of 15
  // characters at most.
  const char* thread_name = "recorder-writer";
};

// Indexed like TypedEvent::body's alternatives (EventKindName).
inline constexpr size_t kThreadedSinkKinds = std::variant_size_v<EventBody>;

struct ThreadedSinkStats {
  uint64_t batches = 0;
  uint64_t events = 0;
  uint64_t producer_waits = 0;  // Consume() found the queue full
  // Events dropped at max_pending_events, by kind, and their sum.
  std::array<uint64_t, kThreadedSinkKinds> dropped_by_kind{};
  uint64_t dropped = 0;
  size_t in_flight = 0;  // events queued or being written now
  // CPU time the writer thread used (CLOCK_THREAD_CPUTIME_ID); set by
  // Stop(). With the producer's own, it says what wall time two idle
  // cores would take: the larger of the two.
  double writer_cpu_seconds = 0;
};

class ThreadedSink : public EventSink {
 public:
  // `next` is borrowed, must outlive this sink, and is called only from
  // the writer thread while this sink runs (see Flush for the exception).
  explicit ThreadedSink(EventSink* next, ThreadedSinkOptions options = {});
  ~ThreadedSink() override;
  ThreadedSink(const ThreadedSink&) = delete;
  ThreadedSink& operator=(const ThreadedSink&) = delete;

  Status Consume(EventBatch* events) override;
  Status Flush() override;
  // Ends the writer thread after the queued batches (not flushing `next`).
  // Idempotent. Returns the writer's error, if any.
  Status Stop();

  // Runs `task` on the writer thread after what was consumed so far. The
  // writer's first error stops it, as a batch's does; returned here when
  // the writer failed already. Never waits.
  Status Post(std::function<Status()> task);
  // Waits up to `timeout_ms` until nothing is queued and the writer is
  // idle (without flushing the wrapped sink). True when idle: the caller
  // may then use the wrapped sink directly until its next Consume/Post.
  bool WaitIdle(int64_t timeout_ms);
  // A reload: the new cap (0: none, backpressure) from the next Consume.
  void set_max_pending_events(size_t cap);

  // Valid after Flush() or Stop() (writer_cpu_seconds: after Stop()).
  const ThreadedSinkStats& stats() const { return stats_; }
  // A copy taken under the lock, valid at any time.
  ThreadedSinkStats StatsNow();

 private:
  struct Item {
    EventBatch batch;
    std::function<Status()> task;  // set: a task, not a batch
  };
  void WriterLoop();
  // Consume() with max_pending_events: drops what does not fit.
  void DropOverCap(EventBatch* events);
  bool Idle() const { return queue_.empty() && !writing_; }

  EventSink* const next_;
  const size_t max_queued_batches_;
  size_t max_pending_events_;  // 0: the batch bound and its backpressure
  const char* const thread_name_;
  std::mutex mutex_;
  std::condition_variable work_ready_;     // writer waits: batch, flush or stop
  std::condition_variable space_or_done_;  // producer waits: room, or flush done
  std::deque<Item> queue_;
  std::vector<EventBatch> spare_;  // stored batches, slots kept for reuse
  bool writing_ = false;           // writer holds a batch or task outside the lock
  size_t in_flight_ = 0;           // events queued or held by the writer
  uint64_t flush_requested_ = 0;   // generation numbers
  uint64_t flush_done_ = 0;
  bool stopping_ = false;
  Status error_;
  ThreadedSinkStats stats_;
  std::thread writer_;
};

}  // namespace recorder
