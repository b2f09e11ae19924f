#include "config/config_describe.h"

#include <fmt/format.h>

namespace recorder::config {
namespace {

using nlohmann::json;

// How a setting is merged across files, for the source text.
enum class How { kLast, kMax, kMin, kAllTrue };

std::string SourceOf(const LoadedConfig& loaded, const std::string& name, How how,
                     const char* otherwise = "default") {
  auto it = loaded.sources.find(name);
  if (it == loaded.sources.end() || it->second.empty()) return otherwise;
  std::string files;
  for (const std::string& f : it->second) files += (files.empty() ? "" : ", ") + f;
  if (it->second.size() == 1) return files;
  const char* rule = how == How::kMax ? "max" : how == How::kMin ? "min" : "all must be true";
  return fmt::format("{} ({})", files, rule);
}

json Optional(const std::optional<uint32_t>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

std::vector<SettingLine> DescribeConfig(const LoadedConfig& loaded) {
  const RecorderConfig& c = loaded.config;
  std::vector<SettingLine> lines;
  auto add = [&](const char* name, json value, How how = How::kLast,
                 const char* otherwise = "default") {
    lines.push_back(SettingLine{name, std::move(value), SourceOf(loaded, name, how, otherwise)});
  };
  add("dbLocation", c.db_location);
  add("filterLocation", c.filter_location);
  add("WatchlistFile", c.watchlist_location);
  add("signalsLocation", c.signals_location);
  add("DisableSignals", c.disable_signals);
  add("DisableSignalsTrie", c.disable_signals_trie);
  add("RecordSignalDefinitions", c.record_signal_definitions);
  add("RecordSignalMatches", c.record_signal_matches, How::kMax);
  add("maxSizeMB", c.max_size_mb, How::kMax);
  add("MaxRuntimeStorageSizeMB", c.max_runtime_storage_size_mb, How::kLast,
      "default (2 x maxSizeMB)");
  add("AbsoluteMaxStorageSizeMB", c.absolute_max_storage_size_mb, How::kLast,
      "default (2 x maxSizeMB)");
  add("CleanPercentOverLimit", c.clean_percent_over_limit);
  add("MonitorDays", c.monitor_days);
  add("DatabaseCleanupIntervalMinutes", c.database_cleanup_interval_minutes);
  add("BatchWriteDelayMS", c.batch_write_delay_ms);
  add("ProcessExpirationSeconds", c.process_expiration_seconds);
  add("PendingEventCap", c.pending_event_cap);
  add("EventQueueExpirationSeconds", c.event_queue_expiration_seconds);
  add("MaxCleanTries", c.max_clean_tries);
  add("DatabaseArchiveLimit", c.database_archive_limit);
  add("SQLiteChunkSizeMB", c.sqlite_chunk_size_mb);
  add("DatabaseErrorWaitMinutes", c.database_error_wait_minutes);
  lines.push_back(SettingLine{"MonitorProcess", true, "always on"});
  add("MonitorFiles", c.monitor_files);
  add("MonitorNetwork", c.monitor_network);
  add("MonitorSecurity", c.monitor_security);
  add("MonitorImageLoad", c.monitor_image_load);
  add("MonitorDNS", c.monitor_dns);
  add("dnsCapture", std::string(DnsCaptureChoiceName(c.dns_capture)));
  add("watchedPaths", c.watched_paths);
  add("rawLogging", c.RawLoggingEffective(), How::kAllTrue, "default (not set: true)");
  add("q_depth", c.audisp_q_depth);
  add("cpuThreshold", c.cpu_threshold, How::kMin);
  add("cpuKillEnabled", c.cpu_kill_enabled, How::kAllTrue);
  add("cpuKillAfterNumViolations", c.cpu_kill_after_num_violations);
  add("cpuThresholdMinutes", c.cpu_threshold_minutes);
  add("logLevel", c.log_level);
  add("logMaxSize", c.log_max_size_bytes, How::kMin);
  add("logRotations", c.log_rotations, How::kMax);
  add("onlyWatchFileRoot", c.only_watch_file_root);
  add("source", std::string(AuditSourceName(c.source)));
  add("backlogLimit", c.backlog_limit);
  add("backlogWaitTime", Optional(c.backlog_wait_time), How::kLast, "default (left alone)");
  add("ruleKey", c.rule_key);
  add("recorderExe", c.recorder_exe, How::kLast, "default (the running executable)");
  add("controlSocket", c.control_socket);
  add("pidFile", c.pid_file);
  add("stateDir", c.state_dir);
  add("logFile", c.log_file);
  return lines;
}

}  // namespace recorder::config
