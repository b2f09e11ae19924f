// The recorder's settings (recorder.json and every *_recorder.json in the
// configuration directory), merged the way the vendor manual describes
// ("Managing configurations across modules"). See docs/configuration.md for
// every key, its default, its bounds and its merge strategy.
//
// Loading is split in two so the rules are testable without files:
// MergeConfigTexts() is pure (texts in, config + warnings out);
// LoadConfig() only lists and reads the directory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/json_text.h"
#include "util/status.h"

namespace recorder::config {

// Where live records come from. kAuto: the auditd plugin when started by
// auditd (args = plugin), else the netlink unicast socket if the audit pid
// is free, else netlink multicast (read-only, shares with auditd).
enum class AuditSource { kAuto, kUnicast, kMulticast, kPlugin };

std::string_view AuditSourceName(AuditSource source);

// How MonitorDNS captures packets (source/dns_capture.h). kAuto: cgroup
// BPF, else the packet socket; the others: that one only.
enum class DnsCaptureChoice { kAuto, kCgroupBpf, kPacketSocket };

std::string_view DnsCaptureChoiceName(DnsCaptureChoice choice);

inline constexpr char kMainConfigName[] = "recorder.json";
inline constexpr char kProductConfigSuffix[] = "_recorder.json";
inline constexpr char kDefaultRuleKey[] = "recorder";

struct RecorderConfig {
  // Directory the configuration was read from; relative paths below are
  // resolved against it (the manual: "in the same directory as config").
  std::string config_dir = ".";

  // --- Database and filters (absolute after loading).
  std::string db_location;         // dbLocation, default <config_dir>/monitor.db
  std::string filter_location;     // filterLocation, default <config_dir>/filters.json
  std::string watchlist_location;  // WatchlistFile, default <config_dir>/watchlist.json
  // signalsLocation (or the manual's SignalsJSONFile): the directory of
  // Sigma rules, default <config_dir>/signals/ (docs/signals.md).
  std::string signals_location;

  // --- Signals (the manual's names).
  bool disable_signals = false;           // DisableSignals
  bool disable_signals_trie = false;      // DisableSignalsTrie: no contains/startswith/endswith
  bool record_signal_definitions = true;  // RecordSignalDefinitions
  int64_t record_signal_matches = 5;      // RecordSignalMatches: matches kept in monitor.db, >= 0

  // --- Storage and retention.
  int64_t max_size_mb = 1024;                    // maxSizeMB; 0 = unlimited
  int64_t max_runtime_storage_size_mb = 2048;    // MaxRuntimeStorageSizeMB, default 2*max
  int64_t absolute_max_storage_size_mb = 2048;   // AbsoluteMaxStorageSizeMB, default 2*max
  int clean_percent_over_limit = 10;             // CleanPercentOverLimit, 0..100
  int monitor_days = 90;                         // MonitorDays, 0..65536
  int database_cleanup_interval_minutes = 30;    // DatabaseCleanupIntervalMinutes, 1..2880
  int batch_write_delay_ms = 1000;               // BatchWriteDelayMS, 0..5000
  int64_t process_expiration_seconds = 180;      // ProcessExpirationSeconds, >= 0
  int64_t pending_event_cap = 5000;              // PendingEventCap, >= 0
  int64_t event_queue_expiration_seconds = 120;  // EventQueueExpirationSeconds, >= 1
  // When cleanup cannot bring the database under maxSizeMB in this many
  // attempts in a row, the database is archived and a fresh one started.
  int max_clean_tries = 3;              // MaxCleanTries, 0..10 (0: archive at the first failure)
  int database_archive_limit = 0;       // DatabaseArchiveLimit, 0..100 (0: keep no archive)
  int64_t sqlite_chunk_size_mb = 100;   // SQLiteChunkSizeMB, >= 0 (0: SQLite's page-by-page growth)
  int database_error_wait_minutes = 5;  // DatabaseErrorWaitMinutes, 0..60

  // --- What to record. Process events are always on (everything else is
  // attributed to a process), so MonitorProcess=false only warns.
  bool monitor_process = true;
  bool monitor_files = true;
  bool monitor_network = true;
  bool monitor_security = true;     // logins, setuid family, user/group changes
  bool monitor_image_load = false;  // module loads: off by default like the manual's image loads
  bool monitor_dns = true;          // no kernel rule; read by the DNS stage if any
  DnsCaptureChoice dns_capture = DnsCaptureChoice::kAuto;  // dnsCapture

  // Paths whose file events are recorded. {"/"} (the default) means every
  // path: one rule set without a dir= filter. Other entries add dir= rules.
  std::vector<std::string> watched_paths = {"/"};

  // --- auditd / dispatcher.
  // rawLogging: unset unless some file sets it (the manual's merge table).
  // Effective value when unset: true (auditd keeps writing RAW logs).
  std::optional<bool> raw_logging;
  bool RawLoggingEffective() const { return raw_logging.value_or(true); }
  int audisp_q_depth = 32768;  // audisp q_depth target written by `recorder install`

  // --- CPU kill switch.
  double cpu_threshold =
      0.25;  // share of all processors, [0.01, 1]; "25%" accepted (daemon/cpu_guard.h)
  bool cpu_kill_enabled = true;
  int cpu_kill_after_num_violations = 1;  // >= 1
  int cpu_threshold_minutes = 1;          // 1..1440

  // --- Logging.
  std::string log_level = "Information";  // Trace|Debug|Information|Warning|Error|Critical|Off
  int64_t log_max_size_bytes = int64_t{10} * 1024 * 1024;  // logMaxSize ("10 MB" or a number of MB)
  int log_rotations = 3;                                   // 0..100
  // onlyWatchFileRoot: false puts file recording in the Integrity
  // Monitor's watchlist-only mode (docs/filters.md); read by src/filter/.
  bool only_watch_file_root = true;

  // --- Live recording (recorder-specific keys).
  AuditSource source = AuditSource::kAuto;
  uint32_t backlog_limit = 8192;  // kernel backlog_limit set while recording
  // Kernel backlog_wait_time (in kernel ticks); unset = leave it alone.
  std::optional<uint32_t> backlog_wait_time;
  // Key on every audit rule the recorder installs; Remove() deletes only
  // rules carrying exactly this key. Tests use their own key.
  std::string rule_key = kDefaultRuleKey;
  // The recorder executable whose own syscalls are excluded by a
  // "never" rule; empty = /proc/self/exe of the running process.
  std::string recorder_exe;
  std::string control_socket = "/run/recorder/recorder.sock";
  std::string pid_file = "/run/recorder/recorder.pid";
  std::string state_dir = "/var/lib/recorder";
  std::string log_file;  // default <config_dir>/recorder.log
};

// Defaults with the paths resolved against `config_dir`.
RecorderConfig DefaultConfig(const std::string& config_dir);

struct LoadedConfig {
  RecorderConfig config;
  // Clamped values, unknown keys, wrong types: one line each, naming the
  // file and the key. Never empty silently-fixed input.
  std::vector<std::string> warnings;
  std::vector<std::string> files;  // files read, in merge order
  // Where each setting's value came from: the setting's first name (as in
  // docs/configuration.md, e.g. "maxSizeMB") -> the files whose value it
  // took (the last one for "last wins" settings, every contributing file
  // for max/min/any-false ones). A setting absent here has its default.
  std::map<std::string, std::vector<std::string>> sources;
};

struct ConfigText {
  std::string name;  // file path for messages; its base name sets the merge order
  std::string text;
};

// Merges already-read texts. Order: recorder.json first, then the product
// files sorted by name; for keys without a merge rule the last one wins.
// Broken JSON -> error "FILE:LINE:COL: message".
Result<LoadedConfig> MergeConfigTexts(const std::string& config_dir, std::vector<ConfigText> texts);

// Reads recorder.json and every *_recorder.json in `dir`. A directory
// without any of them gives the defaults (and a warning saying so); a
// missing directory is an error.
Result<LoadedConfig> LoadConfig(const std::string& dir);

// "LINE:COL" for a byte offset into `text` (util/json_text.h).
using ::recorder::OffsetToLineCol;

// The one rule every command follows for its files (README "Where the
// recorder keeps its files"): the configuration directory is `--config
// DIR`, else the current directory; the database is `--db PATH`, else the
// configuration's dbLocation (default monitor.db in the configuration
// directory). The running recorder is found through the configuration's
// controlSocket, wherever the command runs.
std::string ConfigDirFor(const std::string& config_option);  // "." when the option is empty
// Absolute: `db_option` against the current directory, else dbLocation.
std::string DbPathFor(const std::string& db_option, const RecorderConfig& config);

}  // namespace recorder::config
