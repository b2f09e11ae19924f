#include "enrich/process_rows.h"

#include <algorithm>

namespace recorder::enrich {

ProcessRows::ProcessRows(ProcessRowsOptions options) : options_(options) {
  options_.max_tracked = std::max<size_t>(options_.max_tracked, 1);
}

bool ProcessRows::Valid(uint32_t transaction) const {
  return abandoned_.empty() ||
         !std::binary_search(abandoned_.begin(), abandoned_.end(), transaction);
}

ProcessRows::Current* ProcessRows::Live(ProcessKey key, int64_t time_ms) {
  auto it = current_.find(key.packed());
  if (it == current_.end()) return nullptr;
  Current& entry = it->second;
  if (!Valid(entry.transaction) ||
      (entry.ended_ms >= 0 && time_ms - entry.ended_ms > options_.expiration_ms)) {
    current_.erase(it);
    return nullptr;
  }
  entry.last_seen_ms = std::max(entry.last_seen_ms, time_ms);
  return &entry;
}

void ProcessRows::Track(ProcessKey key, int64_t process_id, int64_t exe_id, int64_t time_ms,
                        int64_t start_ms) {
  if (current_.size() >= options_.max_tracked && !current_.contains(key.packed())) {
    // Exited processes go first; if that is not enough, the older half
    // by last activity. Rare (a bound, not a cache), so O(n) is fine.
    std::erase_if(current_, [this](const auto& kv) {
      return kv.second.ended_ms >= 0 || !Valid(kv.second.transaction);
    });
    if (current_.size() >= options_.max_tracked) {
      std::vector<int64_t> seen;
      seen.reserve(current_.size());
      for (const auto& kv : current_) seen.push_back(kv.second.last_seen_ms);
      auto middle = seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 2);
      std::nth_element(seen.begin(), middle, seen.end());
      const int64_t cutoff = *middle;
      std::erase_if(current_,
                    [cutoff](const auto& kv) { return kv.second.last_seen_ms <= cutoff; });
    }
  }
  current_[key.packed()] = Current{process_id, exe_id, -1, time_ms, start_ms, transaction_};
}

void ProcessRows::RememberInstance(const InstanceKey& instance, int64_t process_id) {
  auto [it, added] = instances_.insert_or_assign(instance, Instance{process_id, transaction_});
  (void)it;
  if (!added) return;
  instance_order_.push_back(instance);
  // A bound, FIFO: parents that old are rarely asked for, and a miss only
  // costs a lookup in the database.
  while (instance_order_.size() > options_.max_tracked * 2) {
    instances_.erase(instance_order_.front());
    instance_order_.pop_front();
  }
}

Result<int64_t> ProcessRows::FindInstance(const InstanceKey& instance, ProcessRowSource* source) {
  auto it = instances_.find(instance);
  if (it != instances_.end() && Valid(it->second.transaction)) return it->second.process_id;
  // Not learned here: maybe stored by the previous run (a restart while
  // the process ran). Asked only on a miss, and then remembered.
  Result<int64_t> stored = source->StoredInstance(instance);
  if (stored.ok() && *stored != 0) RememberInstance(instance, *stored);
  return stored;
}

Result<int64_t> ProcessRows::RowOf(ProcessKey key, int64_t time_ms, int64_t start_ms,
                                   std::string_view exe, ProcessRowSource* source) {
  Current* entry = Live(key, time_ms);
  if (entry != nullptr && entry->start_ms >= 0 && start_ms >= 0 && entry->start_ms != start_ms) {
    // The enrich stage knows the subject as another instance of this pid
    // (an exec we never stored, or a recycled pid): prefer its word.
    return FindInstance({key, start_ms}, source);
  }
  if (entry != nullptr) {
    if (exe.empty() || entry->exe_id == 0) return entry->process_id;
    const int64_t process_id = entry->process_id, entry_exe = entry->exe_id;
    Result<int64_t> exe_id = source->ExeId(exe);
    if (!exe_id.ok()) return exe_id.status();
    if (*exe_id == entry_exe) return process_id;
    // Same pid, different program and no exec seen: the pid was reused.
    return int64_t{0};
  }
  if (start_ms < 0) return int64_t{0};
  Result<int64_t> known = FindInstance({key, start_ms}, source);
  if (!known.ok() || *known == 0) return known;
  Result<int64_t> exe_id = source->ExeId(exe);
  if (!exe_id.ok()) return exe_id.status();
  Track(key, *known, *exe_id, time_ms, start_ms);
  return known;
}

Result<int64_t> ProcessRows::ParentOf(ProcessKey parent, int64_t time_ms, int64_t parent_start_ms,
                                      ProcessRowSource* source) {
  if (parent_start_ms >= 0) {
    Result<int64_t> id = FindInstance({parent, parent_start_ms}, source);
    if (!id.ok() || *id != 0) return id;
  }
  const Current* row = Live(parent, time_ms);
  if (row == nullptr) return int64_t{0};
  // Without the enrich stage "whatever ppid runs now" is the best guess;
  // with it, a current process of another known start is somebody else.
  if (parent_start_ms >= 0 && row->start_ms >= 0 && row->start_ms != parent_start_ms)
    return int64_t{0};
  return row->process_id;
}

void ProcessRows::NoteExec(ProcessKey key, int64_t process_id, int64_t exe_id, int64_t time_ms,
                           bool success) {
  // Only a successful exec starts an instance; its start is its time.
  if (success && time_ms >= 0) RememberInstance({key, time_ms}, process_id);
  if (RowTakesOverPid(/*placeholder=*/false, success) || Live(key, time_ms) == nullptr)
    Track(key, process_id, exe_id, time_ms, success ? time_ms : -1);
}

void ProcessRows::NotePlaceholder(ProcessKey key, int64_t process_id, int64_t exe_id,
                                  int64_t time_ms, int64_t start_ms) {
  if (start_ms >= 0) RememberInstance({key, start_ms}, process_id);
  Track(key, process_id, exe_id, time_ms, start_ms);
}

void ProcessRows::NoteExit(ProcessKey key, int64_t process_id, int64_t time_ms) {
  auto it = current_.find(key.packed());
  if (it == current_.end() || it->second.process_id != process_id || !Valid(it->second.transaction))
    return;
  it->second.ended_ms = time_ms;
  it->second.transaction = transaction_;  // the exit is this transaction's to keep or lose
}

void ProcessRows::NoteStoredExit(ProcessKey key, int64_t time_ms) {
  auto it = current_.find(key.packed());
  if (it != current_.end() && Valid(it->second.transaction)) it->second.ended_ms = time_ms;
}

void PidSuccession::Note(ProcessKey key, int64_t process_id, bool placeholder, bool success) {
  if (!RowTakesOverPid(placeholder, success)) return;
  int64_t& latest = latest_[key.packed()];
  latest = std::max(latest, process_id);
}

bool PidSuccession::Superseded(ProcessKey key, int64_t process_id) const {
  auto it = latest_.find(key.packed());
  return it != latest_.end() && it->second > process_id;
}

}  // namespace recorder::enrich
