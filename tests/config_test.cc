// Configuration: defaults, bounds, the manual's merge rules, bad JSON.
#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace recorder::config {
namespace {

namespace fs = std::filesystem;

bool HasWarning(const LoadedConfig& loaded, std::string_view a, std::string_view b = "") {
  for (const std::string& w : loaded.warnings)
    if (w.find(a) != std::string::npos && w.find(b) != std::string::npos) return true;
  return false;
}

LoadedConfig MustMerge(std::vector<ConfigText> texts) {
  Result<LoadedConfig> loaded = MergeConfigTexts("/opt/rec", std::move(texts));
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded.ok() ? loaded.value() : LoadedConfig{};
}

TEST(ConfigTest, DefaultsFollowTheManual) {
  LoadedConfig loaded = MustMerge({});
  const RecorderConfig& c = loaded.config;
  EXPECT_EQ(c.config_dir, "/opt/rec");
  EXPECT_EQ(c.db_location, "/opt/rec/monitor.db");
  EXPECT_EQ(c.filter_location, "/opt/rec/filters.json");
  EXPECT_EQ(c.max_size_mb, 1024);
  EXPECT_EQ(c.max_runtime_storage_size_mb, 2048);
  EXPECT_EQ(c.absolute_max_storage_size_mb, 2048);
  EXPECT_EQ(c.clean_percent_over_limit, 10);
  EXPECT_EQ(c.monitor_days, 90);
  EXPECT_EQ(c.database_cleanup_interval_minutes, 30);
  EXPECT_EQ(c.batch_write_delay_ms, 1000);
  EXPECT_EQ(c.process_expiration_seconds, 180);
  EXPECT_EQ(c.pending_event_cap, 5000);
  EXPECT_EQ(c.event_queue_expiration_seconds, 120);
  EXPECT_TRUE(c.monitor_process && c.monitor_files && c.monitor_network && c.monitor_security &&
              c.monitor_dns);
  EXPECT_FALSE(c.monitor_image_load);
  EXPECT_FALSE(c.raw_logging.has_value());  // "not set if not set"
  EXPECT_TRUE(c.RawLoggingEffective());
  EXPECT_DOUBLE_EQ(c.cpu_threshold, 0.25);
  EXPECT_TRUE(c.cpu_kill_enabled);
  EXPECT_EQ(c.cpu_kill_after_num_violations, 1);
  EXPECT_EQ(c.cpu_threshold_minutes, 1);
  EXPECT_EQ(c.log_level, "Information");
  EXPECT_EQ(c.log_max_size_bytes, 10 * 1024 * 1024);
  EXPECT_EQ(c.log_rotations, 3);
  EXPECT_EQ(c.audisp_q_depth, 32768);
  EXPECT_EQ(c.rule_key, "recorder");
  EXPECT_EQ(c.source, AuditSource::kAuto);
  EXPECT_FALSE(c.backlog_wait_time.has_value());
  EXPECT_TRUE(loaded.warnings.empty());
}

TEST(ConfigTest, MergesAcrossProductFilesPerTheManualsTable) {
  LoadedConfig loaded = MustMerge({
      {"map_recorder.json", R"({"MonitorDays": 60, "logLevel": "Debug"})"},
      {"recorder.json", R"({"maxSizeMB": 500, "logRotations": 2, "logMaxSize": 20,
                            "rawLogging": true, "cpuThreshold": 0.5, "cpuKillEnabled": true,
                            "MonitorDays": 30, "logLevel": "Warning"})"},
      {"im_recorder.json", R"({"maxSizeMB": 2000, "logRotations": 5, "logMaxSize": "5 MB",
                               "rawLogging": false, "cpuThreshold": 0.1,
                               "cpuKillEnabled": false, "MonitorDays": 10})"},
  });
  const RecorderConfig& c = loaded.config;
  EXPECT_EQ(c.max_size_mb, 2000);                    // max
  EXPECT_EQ(c.max_runtime_storage_size_mb, 4000);    // 2 * merged max
  EXPECT_EQ(c.log_rotations, 5);                     // max
  EXPECT_EQ(c.log_max_size_bytes, 5 * 1024 * 1024);  // min
  ASSERT_TRUE(c.raw_logging.has_value());
  EXPECT_FALSE(*c.raw_logging);            // any false -> false
  EXPECT_DOUBLE_EQ(c.cpu_threshold, 0.1);  // min
  EXPECT_FALSE(c.cpu_kill_enabled);        // any false -> disabled
  // Others: recorder.json first, then product files by name; last wins.
  EXPECT_EQ(c.monitor_days, 60);
  EXPECT_EQ(c.log_level, "Debug");
  EXPECT_EQ(loaded.files,
            (std::vector<std::string>{"recorder.json", "im_recorder.json", "map_recorder.json"}));
}

TEST(ConfigTest, RawLoggingTrueOnlyWhenNoFileSaysFalse) {
  LoadedConfig both_true = MustMerge(
      {{"recorder.json", R"({"rawLogging": true})"}, {"im_recorder.json", R"({"rawLogging": 1})"}});
  ASSERT_TRUE(both_true.config.raw_logging.has_value());
  EXPECT_TRUE(*both_true.config.raw_logging);
  LoadedConfig unset = MustMerge({{"recorder.json", R"({"maxSizeMB": 10})"}});
  EXPECT_FALSE(unset.config.raw_logging.has_value());
  // A single file setting maxSizeMB below the default: the max is over the
  // files that set it, not over the default.
  EXPECT_EQ(unset.config.max_size_mb, 10);
  EXPECT_EQ(unset.config.absolute_max_storage_size_mb, 20);
}

TEST(ConfigTest, OutOfBoundsValuesAreClampedWithAWarning) {
  LoadedConfig loaded = MustMerge({{"recorder.json", R"({
      "DatabaseCleanupIntervalMinutes": 0, "BatchWriteDelayMS": 9000,
      "cpuThresholdMinutes": 2000, "CleanPercentOverLimit": 150, "MonitorDays": -1,
      "EventQueueExpirationSeconds": 0, "cpuThreshold": 5.0})"}});
  const RecorderConfig& c = loaded.config;
  EXPECT_EQ(c.database_cleanup_interval_minutes, 1);
  EXPECT_EQ(c.batch_write_delay_ms, 5000);
  EXPECT_EQ(c.cpu_threshold_minutes, 1440);
  EXPECT_EQ(c.clean_percent_over_limit, 100);
  EXPECT_EQ(c.monitor_days, 0);
  EXPECT_EQ(c.event_queue_expiration_seconds, 1);
  EXPECT_DOUBLE_EQ(c.cpu_threshold, 0.05);  // 5 read as 5%
  EXPECT_TRUE(HasWarning(loaded, "recorder.json: DatabaseCleanupIntervalMinutes", "minimum 1"));
  EXPECT_TRUE(HasWarning(loaded, "recorder.json: BatchWriteDelayMS", "maximum 5000"));
  EXPECT_TRUE(HasWarning(loaded, "recorder.json: cpuThresholdMinutes", "maximum 1440"));
  EXPECT_TRUE(HasWarning(loaded, "cpuThreshold", "5%"));
}

TEST(ConfigTest, DatabaseRecoverySettingsHaveTheManualsDefaultsAndBounds) {
  LoadedConfig defaults = MustMerge({});
  EXPECT_EQ(defaults.config.max_clean_tries, 3);
  EXPECT_EQ(defaults.config.database_archive_limit, 0);
  EXPECT_EQ(defaults.config.sqlite_chunk_size_mb, 100);
  EXPECT_EQ(defaults.config.database_error_wait_minutes, 5);
  LoadedConfig loaded = MustMerge({{"recorder.json", R"({
      "MaxCleanTries": 11, "DatabaseArchiveLimit": 101, "SQLiteChunkSizeMB": 0,
      "DatabaseErrorWaitMinutes": 61})"}});
  EXPECT_EQ(loaded.config.max_clean_tries, 10);
  EXPECT_EQ(loaded.config.database_archive_limit, 100);
  EXPECT_EQ(loaded.config.sqlite_chunk_size_mb, 0);
  EXPECT_EQ(loaded.config.database_error_wait_minutes, 60);
  EXPECT_TRUE(HasWarning(loaded, "recorder.json: MaxCleanTries", "maximum 10"));
  EXPECT_TRUE(HasWarning(loaded, "recorder.json: DatabaseArchiveLimit", "maximum 100"));
}

TEST(ConfigTest, SettingsWithNoEffectHereSaySo) {
  LoadedConfig quiet = MustMerge({{"recorder.json", R"({"throttle": false})"}});
  EXPECT_TRUE(quiet.warnings.empty());
  LoadedConfig loaded =
      MustMerge({{"recorder.json", R"({"throttle": true, "FileExtraFlagsFilter": 4,
                             "DisableParentProcessFilter": 1})"}});
  EXPECT_TRUE(HasWarning(loaded, "throttle", "no effect"));
  EXPECT_TRUE(HasWarning(loaded, "recorder.json: FileExtraFlagsFilter", "no effect on Linux"));
  EXPECT_TRUE(
      HasWarning(loaded, "recorder.json: DisableParentProcessFilter", "no effect on Linux"));
  EXPECT_FALSE(HasWarning(loaded, "unknown key"));
}

TEST(ConfigTest, WatchlistSettingsAreRead) {
  LoadedConfig defaults = MustMerge({});
  EXPECT_EQ(defaults.config.watchlist_location, "/opt/rec/watchlist.json");
  EXPECT_TRUE(defaults.config.only_watch_file_root);
  LoadedConfig loaded = MustMerge(
      {{"im_recorder.json", R"({"onlyWatchFileRoot": false, "WatchlistFile": "im/w.json"})"}});
  EXPECT_FALSE(loaded.config.only_watch_file_root);
  EXPECT_EQ(loaded.config.watchlist_location, "/opt/rec/im/w.json");
  EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front();
}

TEST(ConfigTest, UnknownKeySuggestsTheNearestKnownOne) {
  LoadedConfig loaded =
      MustMerge({{"recorder.json", R"({"maxSizeMb2": 5, "MonitorDay": 3, "zzz": 1})"}});
  EXPECT_TRUE(HasWarning(loaded, "maxSizeMb2: unknown key", "did you mean \"maxSizeMB\"?"));
  EXPECT_TRUE(HasWarning(loaded, "MonitorDay: unknown key", "did you mean \"MonitorDays\"?"));
  EXPECT_TRUE(HasWarning(loaded, "zzz: unknown key; ignored"));
  EXPECT_FALSE(HasWarning(loaded, "zzz", "did you mean"));
}

TEST(ConfigTest, SourcesSayWhichFileGaveEachValue) {
  LoadedConfig loaded = MustMerge({{"recorder.json", R"({"maxSizeMB": 100, "MonitorDays": 5})"},
                                   {"im_recorder.json", R"({"maxSizeMB": 300, "MonitorDays": 7})"},
                                   {"map_recorder.json", R"({"maxSizeMB": 200})"}});
  using Files = std::vector<std::string>;
  // max: every file that took part; last wins: the last file only.
  EXPECT_EQ(loaded.sources["maxSizeMB"],
            (Files{"recorder.json", "im_recorder.json", "map_recorder.json"}));
  EXPECT_EQ(loaded.sources["MonitorDays"], Files{"im_recorder.json"});
  EXPECT_EQ(loaded.sources.count("logLevel"), 0u);  // default
}

TEST(ConfigTest, UnknownKeysAndWrongTypesWarnNamingFileAndKey) {
  LoadedConfig loaded = MustMerge({{"im_recorder.json",
                                    R"({"MonitorRegistry": 1, "maxSizeMB": "lots",
                                        "MonitorFiles": "maybe", "logLevel": "Chatty"})"}});
  EXPECT_TRUE(HasWarning(loaded, "im_recorder.json: MonitorRegistry", "unknown key"));
  EXPECT_TRUE(HasWarning(loaded, "im_recorder.json: maxSizeMB", "expected a number"));
  EXPECT_TRUE(HasWarning(loaded, "im_recorder.json: MonitorFiles", "true/false"));
  EXPECT_TRUE(HasWarning(loaded, "logLevel", "Chatty"));
  EXPECT_EQ(loaded.config.max_size_mb, 1024);
  EXPECT_TRUE(loaded.config.monitor_files);
  EXPECT_EQ(loaded.config.log_level, "Information");
}

TEST(ConfigTest, KeysAreCaseInsensitiveAndAcceptTheManualsSpellings) {
  LoadedConfig loaded = MustMerge({{"recorder.json", R"({
      "maxstoragesizemb": 300, "MonitorDatabasePath": "data/m.db", "FILTERLOCATION": "/x/f.json",
      "monitor_network": false, "cpuThreshold": "30%", "logMaxSize": "512 KB",
      "audisp": {"q_depth": 4096}, "backlog_limit": 16384, "backlogWaitTime": 1000,
      "source": "Multicast", "ruleKey": "recorder-x", "watchedPaths": ["/etc", "relative"]})"}});
  const RecorderConfig& c = loaded.config;
  EXPECT_EQ(c.max_size_mb, 300);
  EXPECT_EQ(c.db_location, "/opt/rec/data/m.db");
  EXPECT_EQ(c.filter_location, "/x/f.json");
  EXPECT_FALSE(c.monitor_network);
  EXPECT_DOUBLE_EQ(c.cpu_threshold, 0.30);
  EXPECT_EQ(c.log_max_size_bytes, 512 * 1024);
  EXPECT_EQ(c.audisp_q_depth, 4096);
  EXPECT_EQ(c.backlog_limit, 16384u);
  ASSERT_TRUE(c.backlog_wait_time.has_value());
  EXPECT_EQ(*c.backlog_wait_time, 1000u);
  EXPECT_EQ(c.source, AuditSource::kMulticast);
  EXPECT_EQ(c.rule_key, "recorder-x");
  EXPECT_EQ(c.watched_paths, std::vector<std::string>{"/etc"});
  EXPECT_TRUE(HasWarning(loaded, "watchedPaths", "not an absolute path"));
}

TEST(ConfigTest, BrokenJsonNamesFileLineAndColumn) {
  Result<LoadedConfig> loaded = MergeConfigTexts(
      "/opt/rec",
      {{"recorder.json", "{}"}, {"im_recorder.json", "{\n  \"maxSizeMB\": 10,\n  oops: 1\n}\n"}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("im_recorder.json:3:3"), std::string::npos)
      << loaded.status().message();
  // A number no double holds is reported, not thrown.
  Result<LoadedConfig> huge =
      MergeConfigTexts("/opt/rec", {{"recorder.json", "{\n  \"maxSizeMB\": 1E99999\n}"}});
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("recorder.json:2:16: invalid JSON: number overflow"),
            std::string::npos)
      << huge.status().message();
  Result<LoadedConfig> not_object = MergeConfigTexts("/opt/rec", {{"recorder.json", "[1]"}});
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.status().message().find("JSON object"), std::string::npos);
}

TEST(ConfigTest, OffsetToLineColCountsNewlines) {
  EXPECT_EQ(OffsetToLineCol("abc", 1), "1:1");
  EXPECT_EQ(OffsetToLineCol("abc\ndef", 6), "2:2");
  EXPECT_EQ(OffsetToLineCol("a\n\nb", 4), "3:1");
}

TEST(ConfigTest, LoadConfigReadsOnlyRecorderFilesFromTheDirectory) {
  TempDir dir;
  dir.Write("recorder.json", R"({"maxSizeMB": 100})");
  dir.Write("im_recorder.json", R"({"maxSizeMB": 200, "MonitorDays": 7})");
  dir.Write("filters.json", R"({"not": "a recorder config"})");
  dir.Write("recorder.json.bak", "broken {");
  Result<LoadedConfig> loaded = LoadConfig(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->config.max_size_mb, 200);
  EXPECT_EQ(loaded->config.monitor_days, 7);
  EXPECT_EQ(loaded->config.db_location, dir.path() + "/monitor.db");
  EXPECT_EQ(loaded->files.size(), 2u);
  EXPECT_TRUE(loaded->warnings.empty());

  dir.Write("zz_recorder.json", "{\"a\": }");
  Result<LoadedConfig> broken = LoadConfig(dir.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find(dir.path() + "/zz_recorder.json:1:7"), std::string::npos)
      << broken.status().message();
}

TEST(ConfigTest, LoadConfigEmptyDirectoryGivesDefaultsMissingDirectoryAnError) {
  TempDir dir;
  Result<LoadedConfig> empty = LoadConfig(dir.path());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->config.max_size_mb, 1024);
  EXPECT_TRUE(HasWarning(*empty, "using the defaults"));
  Result<LoadedConfig> missing = LoadConfig(dir.path() + "/nope");
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace recorder::config

namespace recorder::config {
namespace {

TEST(ConfigSignalsTest, SignalSettingsHaveTheManualsDefaultsAndBounds) {
  LoadedConfig defaults = MustMerge({{"recorder.json", "{}"}});
  EXPECT_EQ(defaults.config.signals_location, "/opt/rec/signals");
  EXPECT_FALSE(defaults.config.disable_signals);
  EXPECT_FALSE(defaults.config.disable_signals_trie);
  EXPECT_TRUE(defaults.config.record_signal_definitions);
  EXPECT_EQ(defaults.config.record_signal_matches, 5);

  LoadedConfig set = MustMerge({{"recorder.json", R"({"SignalsJSONFile": "rules",
      "DisableSignals": true, "DisableSignalsTrie": 1, "RecordSignalDefinitions": false,
      "RecordSignalMatches": 100})"},
                                {"im_recorder.json", R"({"RecordSignalMatches": 50})"}});
  EXPECT_EQ(set.config.signals_location, "/opt/rec/rules");
  EXPECT_TRUE(set.config.disable_signals);
  EXPECT_TRUE(set.config.disable_signals_trie);
  EXPECT_FALSE(set.config.record_signal_definitions);
  EXPECT_EQ(set.config.record_signal_matches, 100);  // the larger of the files
  // They all take effect (docs/signals.md): none is warned about.
  for (std::string_view name :
       {"DisableSignals", "DisableSignalsTrie", "RecordSignalDefinitions", "RecordSignalMatches"})
    EXPECT_FALSE(HasWarning(set, name, "")) << name;

  LoadedConfig bad =
      MustMerge({{"recorder.json", R"({"RecordSignalMatches": -3, "signalLocation": "x"})"}});
  EXPECT_EQ(bad.config.record_signal_matches, 0);
  std::string warnings;
  for (const std::string& w : bad.warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("RecordSignalMatches"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("signalsLocation"), std::string::npos) << warnings;  // nearest key
}

TEST(ConfigTest, DnsCaptureChoosesTheMechanismAndRefusesOtherValues) {
  EXPECT_EQ(MustMerge({}).config.dns_capture, DnsCaptureChoice::kAuto);
  LoadedConfig packet = MustMerge({{"recorder.json", R"({"dnsCapture": "packet-socket"})"}});
  EXPECT_EQ(packet.config.dns_capture, DnsCaptureChoice::kPacketSocket);
  EXPECT_TRUE(packet.warnings.empty());
  EXPECT_EQ(MustMerge({{"recorder.json", R"({"dnsCapture": "cgroup-bpf"})"}}).config.dns_capture,
            DnsCaptureChoice::kCgroupBpf);
  LoadedConfig bad = MustMerge({{"recorder.json", R"({"dnsCapture": "kprobe"})"}});
  EXPECT_EQ(bad.config.dns_capture, DnsCaptureChoice::kAuto);
  EXPECT_TRUE(HasWarning(bad, "dnsCapture", "unknown value \"kprobe\"")) << bad.warnings.size();
  EXPECT_EQ(DnsCaptureChoiceName(DnsCaptureChoice::kPacketSocket), "packet-socket");
}

}  // namespace
}  // namespace recorder::config
