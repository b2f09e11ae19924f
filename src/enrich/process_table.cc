#include "enrich/process_table.h"
#include "util/file_util.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <variant>

namespace recorder::enrich {

namespace {

constexpr int kStateVersion = 1;
constexpr char kStateFormat[] = "recorder-process-state";
// btime in /proc/stat has one-second resolution, so a seeded start time
// can be up to a second later than the task's first events.
constexpr int64_t kSeedSlackMs = 1000;
constexpr std::string_view kDeletedSuffix = " (deleted)";

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = std::move(buffer).str();
  return true;
}

template <typename T>
bool ToInt(std::string_view text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string StripDeleted(std::string exe) {
  if (exe.size() > kDeletedSuffix.size() &&
      std::string_view(exe).substr(exe.size() - kDeletedSuffix.size()) == kDeletedSuffix) {
    exe.resize(exe.size() - kDeletedSuffix.size());
  }
  return exe;
}

// "Uid:\t1000\t1000\t1000\t1000" -> the first two numbers.
void ParseIdLine(std::string_view line, int64_t* real, int64_t* effective) {
  size_t pos = line.find(':');
  if (pos == std::string_view::npos) return;
  line.remove_prefix(pos + 1);
  int64_t values[2] = {kUnsetId, kUnsetId};
  for (int i = 0; i < 2; ++i) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    size_t stop = line.find_first_of(" \t");
    std::string_view token = line.substr(0, stop);
    int64_t v;
    if (ToInt(token, &v)) values[i] = v;
    if (stop == std::string_view::npos) break;
    line.remove_prefix(stop);
  }
  *real = values[0];
  *effective = values[1];
}

int64_t NormalizeId(int64_t id) { return id == 4294967295LL ? kUnsetId : id; }

const char* OriginName(ProcessOrigin origin) {
  switch (origin) {
    case ProcessOrigin::kSeed:
      return "seed";
    case ProcessOrigin::kExec:
      return "exec";
    case ProcessOrigin::kFork:
      return "fork";
    case ProcessOrigin::kObserved:
      return "observed";
  }
  return "seed";
}

bool OriginFromName(std::string_view name, ProcessOrigin* out) {
  for (ProcessOrigin o : {ProcessOrigin::kSeed, ProcessOrigin::kExec, ProcessOrigin::kFork,
                          ProcessOrigin::kObserved}) {
    if (name == OriginName(o)) {
      *out = o;
      return true;
    }
  }
  return false;
}

}  // namespace

struct ProcessTable::ProcEntry {
  int32_t ppid = 0;
  int64_t start_ticks = -1;
  std::string exe;
  std::vector<std::string> argv;
  int64_t uid = kUnsetId, euid = kUnsetId, gid = kUnsetId, egid = kUnsetId, auid = kUnsetId;
};

ProcessTable::ProcessTable(ProcessTableOptions options) : options_(std::move(options)) {
  if (options_.clock_ticks <= 0) options_.clock_ticks = 100;
}

bool ProcessTable::ReadBootTime() {
  if (boot_time_ms_ >= 0) return true;
  std::string stat;
  if (!ReadFile(options_.proc_root + "/stat", &stat)) return false;
  std::istringstream lines(stat);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("btime ", 0) == 0) {
      int64_t seconds;
      if (ToInt(std::string_view(line).substr(6), &seconds)) {
        boot_time_ms_ = seconds * 1000;
        return true;
      }
    }
  }
  return false;
}

std::string ProcessTable::ReadBootId() const {
  std::string id;
  if (!ReadFile(options_.proc_root + "/sys/kernel/random/boot_id", &id)) return "";
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

bool ProcessTable::ReadProc(int32_t pid, ProcEntry* out) const {
  const std::string dir = fmt::format("{}/{}", options_.proc_root, pid);
  std::string stat;
  if (!ReadFile(dir + "/stat", &stat)) return false;
  // comm may hold spaces and ')': the fields start after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::string_view rest = std::string_view(stat).substr(close + 1);
  // rest = " S ppid ...": token 0 is field 3 (state), field N is token N-3.
  std::vector<std::string_view> tokens;
  while (!rest.empty() && tokens.size() < 20) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t stop = rest.find(' ');
    tokens.push_back(rest.substr(0, stop));
    if (stop == std::string_view::npos) break;
    rest.remove_prefix(stop);
  }
  if (tokens.size() < 20) return false;
  if (!ToInt(tokens[1], &out->ppid) || !ToInt(tokens[19], &out->start_ticks)) return false;

  char link[4096];
  ssize_t n = readlink((dir + "/exe").c_str(), link, sizeof(link));
  out->exe = n > 0 ? StripDeleted(std::string(link, static_cast<size_t>(n))) : std::string();

  std::string cmdline;
  out->argv.clear();
  if (ReadFile(dir + "/cmdline", &cmdline)) {
    std::string_view view = cmdline;
    while (!view.empty()) {
      size_t nul = view.find('\0');
      out->argv.emplace_back(view.substr(0, nul));
      if (nul == std::string_view::npos) break;
      view.remove_prefix(nul + 1);
    }
  }
  std::string status;
  if (ReadFile(dir + "/status", &status)) {
    std::istringstream lines(status);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("Uid:", 0) == 0) ParseIdLine(line, &out->uid, &out->euid);
      if (line.rfind("Gid:", 0) == 0) ParseIdLine(line, &out->gid, &out->egid);
    }
  }
  std::string loginuid;
  if (ReadFile(dir + "/loginuid", &loginuid)) {
    while (!loginuid.empty() && loginuid.back() == '\n') loginuid.pop_back();
    int64_t auid;
    if (ToInt(std::string_view(loginuid), &auid)) out->auid = NormalizeId(auid);
  }
  return true;
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

ProcessInfo* ProcessTable::Current(int32_t pid) {
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end() || it->second.empty()) return nullptr;
  ProcessInfo& last = it->second.back();
  return last.Running() ? &last : nullptr;
}

ProcessInfo* ProcessTable::Insert(ProcessInfo info) {
  Instances& list = by_pid_[info.pid];
  auto pos = list.insert(PastStartedBy(list, info.start_ms), std::move(info));
  ++count_;
  ProcessInfo* inserted = &*pos;
  inserted->child_refs = 0;
  if (!inserted->Running()) expiry_.push({inserted->end_ms, inserted->pid, inserted->start_ms});
  if (inserted->parent_start_ms >= 0) {
    auto parent_it = by_pid_.find(inserted->ppid);
    if (parent_it != by_pid_.end()) {
      auto parent = FindStart(parent_it->second, inserted->parent_start_ms);
      if (parent != parent_it->second.end() && &*parent != inserted) ++parent->child_refs;
    }
  }
  if (count_ > options_.max_instances) {
    int32_t pid = inserted->pid;
    int64_t start = inserted->start_ms;
    EnforceBound();
    inserted = const_cast<ProcessInfo*>(Find(pid, start));
  }
  return inserted;
}

void ProcessTable::EnforceBound() {
  // Down to 90% so the O(n) pass runs rarely (hysteresis).
  size_t target = options_.max_instances - options_.max_instances / 10;
  std::vector<std::pair<int64_t, std::pair<int32_t, int64_t>>> ended;
  for (const auto& [pid, list] : by_pid_) {
    for (const ProcessInfo& p : list) {
      // Running instances count as "ended" at +inf: they go last.
      int64_t order = p.Running() ? INT64_MAX : p.end_ms;
      ended.push_back({order, {pid, p.start_ms}});
    }
  }
  std::sort(ended.begin(), ended.end());
  for (const auto& [order, key] : ended) {
    if (count_ <= target) break;
    if (Remove(key.first, key.second, /*cascade=*/false)) ++stats_.evicted;
  }
}

Status ProcessTable::SeedFromProc(int64_t now_ms) {
  if (!ReadBootTime()) {
    return Status::Errorf("cannot read btime from {}/stat", options_.proc_root);
  }
  DIR* dir = opendir(options_.proc_root.c_str());
  if (dir == nullptr) return Status::Errorf("cannot open {}", options_.proc_root);
  std::vector<int32_t> pids;
  while (dirent* entry = readdir(dir)) {
    int32_t pid;
    if (ToInt(std::string_view(entry->d_name), &pid) && pid > 0) pids.push_back(pid);
  }
  closedir(dir);
  // Parents first, so children can link to them.
  std::sort(pids.begin(), pids.end());
  for (int32_t pid : pids) SeedOne(pid, now_ms);
  // Parent links for children whose parent had a higher pid (pid wrap).
  for (auto& [pid, list] : by_pid_) {
    for (ProcessInfo& p : list) {
      if (p.parent_start_ms >= 0 || !p.Running()) continue;
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
  if (!ReadProc(pid, &proc)) return false;
  int64_t start_ms = boot_time_ms_ + proc.start_ticks * 1000 / options_.clock_ticks;
  if (ProcessInfo* current = Current(pid)) {
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

void ProcessTable::OnExec(int32_t pid, int32_t ppid, int64_t time_ms, const std::string& exe,
                          const std::vector<std::string>& argv, const Subject& ids) {
  ++stats_.execs;
  ProcessInfo info;
  info.pid = pid;
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
  const ProcessInfo* parent = Lookup(ppid, time_ms);
  if (parent != nullptr) info.parent_start_ms = parent->start_ms;

  if (ProcessInfo* current = Current(pid)) {
    // Same process exec'ing again: same parent, or its old parent is gone
    // (it was reparented). Otherwise the pid was recycled after an exit we
    // never saw: never link the new program to the old history.
    bool old_parent_running = false;
    if (const ProcessInfo* old_parent = Find(current->ppid, current->parent_start_ms)) {
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
  if (const ProcessInfo* same_key = Find(pid, time_ms)) {
    // Two execs in the same millisecond: keep the later one's data.
    if (info.previous_start_ms == time_ms) info.previous_start_ms = same_key->previous_start_ms;
    Remove(pid, time_ms);
  }
  Insert(std::move(info));
}

void ProcessTable::OnExit(int32_t pid, int64_t time_ms) {
  ++stats_.exits;
  if (ProcessInfo* current = Current(pid)) {
    End(current, std::max(time_ms, current->start_ms), /*exited=*/true);
  }
}

void ProcessTable::OnFork(int32_t parent_pid, int32_t child_pid, int64_t time_ms) {
  ++stats_.forks;
  if (ProcessInfo* stale = Current(child_pid)) {
    // A running instance under the new child's pid exited unseen.
    End(stale, time_ms, /*exited=*/true);
  }
  ProcessInfo child;
  const ProcessInfo* parent = Lookup(parent_pid, time_ms);
  if (parent != nullptr) {
    child = *parent;  // the child runs the parent's image until it execs
    child.parent_start_ms = parent->start_ms;
    child.child_refs = 0;
  }
  child.pid = child_pid;
  child.ppid = parent_pid;
  child.start_ms = time_ms;
  child.start_known = true;
  child.task_start_ticks = -1;
  child.end_ms = -1;
  child.exited = false;
  child.previous_start_ms = -1;
  child.origin = ProcessOrigin::kFork;
  if (Find(child_pid, time_ms) != nullptr) return;
  Insert(std::move(child));
}

void ProcessTable::Observe(const Subject& subject, int64_t time_ms) {
  if (subject.pid <= 0) return;
  const ProcessInfo* known = Lookup(subject.pid, time_ms);
  if (known != nullptr) {
    bool exe_differs = !subject.exe.empty() && !known->exe.empty() && subject.exe != known->exe;
    if (!exe_differs || !known->Running()) return;
  }
  ProcessInfo info;
  info.pid = subject.pid;
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
  if (const ProcessInfo* parent = Lookup(subject.ppid, time_ms)) {
    info.parent_start_ms = parent->start_ms;
  }
  if (ProcessInfo* current = Current(subject.pid)) {
    // Running a different program than we knew: an exec we missed (lost
    // events). Same parent -> same process, new image.
    bool same_process = current->ppid == subject.ppid;
    if (same_process) {
      info.previous_start_ms = current->start_ms;
      info.task_start_ticks = current->task_start_ticks;
    }
    End(current, time_ms, /*exited=*/!same_process);
  }
  if (Find(subject.pid, time_ms) != nullptr) return;
  ++stats_.observed;
  Insert(std::move(info));
}

void ProcessTable::Apply(const TypedEvent& event) {
  const int64_t t = event.header.time_ms;
  if (const auto* start = std::get_if<ProcessStart>(&event.body)) {
    if (event.header.success) {
      OnExec(event.subject.pid, event.subject.ppid, t, event.subject.exe, start->argv,
             event.subject);
    } else {
      Observe(event.subject, t);
    }
    return;
  }
  if (std::holds_alternative<ProcessEnd>(event.body)) {
    Observe(event.subject, t);
    OnExit(event.subject.pid, t);
    return;
  }
  Observe(event.subject, t);
}

const ProcessInfo* ProcessTable::Find(int32_t pid, int64_t start_ms) const {
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) return nullptr;
  auto pos = FindStart(it->second, start_ms);
  return pos != it->second.end() ? &*pos : nullptr;
}

const ProcessInfo* ProcessTable::Lookup(int32_t pid, int64_t at_ms) const {
  auto it = by_pid_.find(pid);
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

const ProcessInfo* ProcessTable::LookupLatestStarted(int32_t pid, int64_t at_ms) const {
  if (const ProcessInfo* running = Lookup(pid, at_ms)) return running;
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end() || it->second.empty()) return nullptr;
  auto pos = PastStartedBy(it->second, at_ms);
  return pos != it->second.begin() ? &*(pos - 1) : nullptr;
}

std::vector<const ProcessInfo*> ProcessTable::Ancestry(int32_t pid, int64_t at_ms,
                                                       size_t max_depth) const {
  std::vector<const ProcessInfo*> chain;
  const ProcessInfo* p = Lookup(pid, at_ms);
  while (p != nullptr && chain.size() < max_depth) {
    chain.push_back(p);
    if (p->pid <= 1 || p->parent_start_ms < 0) break;
    const ProcessInfo* parent = Find(p->ppid, p->parent_start_ms);
    // A cycle can only come from a corrupt state; stop rather than loop.
    if (parent == p) break;
    p = parent;
  }
  return chain;
}

void ProcessTable::Age(int64_t now_ms) {
  // Only instances that ended are candidates, and they come off a heap in
  // end order: O(expired * log n), never a pass over the whole table
  // (which took ~1 ms per 18k instances on the event path).
  expire_cutoff_ms_ = now_ms - options_.expiration_seconds * 1000;
  while (!expiry_.empty() && expiry_.top().end_ms <= expire_cutoff_ms_) {
    ExpiryEntry due = expiry_.top();
    expiry_.pop();
    const ProcessInfo* p = Find(due.pid, due.start_ms);
    if (p == nullptr || p->Running() || p->end_ms != due.end_ms) continue;  // stale entry
    // Still the parent of an instance in the table: kept so ancestry
    // holds; Remove() of its last child drops it.
    if (p->child_refs > 0) continue;
    if (Remove(due.pid, due.start_ms)) ++stats_.expired;
  }
}

void ProcessTable::End(ProcessInfo* p, int64_t end_ms, bool exited) {
  p->end_ms = end_ms;
  p->exited = exited;
  expiry_.push({end_ms, p->pid, p->start_ms});
}

bool ProcessTable::Remove(int32_t pid, int64_t start_ms, bool cascade) {
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) return false;
  auto& list = it->second;
  auto pos = FindStart(list, start_ms);
  if (pos == list.end()) return false;
  const int32_t ppid = pos->ppid;
  const int64_t parent_start = pos->parent_start_ms;
  list.erase(pos);
  if (list.empty()) by_pid_.erase(it);
  --count_;
  if (parent_start < 0) return true;
  auto parent_it = by_pid_.find(ppid);
  if (parent_it == by_pid_.end()) return true;
  auto parent = FindStart(parent_it->second, parent_start);
  if (parent == parent_it->second.end()) return true;
  if (parent->child_refs > 0) --parent->child_refs;
  // The parent outlived its expiry only for this child.
  if (cascade && parent->child_refs == 0 && !parent->Running() &&
      parent->end_ms <= expire_cutoff_ms_) {
    if (Remove(ppid, parent_start, cascade)) ++stats_.expired;
  }
  return true;
}

void ProcessTable::RecountRefs() {
  for (auto& [pid, list] : by_pid_) {
    for (ProcessInfo& p : list) p.child_refs = 0;
  }
  for (auto& [pid, list] : by_pid_) {
    for (ProcessInfo& p : list) {
      if (p.parent_start_ms < 0) continue;
      auto parent_it = by_pid_.find(p.ppid);
      if (parent_it == by_pid_.end()) continue;
      auto parent = FindStart(parent_it->second, p.parent_start_ms);
      if (parent != parent_it->second.end() && &*parent != &p) ++parent->child_refs;
    }
  }
}

size_t ProcessTable::size() const { return count_; }

Status ProcessTable::SaveState(const std::string& path) const {
  std::ostringstream out;
  nlohmann::json header = {{"format", kStateFormat},
                           {"version", kStateVersion},
                           {"boot_id", ReadBootId()},
                           {"count", count_}};
  out << header.dump() << '\n';
  for (const auto& [pid, list] : by_pid_) {
    for (const ProcessInfo& p : list) {
      nlohmann::json line = {{"pid", p.pid},
                             {"ppid", p.ppid},
                             {"start", p.start_ms},
                             {"known", p.start_known},
                             {"ticks", p.task_start_ticks},
                             {"end", p.end_ms},
                             {"exited", p.exited},
                             {"parent", p.parent_start_ms},
                             {"prev", p.previous_start_ms},
                             {"origin", OriginName(p.origin)},
                             {"exe", p.exe},
                             {"argv", p.argv},
                             {"uid", p.uid},
                             {"euid", p.euid},
                             {"gid", p.gid},
                             {"egid", p.egid},
                             {"auid", p.auid}};
      // Exe and argv are untrusted bytes: replace invalid UTF-8 instead
      // of failing the save.
      out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
  }
  return WriteFileAtomically(path, out.str());
}

Status ProcessTable::LoadState(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Errorf("cannot open process state file {}", path);
  auto corrupt = [&](size_t line_no, std::string_view why) {
    return Status::Errorf("corrupt process state file {} line {}: {}", path, line_no, why);
  };
  std::string line;
  if (!std::getline(in, line)) return corrupt(1, "empty file");
  nlohmann::json header = nlohmann::json::parse(line, nullptr, false);
  if (header.is_discarded() || !header.is_object() || header.value("format", "") != kStateFormat) {
    return corrupt(1, "not a process state header");
  }
  if (header.value("version", 0) != kStateVersion) {
    return corrupt(1, fmt::format("unsupported version {}", header.value("version", 0)));
  }
  const size_t expected = header.value("count", size_t{0});
  std::vector<ProcessInfo> loaded;
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return corrupt(line_no, "not a JSON object");
    ProcessInfo p;
    try {
      p.pid = j.at("pid").get<int32_t>();
      p.ppid = j.at("ppid").get<int32_t>();
      p.start_ms = j.at("start").get<int64_t>();
      p.start_known = j.at("known").get<bool>();
      p.task_start_ticks = j.at("ticks").get<int64_t>();
      p.end_ms = j.at("end").get<int64_t>();
      p.exited = j.at("exited").get<bool>();
      p.parent_start_ms = j.at("parent").get<int64_t>();
      p.previous_start_ms = j.at("prev").get<int64_t>();
      if (!OriginFromName(j.at("origin").get<std::string>(), &p.origin)) {
        return corrupt(line_no, "unknown origin");
      }
      p.exe = j.at("exe").get<std::string>();
      p.argv = j.at("argv").get<std::vector<std::string>>();
      p.uid = j.at("uid").get<int64_t>();
      p.euid = j.at("euid").get<int64_t>();
      p.gid = j.at("gid").get<int64_t>();
      p.egid = j.at("egid").get<int64_t>();
      p.auid = j.at("auid").get<int64_t>();
    } catch (const nlohmann::json::exception& e) {
      // nlohmann reports missing/mistyped fields only by exception; it
      // stops here, at the module border.
      return corrupt(line_no, e.what());
    }
    loaded.push_back(std::move(p));
  }
  if (loaded.size() != expected) {
    return corrupt(line_no,
                   fmt::format("{} entries, header says {} (truncated?)", loaded.size(), expected));
  }

  by_pid_.clear();
  count_ = 0;
  expiry_ = decltype(expiry_)();
  std::string saved_boot = header.value("boot_id", "");
  std::string boot = ReadBootId();
  if (!saved_boot.empty() && !boot.empty() && saved_boot != boot) {
    return Status::Ok();  // a reboot: no pid in the file means anything now
  }
  // Keep a pid's instances only if /proc still has the same task: equal
  // start ticks, or (images whose task start we never learned) a task
  // that started before them.
  std::unordered_map<int32_t, int64_t> live_ticks;  // pid -> start ticks, -1 gone
  ReadBootTime();
  for (ProcessInfo& p : loaded) {
    auto [it, fresh] = live_ticks.try_emplace(p.pid, -1);
    if (fresh) {
      ProcEntry proc;
      if (ReadProc(p.pid, &proc)) it->second = proc.start_ticks;
    }
    const int64_t ticks = it->second;
    if (ticks < 0) continue;
    bool same_task =
        p.task_start_ticks >= 0
            ? p.task_start_ticks == ticks
            : boot_time_ms_ >= 0 &&
                  boot_time_ms_ + ticks * 1000 / options_.clock_ticks <= p.start_ms + kSeedSlackMs;
    if (!same_task) continue;
    if (p.task_start_ticks < 0) p.task_start_ticks = ticks;
    Insert(std::move(p));
  }
  RecountRefs();  // children may have come before their parents in the file
  return Status::Ok();
}

}  // namespace recorder::enrich
