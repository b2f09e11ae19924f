// What the live commands (run, start, stop, status, plugin) share: their
// options and how they turn into the effective configuration.
#pragma once

#include <string>

#include "config/config.h"
#include "util/status.h"

namespace recorder::cli {

constexpr int kExitNotRunning = 3;     // LSB "program is not running"
constexpr int kExitStatusUnknown = 4;  // LSB "program or service status is unknown"

struct LiveOptions {
  std::string db;
  std::string config_dir;
  std::string source = "auto";
  std::string state_dir;
  std::string rule_key;
  std::string json_out;
  std::string signals_out;  // --signals-out: signal matches as JSON lines, "-" for stdout
  std::string log_file;
  bool stdout_json = false;
  bool no_db = false;
  bool force = false;
  bool no_live_line = false;
  double rule_check_seconds = 60;
  double limits_check_seconds = 5;
  double cpu_window_seconds = 0;  // 0: cpuThresholdMinutes
  bool json = false;              // status --json
  double stop_timeout = 30;       // stop: seconds to wait for the exit
};

// The configuration the command line asks for: --config DIR (or the
// current directory, config::ConfigDirFor) plus the overrides in `options`.
Result<config::RecorderConfig> EffectiveConfig(const LiveOptions& options);
// --db, else the configuration's dbLocation (config::DbPathFor); empty with --no-db.
std::string DbPath(const LiveOptions& options, const config::RecorderConfig& config);
// Says on stderr that the control socket refused `command`, and who may ask.
void SayPermissionDenied(const std::string& command, const config::RecorderConfig& config);
// `recorder status`: prints it and returns the exit code (0 running,
// kExitNotRunning, kExitStatusUnknown, 2 a configuration error).
int PrintStatus(const LiveOptions& options);

}  // namespace recorder::cli
