// The process table's state file (ProcessStateFile): what a restarted
// recorder knows of the processes that were running.
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string_view>

#include "enrich/process_table.h"
#include "util/enum_text.h"
#include "util/file_util.h"

namespace recorder::enrich {

namespace {

constexpr int kStateVersion = 1;
constexpr char kStateFormat[] = "recorder-process-state";

// The state file's "origin" texts: a file written by an older recorder
// must keep reading, so a row never changes its text.
constexpr EnumCode<ProcessOrigin> kOriginNames[] = {
    {ProcessOrigin::kSeed, "seed"},
    {ProcessOrigin::kExec, "exec"},
    {ProcessOrigin::kFork, "fork"},
    {ProcessOrigin::kObserved, "observed"},
};
static_assert(CodesAreDistinct(kOriginNames) &&
              CodesCover(kOriginNames, ProcessOrigin::kSeed, ProcessOrigin::kObserved));

}  // namespace

Status ProcessTable::SaveState(const std::string& path) const {
  size_t local = 0;
  for (const auto& [key, list] : by_pid_) {
    if (!list.empty() && list.front().node == kLocalNode) local += list.size();
  }
  std::ostringstream out;
  nlohmann::json header = {{"format", kStateFormat},
                           {"version", kStateVersion},
                           {"boot_id", proc_.BootId()},
                           {"count", local}};
  out << header.dump() << '\n';
  for (const auto& [key, list] : by_pid_) {
    if (list.empty() || list.front().node != kLocalNode) continue;
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
                             {"origin", CodeText(kOriginNames, p.origin)},
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
      const std::optional<ProcessOrigin> origin =
          CodeValue(kOriginNames, j.at("origin").get<std::string>());
      if (!origin) return corrupt(line_no, "unknown origin");
      p.origin = *origin;
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
  std::string boot = proc_.BootId();
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
      if (proc_.Read(p.pid, &proc)) it->second = proc.start_ticks;
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
  LearnLocalNames();
  return Status::Ok();
}

}  // namespace recorder::enrich
