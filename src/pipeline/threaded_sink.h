// An EventSink that hands batches of typed events to a writer thread,
// which feeds them to the wrapped sink. Replay uses it to put reading,
// parsing and normalizing on one core and enrichment and SQLite on the
// other: the target is wall-clock time on a 2-core machine.
//
//   pipeline -> ThreadedSink -> [writer thread] EnrichingSink -> EventStore
//
// Batches move by swapping: Consume() swaps the caller's EventBatch with
// an emptied one from a small pool (its event slots reused), so there is
// no allocation per batch, and none per event beyond what an event's
// strings outgrow, once warm. The queue is bounded
// (`max_queued_batches`): when the writer falls behind, Consume() waits
// (backpressure), nothing is dropped.
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
// Used only by the replay shell; the live daemon stays single-threaded.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "normalize/event_sink.h"

namespace recorder {

struct ThreadedSinkOptions {
  // Batches waiting for the writer. With the pipeline's 1024-event
  // batches, 2 keep the writer busy through a producer hiccup; each more
  // holds another 1024-event vector and its strings in memory and does
  // not make replay faster.
  size_t max_queued_batches = 2;
};

struct ThreadedSinkStats {
  uint64_t batches = 0;
  uint64_t events = 0;
  uint64_t producer_waits = 0;  // Consume() found the queue full
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

  // Valid after Flush() or Stop() (writer_cpu_seconds: after Stop()).
  const ThreadedSinkStats& stats() const { return stats_; }

 private:
  void WriterLoop();

  EventSink* const next_;
  const size_t max_queued_batches_;
  std::mutex mutex_;
  std::condition_variable work_ready_;     // writer waits: batch, flush or stop
  std::condition_variable space_or_done_;  // producer waits: room, or flush done
  std::deque<EventBatch> queue_;
  std::vector<EventBatch> spare_;  // stored batches, slots kept for reuse
  uint64_t flush_requested_ = 0;   // generation numbers
  uint64_t flush_done_ = 0;
  bool stopping_ = false;
  Status error_;
  ThreadedSinkStats stats_;
  std::thread writer_;
};

}  // namespace recorder
