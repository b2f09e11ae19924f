#include "enrich/process_table.h"

#include <algorithm>
#include <string_view>
#include <variant>

namespace recorder::enrich {

ProcessTable::ProcessTable(ProcessTableOptions options)
    : options_(std::move(options)), proc_(options_.proc_root) {
  if (options_.clock_ticks <= 0) options_.clock_ticks = 100;
}

bool ProcessTable::ReadBootTime() {
  if (boot_time_ms_ < 0) boot_time_ms_ = proc_.BootTimeMs();
  return boot_time_ms_ >= 0;
}

std::optional<uint32_t> ProcessTable::FindNode(std::string_view node) const {
  if (node.empty()) return kLocalNode;
  if (node == last_node_) return last_node_number_;
  auto it = node_numbers_.find(node);
  if (it == node_numbers_.end()) return std::nullopt;
  return it->second;
}

uint32_t ProcessTable::NewNode(std::string_view node) {
  uint32_t number = kLocalNode;
  if (!node.empty()) {
    auto it = node_numbers_.find(node);
    if (it == node_numbers_.end())
      it = node_numbers_.emplace(std::string(node), next_node_++).first;
    number = it->second;
  }
  last_node_.assign(node);
  last_node_number_ = number;
  return number;
}

void ProcessTable::LearnLocalNames() {
  // auditd's name_format=hostname names this machine by gethostname(),
  // which is the kernel's hostname; some setups write its first label.
  std::string host = proc_.Hostname();
  if (host.empty()) return;
  std::string short_name = host.substr(0, host.find('.'));
  for (const std::string& name : {host, short_name}) node_numbers_[name] = kLocalNode;
  last_node_.clear();
  last_node_number_ = kLocalNode;
}

namespace {

// Events arrive in time order, so the instance asked for is nearly always
// the newest: both searches check it before a binary search (deque
// iterators make the search's steps dear).

// Just past the last instance of a pid's sorted list that started at or
// before `at_ms` (begin when none did).
template <typename List>
auto PastStartedBy(List& list, int64_t at_ms) {
  if (list.empty() || list.back().start_ms <= at_ms) return list.end();
  return std::upper_bound(list.begin(), list.end(), at_ms,
                          [](int64_t t, const ProcessInfo& p) { return t < p.start_ms; });
}

// The instance of a pid's sorted list that started at `start_ms`, or end.
template <typename List>
auto FindStart(List& list, int64_t start_ms) {
  auto pos = PastStartedBy(list, start_ms);
  return pos != list.begin() && (pos - 1)->start_ms == start_ms ? pos - 1 : list.end();
}

}  // namespace

ProcessInfo* ProcessTable::Current(ProcessKey key) {
  auto it = by_pid_.find(key.packed());
  if (it == by_pid_.end() || it->second.empty()) return nullptr;
  ProcessInfo& last = it->second.back();
  return last.Running() ? &last : nullptr;
}

ProcessInfo* ProcessTable::Insert(ProcessInfo info) {
  Instances& list = by_pid_[info.key().packed()];
  auto pos = list.insert(PastStartedBy(list, info.start_ms), std::move(info));
  ++count_;
  ProcessInfo* inserted = &*pos;
  inserted->child_refs = 0;
  if (!inserted->Running()) expiry_.push({inserted->end_ms, inserted->key(), inserted->start_ms});
  if (inserted->parent_start_ms >= 0) {
    auto parent_it = by_pid_.find(ProcessKey{inserted->node, inserted->ppid}.packed());
    if (parent_it != by_pid_.end()) {
      auto parent = FindStart(parent_it->second, inserted->parent_start_ms);
      if (parent != parent_it->second.end() && &*parent != inserted) ++parent->child_refs;
    }
  }
  if (count_ > options_.max_instances) {
    const ProcessKey key = inserted->key();
    const int64_t start = inserted->start_ms;
    EnforceBound();
    inserted = const_cast<ProcessInfo*>(Find(key, start));
  }
  return inserted;
}

void ProcessTable::EnforceBound() {
  // Down to 90% so the O(n) pass runs rarely (hysteresis).
  size_t target = options_.max_instances - options_.max_instances / 10;
  struct Candidate {
    int64_t order;
    ProcessKey key;
    int64_t start_ms;
  };
  std::vector<Candidate> ended;
  for (const auto& [key, list] : by_pid_) {
    for (const ProcessInfo& p : list) {
      // Running instances count as "ended" at +inf: they go last.
      ended.push_back({p.Running() ? INT64_MAX : p.end_ms, p.key(), p.start_ms});
    }
  }
  std::sort(ended.begin(), ended.end(), [](const Candidate& a, const Candidate& b) {
    if (a.order != b.order) return a.order < b.order;
    if (a.key.packed() != b.key.packed()) return a.key.packed() < b.key.packed();
    return a.start_ms < b.start_ms;
  });
  for (const Candidate& c : ended) {
    if (count_ <= target) break;
    if (Remove(c.key, c.start_ms, /*cascade=*/false)) ++stats_.evicted;
  }
}

Status ProcessTable::SeedFromProc(int64_t now_ms) {
  if (!ReadBootTime()) {
    return Status::Errorf("cannot read btime from {}/stat", options_.proc_root);
  }
  std::vector<int32_t> pids;
  if (!proc_.Pids(&pids)) return Status::Errorf("cannot open {}", options_.proc_root);
  LearnLocalNames();
  // Parents first (ascending pids), so children can link to them.
  for (int32_t pid : pids) SeedOne(pid, now_ms);
  // Parent links for children whose parent had a higher pid (pid wrap).
  for (auto& [key, list] : by_pid_) {
    for (ProcessInfo& p : list) {
      if (p.node != kLocalNode || p.parent_start_ms >= 0 || !p.Running()) continue;
      if (const ProcessInfo* parent = Lookup(p.ppid, p.start_ms + kSeedSlackMs)) {
        p.parent_start_ms = parent->start_ms;
      }
    }
  }
  RecountRefs();
  return Status::Ok();
}

bool ProcessTable::SeedOne(int32_t pid, int64_t now_ms) {
  if (!ReadBootTime()) return false;
  ProcEntry proc;
  if (!proc_.Read(pid, &proc)) return false;
  int64_t start_ms = boot_time_ms_ + proc.start_ticks * 1000 / options_.clock_ticks;
  if (ProcessInfo* current = Current(Local(pid))) {
    if (current->task_start_ticks == proc.start_ticks || current->start_ms >= start_ms) {
      // The same task (or an image of it we saw exec). A different exe
      // means an exec we missed: start a new image now.
      if (current->exe == proc.exe || proc.exe.empty()) return true;
      ProcessInfo next = *current;
      End(current, now_ms, /*exited=*/false);
      next.child_refs = 0;
      next.start_ms = now_ms;
      next.start_known = false;
      next.end_ms = -1;
      next.previous_start_ms = current->start_ms;
      next.origin = ProcessOrigin::kObserved;
      next.exe = proc.exe;
      next.argv = proc.argv;
      Insert(std::move(next));
      ++stats_.observed;
      return true;
    }
    // A different task under this pid: the old one exited unseen.
    End(current, std::min(now_ms, start_ms), /*exited=*/true);
  }
  ProcessInfo info;
  info.pid = pid;
  info.ppid = proc.ppid;
  info.start_ms = start_ms;
  info.task_start_ticks = proc.start_ticks;
  info.origin = ProcessOrigin::kSeed;
  info.exe = std::move(proc.exe);
  info.argv = std::move(proc.argv);
  info.uid = NormalizeId(proc.uid);
  info.euid = NormalizeId(proc.euid);
  info.gid = NormalizeId(proc.gid);
  info.egid = NormalizeId(proc.egid);
  info.auid = proc.auid;
  if (const ProcessInfo* parent = Lookup(proc.ppid, start_ms + kSeedSlackMs)) {
    info.parent_start_ms = parent->start_ms;
  }
  Insert(std::move(info));
  ++stats_.seeded;
  return true;
}

void ProcessTable::OnExec(ProcessKey key, int32_t ppid, int64_t time_ms, const std::string& exe,
                          const std::vector<std::string>& argv, const Subject& ids) {
  ++stats_.execs;
  ProcessInfo info;
  info.pid = key.pid;
  info.node = key.node;
  info.ppid = ppid;
  info.start_ms = time_ms;
  info.origin = ProcessOrigin::kExec;
  info.exe = exe;
  if (options_.keep_argv) info.argv = argv;
  info.uid = ids.uid;
  info.euid = ids.euid;
  info.gid = ids.gid;
  info.egid = ids.egid;
  info.auid = ids.auid;
  const ProcessInfo* parent = Lookup(ProcessKey{key.node, ppid}, time_ms);
  if (parent != nullptr) info.parent_start_ms = parent->start_ms;

  if (ProcessInfo* current = Current(key)) {
    // Same process exec'ing again: same parent, or its old parent is gone
    // (it was reparented). Otherwise the pid was recycled after an exit we
    // never saw: never link the new program to the old history.
    bool old_parent_running = false;
    if (const ProcessInfo* old_parent = Parent(*current)) {
      old_parent_running = old_parent->Running() || old_parent->end_ms >= time_ms;
    }
    bool same_process =
        current->start_ms <= time_ms && (current->ppid == ppid || !old_parent_running);
    if (same_process) {
      info.previous_start_ms = current->start_ms;
      info.task_start_ticks = current->task_start_ticks;
    }
    End(current, time_ms, /*exited=*/!same_process);
  }
  if (const ProcessInfo* same_key = Find(key, time_ms)) {
    // Two execs in the same millisecond: keep the later one's data.
    if (info.previous_start_ms == time_ms) info.previous_start_ms = same_key->previous_start_ms;
    Remove(key, time_ms);
  }
  Insert(std::move(info));
}

void ProcessTable::OnExit(ProcessKey key, int64_t time_ms) {
  ++stats_.exits;
  if (ProcessInfo* current = Current(key)) {
    End(current, std::max(time_ms, current->start_ms), /*exited=*/true);
  }
}

void ProcessTable::OnFork(ProcessKey parent_key, int32_t child_pid, int64_t time_ms) {
  ++stats_.forks;
  const ProcessKey child_key{parent_key.node, child_pid};
  if (ProcessInfo* stale = Current(child_key)) {
    // A running instance under the new child's pid exited unseen.
    End(stale, time_ms, /*exited=*/true);
  }
  ProcessInfo child;
  const ProcessInfo* parent = Lookup(parent_key, time_ms);
  if (parent != nullptr) {
    child = *parent;  // the child runs the parent's image until it execs
    child.parent_start_ms = parent->start_ms;
    child.child_refs = 0;
  }
  child.pid = child_pid;
  child.node = parent_key.node;
  child.ppid = parent_key.pid;
  child.start_ms = time_ms;
  child.start_known = true;
  child.task_start_ticks = -1;
  child.end_ms = -1;
  child.exited = false;
  child.previous_start_ms = -1;
  child.origin = ProcessOrigin::kFork;
  if (Find(child_key, time_ms) != nullptr) return;
  Insert(std::move(child));
}

void ProcessTable::Observe(uint32_t node, const Subject& subject, int64_t time_ms) {
  if (subject.pid <= 0) return;
  const ProcessKey key{node, subject.pid};
  const ProcessInfo* known = Lookup(key, time_ms);
  if (known != nullptr) {
    bool exe_differs = !subject.exe.empty() && !known->exe.empty() && subject.exe != known->exe;
    if (!exe_differs || !known->Running()) return;
  }
  ProcessInfo info;
  info.pid = subject.pid;
  info.node = node;
  info.ppid = subject.ppid;
  info.start_ms = time_ms;
  info.start_known = false;
  info.origin = ProcessOrigin::kObserved;
  info.exe = subject.exe;
  info.uid = subject.uid;
  info.euid = subject.euid;
  info.gid = subject.gid;
  info.egid = subject.egid;
  info.auid = subject.auid;
  if (const ProcessInfo* parent = Lookup(ProcessKey{node, subject.ppid}, time_ms)) {
    info.parent_start_ms = parent->start_ms;
  }
  if (ProcessInfo* current = Current(key)) {
    // Running a different program than we knew: an exec we missed (lost
    // events). Same parent -> same process, new image.
    bool same_process = current->ppid == subject.ppid;
    if (same_process) {
      info.previous_start_ms = current->start_ms;
      info.task_start_ticks = current->task_start_ticks;
    }
    End(current, time_ms, /*exited=*/!same_process);
  }
  if (Find(key, time_ms) != nullptr) return;
  ++stats_.observed;
  Insert(std::move(info));
}

void ProcessTable::Apply(const TypedEvent& event, ProcessKey key) {
  const int64_t t = event.header.time_ms;
  if (const auto* start = std::get_if<ProcessStart>(&event.body)) {
    if (event.header.success) {
      OnExec(key, event.subject.ppid, t, event.subject.exe, start->argv, event.subject);
    } else {
      Observe(key.node, event.subject, t);
    }
    return;
  }
  if (std::holds_alternative<ProcessEnd>(event.body)) {
    Observe(key.node, event.subject, t);
    OnExit(key, t);
    return;
  }
  Observe(key.node, event.subject, t);
}

const ProcessInfo* ProcessTable::Find(ProcessKey key, int64_t start_ms) const {
  auto it = by_pid_.find(key.packed());
  if (it == by_pid_.end()) return nullptr;
  auto pos = FindStart(it->second, start_ms);
  return pos != it->second.end() ? &*pos : nullptr;
}

const ProcessInfo* ProcessTable::Parent(const ProcessInfo& info) const {
  if (info.parent_start_ms < 0) return nullptr;
  return Find(ProcessKey{info.node, info.ppid}, info.parent_start_ms);
}

void ProcessTable::SetExeHashMemo(const ProcessInfo& info, uint32_t memo) {
  if (const ProcessInfo* p = Find(info.key(), info.start_ms); p == &info)
    const_cast<ProcessInfo*>(p)->exe_hash_memo = memo;
}

const ProcessInfo* ProcessTable::Lookup(ProcessKey key, int64_t at_ms) const {
  auto it = by_pid_.find(key.packed());
  if (it == by_pid_.end() || it->second.empty()) return nullptr;
  const Instances& list = it->second;
  auto pos = PastStartedBy(list, at_ms);
  const ProcessInfo* candidate = nullptr;
  if (pos != list.begin()) {
    candidate = &*(pos - 1);
  } else if (list.front().origin == ProcessOrigin::kSeed &&
             list.front().start_ms - kSeedSlackMs <= at_ms) {
    candidate = &list.front();
  }
  if (candidate == nullptr) return nullptr;
  if (!candidate->Running() && candidate->end_ms < at_ms) return nullptr;
  return candidate;
}

const ProcessInfo* ProcessTable::LookupLatestStarted(ProcessKey key, int64_t at_ms) const {
  if (const ProcessInfo* running = Lookup(key, at_ms)) return running;
  auto it = by_pid_.find(key.packed());
  if (it == by_pid_.end() || it->second.empty()) return nullptr;
  auto pos = PastStartedBy(it->second, at_ms);
  return pos != it->second.begin() ? &*(pos - 1) : nullptr;
}

std::vector<const ProcessInfo*> ProcessTable::Ancestry(ProcessKey key, int64_t at_ms,
                                                       size_t max_depth) const {
  std::vector<const ProcessInfo*> chain;
  const ProcessInfo* p = Lookup(key, at_ms);
  while (p != nullptr && chain.size() < max_depth) {
    chain.push_back(p);
    if (p->pid <= 1 || p->parent_start_ms < 0) break;
    const ProcessInfo* parent = Parent(*p);
    // A cycle can only come from a corrupt state; stop rather than loop.
    if (parent == p) break;
    p = parent;
  }
  return chain;
}

void ProcessTable::Age(int64_t now_ms) {
  // Only instances that ended are candidates, and they come off a heap in
  // end order: O(expired * log n), never a pass over the whole table on
  // the event path.
  expire_cutoff_ms_ = now_ms - options_.expiration_seconds * 1000;
  while (!expiry_.empty() && expiry_.top().end_ms <= expire_cutoff_ms_) {
    ExpiryEntry due = expiry_.top();
    expiry_.pop();
    const ProcessInfo* p = Find(due.key, due.start_ms);
    if (p == nullptr || p->Running() || p->end_ms != due.end_ms) continue;  // stale entry
    // Still the parent of an instance in the table: kept so ancestry
    // holds; Remove() of its last child drops it.
    if (p->child_refs > 0) continue;
    if (Remove(due.key, due.start_ms)) ++stats_.expired;
  }
}

void ProcessTable::End(ProcessInfo* p, int64_t end_ms, bool exited) {
  p->end_ms = end_ms;
  p->exited = exited;
  expiry_.push({end_ms, p->key(), p->start_ms});
}

bool ProcessTable::Remove(ProcessKey key, int64_t start_ms, bool cascade) {
  auto it = by_pid_.find(key.packed());
  if (it == by_pid_.end()) return false;
  auto& list = it->second;
  auto pos = FindStart(list, start_ms);
  if (pos == list.end()) return false;
  const ProcessKey parent_key{key.node, pos->ppid};
  const int64_t parent_start = pos->parent_start_ms;
  list.erase(pos);
  if (list.empty()) by_pid_.erase(it);
  --count_;
  if (parent_start < 0) return true;
  auto parent_it = by_pid_.find(parent_key.packed());
  if (parent_it == by_pid_.end()) return true;
  auto parent = FindStart(parent_it->second, parent_start);
  if (parent == parent_it->second.end()) return true;
  if (parent->child_refs > 0) --parent->child_refs;
  // The parent outlived its expiry only for this child.
  if (cascade && parent->child_refs == 0 && !parent->Running() &&
      parent->end_ms <= expire_cutoff_ms_) {
    if (Remove(parent_key, parent_start, cascade)) ++stats_.expired;
  }
  return true;
}

void ProcessTable::RecountRefs() {
  for (auto& [key, list] : by_pid_) {
    for (ProcessInfo& p : list) p.child_refs = 0;
  }
  for (auto& [key, list] : by_pid_) {
    for (ProcessInfo& p : list) {
      if (p.parent_start_ms < 0) continue;
      auto parent_it = by_pid_.find(ProcessKey{p.node, p.ppid}.packed());
      if (parent_it == by_pid_.end()) continue;
      auto parent = FindStart(parent_it->second, p.parent_start_ms);
      if (parent != parent_it->second.end() && &*parent != &p) ++parent->child_refs;
    }
  }
}

size_t ProcessTable::size() const { return count_; }

}  // namespace recorder::enrich
