// The state of one write transaction of the event store: everything that
// is only true until its COMMIT or ROLLBACK. The store holds it in one
// std::optional; a commit publishes what others keep (the hash back-fill's
// changes), a rollback just drops it. Long-lived caches keep only what
// committed transactions wrote (ProcessRows by transaction number, see
// process_rows.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "enrich/process_identity.h"
#include "store/batched_insert.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

// process_data as the store writes it: the columns of a ProcessRow.
inline constexpr char kProcessDataColumns[] =
    "process_data(process_id, node_id, pid, ppid, parent_process_id, start_time, end_time, "
    "exit_code, exe_id, comm_id, command_id, cwd_id, uid, euid, auid, ses, tty_id, success, "
    "flags, user_id, euser_id, login_user_id, sha256_id, md5_id, hash_note_id, "
    "path_search_attempts)";
inline constexpr size_t kProcessColumns = 26;
struct ProcessColumn {
  static constexpr size_t kProcessId = 0, kEndTime = 6, kExitCode = 7, kExe = 8, kSha256 = 22,
                          kMd5 = 23, kHashNote = 24;
};
using ProcessRow = std::array<SqlInt, kProcessColumns>;

// An audit event's identity: stored once per (node, time, serial).
struct AuditKey {
  int64_t time_ms = -1;
  uint64_t serial = 0;
  int64_t node_id = -1;
  bool operator==(const AuditKey&) const = default;
};

struct WriteTransaction {
  WriteTransaction(uint32_t number_in, int64_t started_ms_in, int64_t first_process_id_in)
      : number(number_in),
        started_ms(started_ms_in),
        first_process_id(first_process_id_in),
        next_process_id(first_process_id_in) {}

  const uint32_t number;     // the store's count of transactions begun
  const int64_t started_ms;  // the batch delay counts from here
  size_t rows = 0;           // rows written or queued: the batch's size
  uint64_t events = 0;       // events given to it (lost if it rolls back)

  // Process rows are numbered by the store (from the largest stored id
  // when the transaction began: no other writer adds one meanwhile) and
  // wait here until the commit, or until there are kMaxWaitingProcesses:
  // most processes exit within the same batch, and the exit then
  // completes the waiting row instead of updating a written one (an
  // UPDATE that grows a row in place costs more than its insert).
  static constexpr size_t kMaxWaitingProcesses = 4096;
  const int64_t first_process_id;
  int64_t next_process_id;
  // Rows next_process_id - size() .. next_process_id - 1, in order.
  std::vector<ProcessRow> waiting_processes;
  // The waiting row of `process_id`, or nullptr (written, or not ours).
  ProcessRow* Waiting(int64_t process_id) {
    const int64_t first = next_process_id - static_cast<int64_t>(waiting_processes.size());
    if (process_id < first || process_id >= next_process_id) return nullptr;
    return &waiting_processes[static_cast<size_t>(process_id - first)];
  }

  // The largest (time, serial) in audit_events, read at BEGIN and raised
  // by every key the store adds (no other writer can add one meanwhile). A
  // key above it cannot be stored yet, so an exec's key needs no lookup
  // first. INT64_MAX when unknown: every key is looked up.
  int64_t max_key_time = INT64_MAX;
  int64_t max_key_serial = INT64_MAX;
  bool KeyAboveStored(const AuditKey& key) const {
    const auto serial = static_cast<int64_t>(key.serial);
    return key.time_ms > max_key_time || (key.time_ms == max_key_time && serial > max_key_serial);
  }
  void NoteKeyStored(const AuditKey& key) {
    if (!KeyAboveStored(key)) return;
    max_key_time = key.time_ms;
    max_key_serial = static_cast<int64_t>(key.serial);
  }
  // The previous event's audit key and whether it was new: the typed
  // events of one audit event arrive together and share one decision.
  AuditKey last_key;
  bool last_key_new = false;

  // The last node name and its string id (the empty name is 0).
  std::string node;
  int64_t node_id = 0;

  // Instances looked up in the database and not found (see
  // EventStore::StoredInstance); a bound, not a cache to fill.
  static constexpr size_t kMaxMissingInstances = 4096;
  std::unordered_set<enrich::InstanceKey, enrich::InstanceKeyHash> missing_instances;

  // Windows process rows this transaction wrote, by node id and
  // ProcessGuid ("<node_id>/<guid>"); older ones are looked up in
  // windows_process_data.
  std::unordered_map<std::string, int64_t> windows_guids;

  // The hash back-fill's changes (hash_backfill.h): exe id -> the first
  // row of that exe waiting for its hash, 0 once filled in this transaction.
  std::unordered_map<int64_t, int64_t> pending_hashes;
};

// "<database>: cannot <what>: <why>": how the store's errors read.
inline Status StoreError(const Database& db, std::string_view what, const Status& why) {
  return Status::Errorf(why.code(), "{}: cannot {}: {}", db.path(), what, why.message());
}

}  // namespace recorder::store
