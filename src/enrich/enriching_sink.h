// The enrich stage as an EventSink decorator: fills TypedEvent::enrichment
// (user names, process and parent start times, executable hashes), keeps
// the process table current, makes file names relative to a directory
// descriptor absolute (PathResolver: events may wait here, in order, for a
// later one), fills network events' local addresses and ports from the
// kernel when live (SocketPorts; on a thread of its own with
// ports_on_thread, PortLookupWorker), then forwards to the wrapped sink.
//
//   store -> EnrichingSink(&store, &table, &users, &hash_worker) -> pipeline
//
// Hashing never blocks here: a miss queues the file on the HashWorker and
// the event leaves with hash_note = "pending"; the owner drains
// HashWorker::TakeCompletions() and updates the stored rows. The hash of a
// process instance's exe is taken at its exec (or first event) and reused
// for its later events: the running image is the file as it was then. The
// instance (ProcessInfo::exe_hash_memo) holds that memo, so it follows the
// process table's identity: node, pid reuse, exec, fork.
//
// Not thread-safe (one pipeline thread calls Consume); the HashWorker it
// borrows is, and so is the PortLookupWorker it owns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "enrich/hash_worker.h"
#include "enrich/path_resolver.h"
#include "enrich/port_lookup_worker.h"
#include "enrich/process_table.h"
#include "enrich/socket_ports.h"
#include "enrich/user_names.h"
#include "normalize/event_sink.h"
#include "util/clock.h"

namespace recorder::enrich {

struct EnrichingSinkOptions {
  // Live recording only: read /proc/PID for a pid of this machine the
  // table does not know. Never for replayed logs (today's /proc says
  // nothing about them).
  bool probe_proc = false;
  // Hash subject.exe (needs a HashWorker). Also live only: the file on
  // disk now is the one the event ran only while recording live.
  bool hash_executables = true;
  int64_t age_interval_ms = 1000;  // event-time interval between process table Age() calls
  // File names relative to a directory descriptor made absolute
  // (path_resolver.h): events may wait here for a later one, bounded by
  // `paths`. live_paths (live recording only) also reads /proc/PID/fd.
  bool resolve_paths = true;
  bool live_paths = false;
  PathResolverOptions paths;
  // Live recording only: network events' missing local addresses and
  // ports looked up in the kernel (socket_ports.h).
  bool live_ports = false;
  // With live_ports: the lookups run on a thread of their own
  // (port_lookup_worker.h). A batch with a lookup to make, and every batch
  // after it until it is back, then leaves this stage at a later Consume,
  // Tick or Flush, in order. Without it they run inside Consume.
  bool ports_on_thread = false;
  size_t ports_max_batches = 64;  // batches waiting for lookups; more are skipped (counted)
};

struct EnrichingSinkStats {
  uint64_t events = 0;
  uint64_t unknown_process = 0;  // no table entry even after Observe
  uint64_t proc_probes = 0;
  uint64_t hash_ready = 0;
  uint64_t hash_pending = 0;
  uint64_t hash_unavailable = 0;
};

class EnrichingSink : public EventSink {
 public:
  // All pointers are borrowed and must outlive the sink; `hashes` may be
  // null (no hashing). `clock` gives "now" for the user-file refresh and
  // /proc probes (tests pass a fake); the process table ages on event time.
  EnrichingSink(EventSink* next, ProcessTable* processes, UserNames* users, HashWorker* hashes,
                EnrichingSinkOptions options = {}, std::function<int64_t()> clock = WallMs);

  Status Consume(EventBatch* events) override;
  // Forwards every event held for its ports (waiting for the lookups) or
  // its paths first.
  Status Flush() override;
  // Forwards the batches whose port lookups are done, and events whose
  // wait for their paths is over by the wall clock (live: the stream may
  // fall silent while an event waits).
  Status Tick(int64_t now_ms);

  // One event, without forwarding (the pure part, for callers that are
  // not sinks).
  void Enrich(TypedEvent* event, int64_t now_ms);

  const EnrichingSinkStats& stats() const { return stats_; }
  // Null when resolve_paths is off.
  const PathResolver* paths() const { return paths_.get(); }
  // Null when live_ports is off or ports_on_thread is on.
  const SocketPorts* ports() const { return ports_.get(); }
  // The lookups' counts, wherever they run (all 0 without live_ports).
  PortLookupStats port_stats() const;
  // Batches waiting for their port lookups (ports_on_thread).
  size_t ports_in_flight() const { return port_worker_ ? port_worker_->in_flight() : 0; }

 private:
  EventSink* const next_;
  ProcessTable* const processes_;
  UserNames* const users_;
  HashWorker* const hashes_;
  const EnrichingSinkOptions options_;
  std::function<int64_t()> clock_;
  // The hashes of an exe as a process instance ran it; instances refer to
  // them by ProcessInfo::exe_hash_memo, a (generation, slot) pair.
  struct ExeHashes {
    std::string exe;
    std::string sha256;
    std::string md5;
  };
  const ExeHashes* Memo(uint32_t memo) const;
  uint32_t Remember(std::string_view exe, const std::string& sha256, const std::string& md5);
  std::vector<ExeHashes> exe_hashes_;  // bounded; starts over (a new generation) when full
  std::unordered_map<std::string, uint32_t> exe_hash_slots_;  // exe -> its latest slot
  uint32_t memo_generation_ = 1;
  // Events released after waiting for their paths may have missed their
  // executable's hash completion meanwhile: looked up again.
  void RefreshHashes(EventBatch* events, size_t from);
  std::unique_ptr<LiveDirectories> live_dirs_;
  std::unique_ptr<PathResolver> paths_;
  // The rest of Consume after the port lookups: ageing, paths, next.
  Status Continue(EventBatch* events, int64_t now);
  // Whether `events` must go through the port worker; notes the pids
  // whose listeners it may remember.
  bool NeedsPortWorker(const EventBatch& events);
  // Continues with the batches whose lookups are done, in order.
  Status ForwardPortsDone(int64_t now);
  std::unique_ptr<KernelSockets> sockets_;
  std::unique_ptr<SocketPorts> ports_;
  std::unique_ptr<PortLookupWorker> port_worker_;
  // Pids with listen or inbound events sent to the worker: their exit
  // must reach it too (it forgets their listeners). Cleared when large.
  std::unordered_set<int32_t> listener_pids_;
  EventBatch ports_done_;
  EventBatch released_;
  int64_t event_time_ms_ = INT64_MIN;  // latest event time seen
  int64_t last_age_ms_ = INT64_MIN;
  EnrichingSinkStats stats_;
};

}  // namespace recorder::enrich
