// SocketPorts (socket_ports.h) on a thread of its own, so that the kernel
// table walks a burst of connects needs never hold up the thread that
// reads the audit socket. The enrich stage hands over whole batches and
// takes them back filled, in the order it gave them (one worker, FIFO):
//
//   loop:   Submit(batch) ... TakeDone(&batch) -> rest of the stage
//   worker: SocketPorts::FillBatch(batch)
//
// Bounded: at most `max_batches` batches wait for lookups. Beyond that a
// batch is still queued (its events must leave in order) but marked to be
// skipped: its lookups are not made, the events needing them are marked
// local_unresolved and counted (stats().skipped_busy), and the worker
// passes it through at once. A process's remembered listeners are
// forgotten at its exit by the worker itself (batches with such exits are
// queued here like the rest).
//
// Thread safety: Submit, TakeDone, WaitIdle, in_flight and stats are
// called from one thread (the enrich stage's); the worker thread touches
// only the batches it holds, under the queue's lock at hand-over.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "enrich/socket_ports.h"
#include "enrich/socket_table.h"
#include "normalize/event_batch.h"

namespace recorder::enrich {

struct PortLookupStats {
  SocketPortsStats ports;         // of the lookups made
  uint64_t batches = 0;           // batches handed to the worker
  uint64_t skipped_busy = 0;      // events left unresolved because max_batches waited
  uint64_t longest_batch_us = 0;  // the longest FillBatch on the worker
};

class PortLookupWorker {
 public:
  // `proc`: the procfs mount. Starts the thread.
  explicit PortLookupWorker(size_t max_batches = 64, std::string proc = "/proc");
  // Finishes what it holds, then stops the thread.
  ~PortLookupWorker();
  PortLookupWorker(const PortLookupWorker&) = delete;
  PortLookupWorker& operator=(const PortLookupWorker&) = delete;

  // Takes `*batch`'s events (it is left empty, with spare capacity from an
  // earlier batch) for lookup.
  void Submit(EventBatch* batch);
  // Moves the oldest finished batch into `*out` (emptied first); false
  // when the oldest submitted one is not finished yet, or none is out.
  bool TakeDone(EventBatch* out);
  // Waits until every submitted batch is finished (at shutdown, Flush).
  void WaitIdle();
  // Submitted and not yet taken back.
  size_t in_flight() const;
  PortLookupStats stats() const;

 private:
  struct Job {
    EventBatch events;
    bool skip = false;
    bool done = false;
  };
  void Run();

  const size_t max_batches_;
  std::unique_ptr<KernelSockets> sockets_;  // the worker's
  std::unique_ptr<SocketPorts> ports_;      // the worker's
  mutable std::mutex mutex_;
  std::condition_variable wake_;           // the worker: a job came, or stop
  std::condition_variable finished_;       // WaitIdle: a job is done
  std::deque<std::unique_ptr<Job>> jobs_;  // guarded by mutex_; submission order
  size_t next_job_ = 0;                    // guarded: jobs_[next_job_] is the worker's next
  size_t waiting_lookups_ = 0;             // guarded: queued jobs not skipped nor done
  std::deque<EventBatch> spare_;           // the caller's: emptied batches to hand back
  bool stopping_ = false;                  // guarded
  PortLookupStats stats_;                  // guarded
  std::thread thread_;
};

}  // namespace recorder::enrich
