// Process rows: which process_data row an event belongs to (the second
// step of process identity, see process_identity.h).
//
// Each exec makes a row with its own process_id; later events of that pid
// (on that node) go to it until the next exec of the pid, or until
// `expiration_ms` after its exit. An event whose pid has no known row (the
// process started before recording, or forked without exec) gets a
// placeholder row built from the event's subject, so every event has a
// process_id. When the enrich stage names the event's instance (its start,
// from ProcessTable), that instance's row wins over "whatever the pid runs
// now"; a row written by an earlier run is found in the database through
// ProcessRowSource.
//
// Transactions: the store numbers its write transactions. What this index
// learns while one is open (new rows, exits) is tagged with its number; a
// transaction that rolls back is abandoned, and what it taught is ignored
// from then on (its process ids will be handed out again). Nothing is
// undone entry by entry.
//
// Pure core: no clock, no database of its own. Not thread-safe; the
// store's writer thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enrich/process_identity.h"
#include "util/status.h"

namespace recorder::enrich {

// A row takes its pid over (the pid's later events that name no other
// instance go to it) when it is a placeholder or a successful exec: a
// failed execve leaves the old program running under the pid. The store
// tracks rows by this rule; retention keeps the rows it leaves reachable.
constexpr bool RowTakesOverPid(bool placeholder, bool success) { return placeholder || success; }

// What ProcessRows asks of the database it indexes (the store implements it).
class ProcessRowSource {
 public:
  // The string id of an exe path (0 for the empty path).
  virtual Result<int64_t> ExeId(std::string_view exe) = 0;
  // The row an exec stored for `instance` (an earlier run's, or one this
  // index forgot), 0 when there is none.
  virtual Result<int64_t> StoredInstance(const InstanceKey& instance) = 0;

 protected:
  ~ProcessRowSource() = default;
};

struct ProcessRowsOptions {
  // How long after its exit a row still takes late events of its pid.
  int64_t expiration_ms = 180'000;
  // Bound on pids tracked; past it, exited ones go first, then the least
  // recently seen. Instances (for parent links) are kept twice as many.
  size_t max_tracked = 32768;
};

class ProcessRows {
 public:
  explicit ProcessRows(ProcessRowsOptions options = {});

  // Entries learned from now on belong to write transaction `number`
  // (numbers increase).
  void BeginTransaction(uint32_t number) { transaction_ = number; }
  // Transaction `number` rolled back: what it taught is void.
  void AbandonTransaction(uint32_t number) { abandoned_.push_back(number); }

  // The row of an event's subject. `start_ms` is the instance the enrich
  // stage named (-1 unknown), `exe` the subject's. 0 when it has none: the
  // caller writes a placeholder row and calls NotePlaceholder.
  Result<int64_t> RowOf(ProcessKey key, int64_t time_ms, int64_t start_ms, std::string_view exe,
                        ProcessRowSource* source);
  // The row of a new process's parent (pid `parent` at `time_ms`, of
  // instance `parent_start_ms` when the enrich stage knows it); 0 unknown.
  Result<int64_t> ParentOf(ProcessKey parent, int64_t time_ms, int64_t parent_start_ms,
                           ProcessRowSource* source);

  // An exec row (written now, or found stored by an earlier replay of the
  // same log). A successful exec starts instance (key, time_ms) and takes
  // the pid over; a failed one only when the pid has no live row (a forked
  // child whose exec failed is best described by it).
  void NoteExec(ProcessKey key, int64_t process_id, int64_t exe_id, int64_t time_ms, bool success);
  // A placeholder row; `start_ms` is the instance's start when known.
  void NotePlaceholder(ProcessKey key, int64_t process_id, int64_t exe_id, int64_t time_ms,
                       int64_t start_ms);
  // An exit of row `process_id` (ignored unless it is the pid's row).
  void NoteExit(ProcessKey key, int64_t process_id, int64_t time_ms);
  // An exit already stored: the pid's row ended, whichever it is.
  void NoteStoredExit(ProcessKey key, int64_t time_ms);

  size_t tracked() const { return current_.size(); }

 private:
  // The row a pid's events go to now.
  struct Current {
    int64_t process_id = 0;
    int64_t exe_id = 0;
    int64_t ended_ms = -1;  // event time of its exit, -1 while running
    int64_t last_seen_ms = 0;
    // The instance this row is: a successful exec's time, a seeded
    // process's start; -1 unknown.
    int64_t start_ms = -1;
    uint32_t transaction = 0;
  };
  struct Instance {
    int64_t process_id = 0;
    uint32_t transaction = 0;
  };

  bool Valid(uint32_t transaction) const;
  // The pid's row, unless it expired (or its transaction was abandoned).
  Current* Live(ProcessKey key, int64_t time_ms);
  void Track(ProcessKey key, int64_t process_id, int64_t exe_id, int64_t time_ms, int64_t start_ms);
  void RememberInstance(const InstanceKey& instance, int64_t process_id);
  // 0: unknown here and in the database.
  Result<int64_t> FindInstance(const InstanceKey& instance, ProcessRowSource* source);

  ProcessRowsOptions options_;
  std::unordered_map<uint64_t, Current> current_;  // by ProcessKey::packed
  // (node, pid, start) -> row: how a parent named by the enrich stage is found.
  std::unordered_map<InstanceKey, Instance, InstanceKeyHash> instances_;
  std::deque<InstanceKey> instance_order_;  // insertion order, for the bound
  uint32_t transaction_ = 0;
  std::vector<uint32_t> abandoned_;  // ascending
};

// Stored rows, read in any order (retention's scan): for each (node, pid)
// the last row that took it over, which its new events may still reach.
// A row with a later one is superseded.
class PidSuccession {
 public:
  void Note(ProcessKey key, int64_t process_id, bool placeholder, bool success);
  bool Superseded(ProcessKey key, int64_t process_id) const;
  void Clear() { latest_.clear(); }

 private:
  std::unordered_map<uint64_t, int64_t> latest_;  // by ProcessKey::packed
};

}  // namespace recorder::enrich
