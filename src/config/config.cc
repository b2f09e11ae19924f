#include "config/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "config/setting_merger.h"
#include "util/enum_text.h"
#include "util/json_text.h"

namespace recorder::config {
namespace {

namespace fs = std::filesystem;

// `source` in recorder.json, and what status prints.
constexpr EnumCode<AuditSource> kAuditSourceNames[] = {
    {AuditSource::kAuto, "auto"},
    {AuditSource::kUnicast, "unicast"},
    {AuditSource::kMulticast, "multicast"},
    {AuditSource::kPlugin, "plugin"},
};
static_assert(CodesAreDistinct(kAuditSourceNames) &&
              CodesCover(kAuditSourceNames, AuditSource::kAuto, AuditSource::kPlugin));
// `dnsCapture`: the names status uses for the mechanisms.
constexpr EnumCode<DnsCaptureChoice> kDnsCaptureNames[] = {
    {DnsCaptureChoice::kAuto, "auto"},
    {DnsCaptureChoice::kCgroupBpf, "cgroup-bpf"},
    {DnsCaptureChoice::kPacketSocket, "packet-socket"},
};
static_assert(CodesAreDistinct(kDnsCaptureNames) &&
              CodesCover(kDnsCaptureNames, DnsCaptureChoice::kAuto,
                         DnsCaptureChoice::kPacketSocket));
using nlohmann::json;

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
constexpr int64_t kMiB = int64_t{1024} * 1024;

std::string Resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return (fs::path(dir) / path).lexically_normal().string();
}

std::string AbsoluteDir(const std::string& dir) {
  std::error_code ec;
  fs::path abs = fs::absolute(dir.empty() ? "." : dir, ec);
  if (ec) return dir;
  std::string out = abs.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

const char* const kLogLevels[] = {"Trace", "Debug",    "Information", "Warning",
                                  "Error", "Critical", "Off"};

// Adds one file's keys. Nested "audisp"/"auditd" objects (the manual's
// section names) are flattened: "audisp": {"q_depth": N} is q_depth.
void Collect(Merger* merger, const std::string& file, const json& object,
             const std::string& prefix) {
  for (const auto& [key, value] : object.items()) {
    const std::string canonical = CanonicalKey(key);
    if (prefix.empty() && (canonical == "audisp" || canonical == "auditd") && value.is_object()) {
      Collect(merger, file, value, key + ".");
      continue;
    }
    merger->Add(canonical, Occurrence{file, prefix + key, value});
  }
}

}  // namespace

std::string_view AuditSourceName(AuditSource source) { return CodeText(kAuditSourceNames, source); }
std::string_view DnsCaptureChoiceName(DnsCaptureChoice choice) {
  return CodeText(kDnsCaptureNames, choice);
}

RecorderConfig DefaultConfig(const std::string& config_dir) {
  RecorderConfig config;
  config.config_dir = AbsoluteDir(config_dir);
  config.db_location = Resolve(config.config_dir, "monitor.db");
  config.filter_location = Resolve(config.config_dir, "filters.json");
  config.watchlist_location = Resolve(config.config_dir, "watchlist.json");
  config.signals_location = Resolve(config.config_dir, "signals");
  config.log_file = Resolve(config.config_dir, "recorder.log");
  return config;
}

std::string ConfigDirFor(const std::string& config_option) {
  return config_option.empty() ? "." : config_option;
}

std::string DbPathFor(const std::string& db_option, const RecorderConfig& config) {
  if (db_option.empty()) return config.db_location;
  std::error_code ec;
  const fs::path absolute = fs::absolute(db_option, ec);
  return ec ? db_option : absolute.lexically_normal().string();
}

Result<LoadedConfig> MergeConfigTexts(const std::string& config_dir,
                                      std::vector<ConfigText> texts) {
  // recorder.json is the base; product files follow in name order, so a
  // later product file wins for keys merged by "last".
  std::stable_sort(texts.begin(), texts.end(), [](const ConfigText& a, const ConfigText& b) {
    const std::string a_base = fs::path(a.name).filename().string();
    const std::string b_base = fs::path(b.name).filename().string();
    const bool a_main = a_base == kMainConfigName;
    const bool b_main = b_base == kMainConfigName;
    if (a_main != b_main) return a_main;
    return a_base < b_base;
  });

  LoadedConfig loaded;
  loaded.config = DefaultConfig(config_dir);
  RecorderConfig& c = loaded.config;
  Merger m(&loaded.warnings, &loaded.sources);
  for (const ConfigText& text : texts) {
    Result<json> parsed_text = ParseJsonText(text.name, text.text);
    if (!parsed_text.ok()) return parsed_text.status();
    const json& parsed = *parsed_text;
    if (!parsed.is_object())
      return Status::Errorf("{}:1:1: invalid configuration: the top level must be a JSON object",
                            text.name);
    loaded.files.push_back(text.name);
    m.file_order.push_back(text.name);
    Collect(&m, text.name, parsed, "");
  }

  // Paths.
  if (auto v = m.TakeString({"dbLocation", "MonitorDatabasePath"}))
    c.db_location = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"filterLocation", "FilterDefinitionFile"}))
    c.filter_location = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"WatchlistFile", "watchlistLocation"}))
    c.watchlist_location = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"signalsLocation", "SignalsJSONFile"}))
    c.signals_location = Resolve(c.config_dir, *v);
  if (auto v = m.TakeBool({"DisableSignals"}, Merge::kLast)) c.disable_signals = *v;
  if (auto v = m.TakeBool({"DisableSignalsTrie"}, Merge::kLast)) c.disable_signals_trie = *v;
  if (auto v = m.TakeBool({"RecordSignalDefinitions"}, Merge::kLast))
    c.record_signal_definitions = *v;
  if (auto v = m.TakeInt({"RecordSignalMatches"}, 0, kUnbounded, Merge::kMax))
    c.record_signal_matches = *v;
  if (auto v = m.TakeString({"logFile"})) c.log_file = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"controlSocket"})) c.control_socket = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"pidFile"})) c.pid_file = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"stateDir"})) c.state_dir = Resolve(c.config_dir, *v);
  if (auto v = m.TakeString({"recorderExe"})) c.recorder_exe = Resolve(c.config_dir, *v);

  // Storage and retention.
  bool runtime_set = false;
  bool absolute_set = false;
  if (auto v = m.TakeInt({"maxSizeMB", "MaxStorageSizeMB"}, 0, kUnbounded, Merge::kMax))
    c.max_size_mb = *v;
  if (auto v = m.TakeInt({"MaxRuntimeStorageSizeMB"}, 0, kUnbounded, Merge::kLast)) {
    c.max_runtime_storage_size_mb = *v;
    runtime_set = true;
  }
  if (auto v = m.TakeInt({"AbsoluteMaxStorageSizeMB"}, 0, kUnbounded, Merge::kLast)) {
    c.absolute_max_storage_size_mb = *v;
    absolute_set = true;
  }
  const int64_t doubled = c.max_size_mb > kUnbounded / 2 ? kUnbounded : 2 * c.max_size_mb;
  if (!runtime_set) c.max_runtime_storage_size_mb = doubled;
  if (!absolute_set) c.absolute_max_storage_size_mb = doubled;
  if (auto v = m.TakeInt({"CleanPercentOverLimit"}, 0, 100, Merge::kLast))
    c.clean_percent_over_limit = static_cast<int>(*v);
  if (auto v = m.TakeInt({"MonitorDays"}, 0, 65536, Merge::kLast))
    c.monitor_days = static_cast<int>(*v);
  if (auto v = m.TakeInt({"DatabaseCleanupIntervalMinutes"}, 1, 2880, Merge::kLast))
    c.database_cleanup_interval_minutes = static_cast<int>(*v);
  if (auto v = m.TakeInt({"BatchWriteDelayMS"}, 0, 5000, Merge::kLast))
    c.batch_write_delay_ms = static_cast<int>(*v);
  if (auto v = m.TakeInt({"ProcessExpirationSeconds"}, 0, kUnbounded, Merge::kLast))
    c.process_expiration_seconds = *v;
  if (auto v = m.TakeInt({"PendingEventCap"}, 0, kUnbounded, Merge::kLast))
    c.pending_event_cap = *v;
  if (auto v = m.TakeInt({"EventQueueExpirationSeconds"}, 1, kUnbounded, Merge::kLast))
    c.event_queue_expiration_seconds = *v;
  if (auto v = m.TakeInt({"MaxCleanTries"}, 0, 10, Merge::kLast))
    c.max_clean_tries = static_cast<int>(*v);
  if (auto v = m.TakeInt({"DatabaseArchiveLimit"}, 0, 100, Merge::kLast))
    c.database_archive_limit = static_cast<int>(*v);
  if (auto v = m.TakeInt({"SQLiteChunkSizeMB"}, 0, kUnbounded, Merge::kLast))
    c.sqlite_chunk_size_mb = *v;
  if (auto v = m.TakeInt({"DatabaseErrorWaitMinutes"}, 0, 60, Merge::kLast))
    c.database_error_wait_minutes = static_cast<int>(*v);

  // What to record.
  if (auto v = m.TakeBool({"MonitorProcess"}, Merge::kLast); v && !*v)
    m.Warn(
        "MonitorProcess=false ignored: process events are always recorded (every other "
        "event refers to its process)");
  if (auto v = m.TakeBool({"MonitorFiles"}, Merge::kLast)) c.monitor_files = *v;
  if (auto v = m.TakeBool({"MonitorNetwork"}, Merge::kLast)) c.monitor_network = *v;
  if (auto v = m.TakeBool({"MonitorSecurity"}, Merge::kLast)) c.monitor_security = *v;
  if (auto v = m.TakeBool({"MonitorImageLoad"}, Merge::kLast)) c.monitor_image_load = *v;
  if (auto v = m.TakeBool({"MonitorDNS"}, Merge::kLast)) c.monitor_dns = *v;
  if (auto v = m.TakeString({"dnsCapture"})) {
    if (auto choice = CodeValue(kDnsCaptureNames, *v))
      c.dns_capture = *choice;
    else
      m.Warn("dnsCapture: unknown value \"{}\" (auto, cgroup-bpf, packet-socket); using auto", *v);
  }
  if (auto v = m.TakeStringList({"watchedPaths"})) c.watched_paths = *v;

  // auditd / dispatcher.
  c.raw_logging = m.TakeBool({"rawLogging"}, Merge::kAllTrue);
  if (auto v = m.TakeInt({"q_depth", "audispQDepth"}, 1, 99999, Merge::kLast))
    c.audisp_q_depth = static_cast<int>(*v);

  // CPU kill switch.
  if (auto v = m.TakeFraction({"cpuThreshold"}, 0.01, 1.0, Merge::kMin)) c.cpu_threshold = *v;
  if (auto v = m.TakeBool({"cpuKillEnabled"}, Merge::kAllTrue)) c.cpu_kill_enabled = *v;
  if (auto v = m.TakeInt({"cpuKillAfterNumViolations"}, 1, 1000000, Merge::kLast))
    c.cpu_kill_after_num_violations = static_cast<int>(*v);
  if (auto v = m.TakeInt({"cpuThresholdMinutes"}, 1, 1440, Merge::kLast))
    c.cpu_threshold_minutes = static_cast<int>(*v);

  // Logging.
  if (auto v = m.TakeString({"logLevel"})) {
    bool known = false;
    for (const char* level : kLogLevels) {
      if (CanonicalKey(level) == CanonicalKey(*v)) {
        c.log_level = level;
        known = true;
      }
    }
    if (!known)
      m.Warn(
          "logLevel: unknown level \"{}\" (Trace, Debug, Information, Warning, Error, "
          "Critical, Off); using {}",
          *v, c.log_level);
  }
  if (auto v = m.TakeSize({"logMaxSize"}, int64_t{64} * 1024, 1024 * kMiB, Merge::kMin))
    c.log_max_size_bytes = *v;
  if (auto v = m.TakeInt({"logRotations"}, 0, 100, Merge::kMax))
    c.log_rotations = static_cast<int>(*v);
  // Settings of the manual that have no effect here are said to have none.
  if (auto v = m.TakeBool({"throttle"}, Merge::kLast); v && *v)
    m.Warn(
        "throttle: has no effect on Linux (the CPU limits are cpuThreshold and cpuKill*); ignored");
  if (auto v = m.TakeBool({"onlyWatchFileRoot"}, Merge::kLast)) c.only_watch_file_root = *v;
  // Windows-only settings of the manual (registry entries): known, so not
  // "unknown", but said to do nothing here.
  for (const char* name : {"FileExtraFlagsFilter", "DisableParentProcessFilter"})
    for (const Occurrence& o : m.TakeRaw(name))
      m.Warn("{}: a Windows setting (ExtraFlags / the DLL's parent process); no effect on Linux",
             Where(o));

  // Live recording.
  if (auto v = m.TakeString({"source"})) {
    if (auto source = CodeValue(kAuditSourceNames, CanonicalKey(*v))) {
      c.source = *source;
    } else {
      m.Warn("source: unknown value \"{}\" (auto, unicast, multicast, plugin); using auto", *v);
    }
  }
  if (auto v = m.TakeInt({"backlogLimit"}, 64, 1 << 24, Merge::kLast))
    c.backlog_limit = static_cast<uint32_t>(*v);
  if (auto v = m.TakeInt({"backlogWaitTime"}, 0, 60000, Merge::kLast))
    c.backlog_wait_time = static_cast<uint32_t>(*v);
  if (auto v = m.TakeString({"ruleKey"})) {
    const bool printable = std::all_of(v->begin(), v->end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
    });
    if (v->empty() || v->size() > 64 || !printable) {
      m.Warn("ruleKey: \"{}\" must be 1..64 characters of [A-Za-z0-9._-]; using \"{}\"", *v,
             c.rule_key);
    } else {
      c.rule_key = *v;
    }
  }

  m.WarnUnknown();
  return loaded;
}

Result<LoadedConfig> LoadConfig(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::Errorf("configuration directory {} does not exist or is not a directory", dir);
  std::vector<ConfigText> texts;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool main = name == kMainConfigName;
    const std::string_view suffix = kProductConfigSuffix;
    const bool product = name.size() > suffix.size() &&
                         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (!main && !product) continue;
    if (!entry.is_regular_file(ec)) continue;
    Result<std::string> text = ReadTextFile(entry.path().string());
    if (!text.ok()) return text.status();
    texts.push_back(ConfigText{entry.path().string(), std::move(text).value()});
  }
  if (ec) return Status::Errorf("cannot list {}: {}", dir, ec.message());
  const bool empty = texts.empty();
  Result<LoadedConfig> loaded = MergeConfigTexts(dir, std::move(texts));
  if (loaded.ok() && empty)
    loaded->warnings.push_back(fmt::format("no {} or *{} in {}: using the defaults",
                                           kMainConfigName, kProductConfigSuffix,
                                           AbsoluteDir(dir)));
  return loaded;
}

}  // namespace recorder::config
