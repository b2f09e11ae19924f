// The process table: which program a pid was running at a given time, who
// its parent was, and the chain up to pid 1. Seeded from a /proc snapshot
// at start, then kept current by typed events (exec, exit) and by OnFork
// when clone/fork is audited. The first step of process identity (see
// process_identity.h): it names each event's process instance.
//
// Identity (see docs/enrichment.md): a *process instance* is one program
// image of a pid on a node, keyed (node, pid, start_ms).
//   - Seeded from /proc: start_ms = the task's start time (stat field 22).
//   - OnFork: start_ms = fork time; the child runs the parent's image.
//   - A successful execve starts a NEW instance with start_ms = exec time
//     (the store writes one process row per exec with that start time, so
//     the two agree). Its parent is the instance ppid was running at that
//     time; the image it replaced is kept as `previous_start_ms` and ends
//     at the exec. This matches Tetragon's exec_id model.
// Pid reuse: an instance that exited is never the previous image or the
// parent of anything that starts after its exit, so a recycled pid starts
// a fresh history.
// Nodes: events of different machines (a log with several `node=` names)
// never share an instance; a parent is always on its child's node. /proc
// describes this machine, node 0 (kLocalNode).
//
// Pure core: every call takes its time; only SeedFromProc / SeedOne /
// LoadState read files (under the injectable proc root). Not thread-safe:
// one owner (the event path) calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enrich/proc_reader.h"
#include "enrich/process_identity.h"
#include "normalize/typed_event.h"
#include "util/status.h"
#include "util/string_map.h"

namespace recorder::enrich {

enum class ProcessOrigin : uint8_t {
  kSeed,      // read from /proc
  kExec,      // a successful execve event
  kFork,      // OnFork
  kObserved,  // first seen as the subject of some other event; start unknown
};

// This machine's node number: the empty node name, and the host's own
// names once the table was seeded or loaded from /proc.
inline constexpr uint32_t kLocalNode = 0;

// Field order keeps the small members together, so that three instances
// fit a deque node of 512 bytes (libstdc++) instead of two: the table
// holds every process of the last ProcessExpirationSeconds.
struct ProcessInfo {
  int32_t pid = 0;
  int32_t ppid = 0;
  // Instance key with node and pid. For kObserved it is the first-seen time and
  // start_known is false (the enrichment then reports -1).
  int64_t start_ms = 0;
  // Task (fork) start in clock ticks since boot when known (seed, or
  // inherited through exec from a seeded/forked task); -1 otherwise. It
  // is what LoadState compares with /proc to detect a recycled pid.
  int64_t task_start_ticks = -1;
  int64_t end_ms = -1;             // exit or replacement by exec; -1 while running
  int64_t parent_start_ms = -1;    // start_ms of the parent instance (pid = ppid), -1 unknown
  int64_t previous_start_ms = -1;  // image of this pid that this one replaced by exec
  std::string exe;
  std::vector<std::string> argv;
  int64_t uid = kUnsetId;
  int64_t euid = kUnsetId;
  int64_t gid = kUnsetId;
  int64_t egid = kUnsetId;
  int64_t auid = kUnsetId;
  // Instances in the table whose parent this is; an ended instance with
  // children left is kept past its expiry so their ancestry holds.
  uint32_t child_refs = 0;
  uint32_t node = kLocalNode;  // the table's number for the machine (ProcessTable::NodeOf)
  // The enrich stage's memo of this image's exe hashes (EnrichingSink), 0
  // none: a running image does not change when its file does.
  uint32_t exe_hash_memo = 0;
  bool start_known = true;
  bool exited = false;  // end_ms is an exit (not an exec replacing the image)
  ProcessOrigin origin = ProcessOrigin::kSeed;

  bool Running() const { return end_ms < 0; }
  ProcessKey key() const { return {node, pid}; }
};
// Keeps the comment above true: a new member that breaks it should say so.
static_assert(sizeof(ProcessInfo) <= 512 / 3, "ProcessInfo no longer fits three to a deque node");

struct ProcessTableOptions {
  std::string proc_root = "/proc";  // tests point this at a fake tree
  // ProcessExpirationSeconds: how long an ended instance stays for late
  // events. Ended instances that are still the parent of a running one
  // stay until that one ends too, so ancestry does not break.
  int64_t expiration_seconds = 180;
  // Hard bound on instances kept (oldest ended ones go first).
  size_t max_instances = 262144;
  // Clock ticks per second of /proc/PID/stat times (sysconf(_SC_CLK_TCK)).
  int64_t clock_ticks = 100;
  // Keep each exec's argv in the table (and its state file). Nothing in
  // the enrichment reads it; it is there for the live state file. Replay
  // turns it off: the copies are a large part of its peak memory, and
  // allocations on the busier of its two threads.
  bool keep_argv = true;
};

struct ProcessTableStats {
  uint64_t seeded = 0;
  uint64_t execs = 0;
  uint64_t forks = 0;
  uint64_t exits = 0;
  uint64_t observed = 0;  // instances created for a pid first seen in a non-process event
  uint64_t expired = 0;
  uint64_t evicted = 0;  // dropped by max_instances
};

class ProcessTable {
 public:
  explicit ProcessTable(ProcessTableOptions options = {});

  // Adds every /proc/PID (replacing nothing that is running and matches).
  // `now_ms` is only used for the instances' bookkeeping; start times come
  // from /proc. Also learns this host's names (node 0).
  Status SeedFromProc(int64_t now_ms);
  // Reads one /proc/PID; false when it is gone or unreadable. For live use
  // when an event names a local pid the table has never seen.
  bool SeedOne(int32_t pid, int64_t now_ms);

  // The table's number for a node name: kLocalNode for this machine,
  // others numbered as first seen (and never reused).
  uint32_t NodeOf(std::string_view node) {
    return node == last_node_ ? last_node_number_ : NewNode(node);
  }
  // The number NodeOf gave `node`, without numbering a new one; nullopt
  // for a name never seen.
  std::optional<uint32_t> FindNode(std::string_view node) const;
  ProcessKey KeyOf(const TypedEvent& event) {
    return {NodeOf(event.header.node), event.subject.pid};
  }

  // Event updates. `time_ms` is the event time; the parent is on the
  // child's node.
  void OnExec(ProcessKey key, int32_t ppid, int64_t time_ms, const std::string& exe,
              const std::vector<std::string>& argv, const Subject& ids);
  void OnExit(ProcessKey key, int64_t time_ms);
  void OnFork(ProcessKey parent, int32_t child_pid, int64_t time_ms);
  // Applies a typed event of `key` (KeyOf(event)): successful ProcessStart
  // -> OnExec, ProcessEnd -> OnExit, anything else -> Observe.
  void Apply(const TypedEvent& event, ProcessKey key);
  void Apply(const TypedEvent& event) { Apply(event, KeyOf(event)); }
  // Makes sure the subject has an instance at `time_ms`, creating a
  // kObserved one from the subject fields if none is running.
  void Observe(uint32_t node, const Subject& subject, int64_t time_ms);

  // The instance the pid was running at `at_ms`, or nullptr. The pointer
  // is valid until the next non-const call.
  const ProcessInfo* Lookup(ProcessKey key, int64_t at_ms) const;
  // The last instance of pid that started at or before `at_ms`, even if it
  // ended since: for observations stamped late (an image load is stamped
  // when the monitor read it, which can be after the process exited).
  const ProcessInfo* LookupLatestStarted(ProcessKey key, int64_t at_ms) const;
  const ProcessInfo* Find(ProcessKey key, int64_t start_ms) const;
  // The instance's parent instance, or nullptr when unknown or gone.
  const ProcessInfo* Parent(const ProcessInfo& info) const;
  // pid's instance at `at_ms`, then its parent, ... up to pid 1 or the
  // first unknown parent; at most max_depth entries.
  std::vector<const ProcessInfo*> Ancestry(ProcessKey key, int64_t at_ms,
                                           size_t max_depth = 64) const;
  // Stores the enrich stage's memo on an instance of this table.
  void SetExeHashMemo(const ProcessInfo& info, uint32_t memo);

  // The same on this machine (node 0): /proc, the live recorder, tests.
  void OnExec(int32_t pid, int32_t ppid, int64_t time_ms, const std::string& exe,
              const std::vector<std::string>& argv, const Subject& ids) {
    OnExec(Local(pid), ppid, time_ms, exe, argv, ids);
  }
  void OnExit(int32_t pid, int64_t time_ms) { OnExit(Local(pid), time_ms); }
  void OnFork(int32_t parent_pid, int32_t child_pid, int64_t time_ms) {
    OnFork(Local(parent_pid), child_pid, time_ms);
  }
  void Observe(const Subject& subject, int64_t time_ms) { Observe(kLocalNode, subject, time_ms); }
  const ProcessInfo* Lookup(int32_t pid, int64_t at_ms) const { return Lookup(Local(pid), at_ms); }
  const ProcessInfo* LookupLatestStarted(int32_t pid, int64_t at_ms) const {
    return LookupLatestStarted(Local(pid), at_ms);
  }
  const ProcessInfo* Find(int32_t pid, int64_t start_ms) const {
    return Find(Local(pid), start_ms);
  }
  std::vector<const ProcessInfo*> Ancestry(int32_t pid, int64_t at_ms,
                                           size_t max_depth = 64) const {
    return Ancestry(Local(pid), at_ms, max_depth);
  }

  // Drops instances ended more than expiration_seconds before now_ms.
  void Age(int64_t now_ms);

  // Compact JSON-lines file: a header line with format, version, boot id
  // and count, then one line per instance of this machine (other nodes'
  // instances are not kept: /proc cannot vouch for them after a restart).
  // Written to PATH.tmp and renamed, so a crash leaves the old file.
  Status SaveState(const std::string& path) const;
  // Replaces the table with the file's instances, keeping only pids whose
  // /proc entry still exists with the same task start time (and the same
  // boot). A corrupt file is an error and leaves the table unchanged
  // (the caller then seeds from /proc).
  Status LoadState(const std::string& path);

  size_t size() const;
  const ProcessTableStats& stats() const { return stats_; }
  const ProcessTableOptions& options() const { return options_; }

 private:
  // btime in /proc/stat has one-second resolution, so a seeded start time
  // can be up to a second later than the task's first events.
  static constexpr int64_t kSeedSlackMs = 1000;
  static ProcessKey Local(int32_t pid) { return {kLocalNode, pid}; }
  bool ReadBootTime();
  uint32_t NewNode(std::string_view node);
  // Names /proc gives this host: events of those nodes are node 0.
  void LearnLocalNames();
  // Running instance of the pid, or nullptr.
  ProcessInfo* Current(ProcessKey key);
  ProcessInfo* Insert(ProcessInfo info);
  void EnforceBound();
  // Marks an instance ended and schedules its expiry.
  void End(ProcessInfo* p, int64_t end_ms, bool exited);
  // Drops one instance; with `cascade`, also its parent if that was only
  // waiting for this child. False if there was no such instance.
  bool Remove(ProcessKey key, int64_t start_ms, bool cascade = true);
  void RecountRefs();

  struct ExpiryEntry {
    int64_t end_ms;
    ProcessKey key;
    int64_t start_ms;
    bool operator>(const ExpiryEntry& o) const { return end_ms > o.end_ms; }
  };

  ProcessTableOptions options_;
  ProcReader proc_;
  int64_t boot_time_ms_ = -1;
  // (node, pid) (ProcessKey::packed) -> its instances, sorted by start_ms:
  // usually one or two, but a busy pid reused by thousands of short execs
  // within the expiry keeps them all. Hence binary search by start, and a
  // deque: the oldest instance expires from the front, the newest arrives
  // at the back.
  using Instances = std::deque<ProcessInfo>;
  std::unordered_map<uint64_t, Instances> by_pid_;
  size_t count_ = 0;
  // Ended instances by end time (entries go stale when an instance is
  // removed otherwise; Age skips those).
  std::priority_queue<ExpiryEntry, std::vector<ExpiryEntry>, std::greater<>> expiry_;
  int64_t expire_cutoff_ms_ = INT64_MIN;
  ProcessTableStats stats_;
  // Node names -> numbers (index 0, "", is this machine).
  StringMap<uint32_t> node_numbers_;
  uint32_t next_node_ = kLocalNode + 1;
  std::string last_node_;  // the last name NodeOf answered, and its number
  uint32_t last_node_number_ = kLocalNode;
};

}  // namespace recorder::enrich
