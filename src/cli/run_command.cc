// Live recording commands: `run` (foreground), `start` (background),
// `stop`, `status`, `plugin` (under auditd), and the manual's spellings
// `recorder --start`, `--stop`, `--status`.
#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/live_options.h"
#include "cli/log_file.h"
#include "config/config.h"
#include "daemon/control_channel.h"
#include "daemon/daemon_status.h"
#include "daemon/recorder_daemon.h"
#include "rules/recorder_rules.h"
#include "rules/rule_manager.h"
#include "source/netlink_source.h"
#include "util/file_util.h"

namespace recorder::cli {
namespace {

using config::AuditSource;

std::string Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

Result<AuditSource> ParseSource(const std::string& name) {
  if (name == "auto") return AuditSource::kAuto;
  if (name == "unicast") return AuditSource::kUnicast;
  if (name == "multicast") return AuditSource::kMulticast;
  if (name == "plugin") return AuditSource::kPlugin;
  return Status::Errorf("unknown source '{}' (auto, unicast, multicast, plugin)", name);
}

spdlog::level::level_enum LogLevel(const std::string& name) {
  if (name == "Trace") return spdlog::level::trace;
  if (name == "Debug") return spdlog::level::debug;
  if (name == "Warning") return spdlog::level::warn;
  if (name == "Error") return spdlog::level::err;
  if (name == "Critical") return spdlog::level::critical;
  if (name == "Off") return spdlog::level::off;
  return spdlog::level::info;
}

// Logs to `log_file` (rotated at `config`'s logMaxSize, logRotations
// kept), or to stderr when it is empty or cannot be opened. Called again
// once the configuration is read: the first call, before it, uses the
// defaults so that configuration errors are logged.
void SetUpLogging(const std::string& log_file, const config::RecorderConfig& config = {}) {
  std::shared_ptr<spdlog::logger> logger;
  if (!log_file.empty()) {
    Result<std::shared_ptr<spdlog::logger>> file =
        OpenRotatingLog("recorder-file", log_file, config.log_max_size_bytes, config.log_rotations);
    if (file.ok()) {
      logger = std::move(file).value();
    } else {
      std::fprintf(stderr, "recorder: %s\n", file.status().message().c_str());
    }
  }
  if (!logger)
    logger = std::make_shared<spdlog::logger>(
        "recorder", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

bool IsRoot() { return geteuid() == 0; }

int RunForeground(const LiveOptions& options, bool plugin) {
  SetUpLogging(options.log_file);
  if (!IsRoot()) {
    spdlog::error("live recording needs root (CAP_AUDIT_CONTROL / CAP_AUDIT_READ)");
    return 1;
  }
  Result<config::RecorderConfig> config = EffectiveConfig(options);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 2;
  }
  // auditd passes a plugin at most two arguments ("plugin --config=DIR"),
  // so the plugin takes its log file (and everything else) from the
  // configuration; its stderr usually goes nowhere.
  if (!options.log_file.empty())
    SetUpLogging(options.log_file, *config);
  else if (plugin && !config->log_file.empty())
    SetUpLogging(config->log_file, *config);
  spdlog::set_level(LogLevel(config->log_level));
  daemon::DaemonOptions daemon_options;
  daemon_options.config = *config;
  daemon_options.config_dir = options.config_dir.empty() ? "." : Absolute(options.config_dir);
  daemon_options.db_path = DbPath(options, *config);
  daemon_options.source = plugin ? AuditSource::kPlugin : config->source;
  daemon_options.stdout_json = options.stdout_json;
  daemon_options.json_out = options.json_out;
  daemon_options.signals_out = options.signals_out;
  daemon_options.live_line =
      !plugin && !options.no_live_line && !options.stdout_json && isatty(STDERR_FILENO);
  if (daemon_options.live_line && options.log_file.empty()) {
    // The log shares the terminal with the live line: each message is
    // written on a line of its own and the count line drawn again below.
    daemon_options.live_line_display = std::make_shared<daemon::LiveLine>();
    daemon::LiveLine::WrapSinks(daemon_options.live_line_display, spdlog::default_logger_raw());
  }
  daemon_options.rule_check_interval_ms =
      static_cast<int64_t>(std::max(0.1, options.rule_check_seconds) * 1000);
  daemon_options.force = options.force;
  daemon_options.limits_check_interval_ms =
      static_cast<int64_t>(std::max(0.1, options.limits_check_seconds) * 1000);
  daemon_options.cpu_window_ms_override =
      static_cast<int64_t>(std::max(0.0, options.cpu_window_seconds) * 1000);
  Status status = daemon::RunDaemon(daemon_options);
  if (!status.ok()) {
    spdlog::error("{}", status.message());
    return 1;
  }
  return 0;
}

// Whether `pid` is gone (or a zombie waiting for its parent).
bool Exited(int pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

void SleepMs(int ms) {
  timespec delay{ms / 1000, (ms % 1000) * 1'000'000L};
  nanosleep(&delay, nullptr);
}

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

// `run`'s arguments that reproduce `options` (for `start`).
std::vector<std::string> RunArguments(const LiveOptions& options) {
  std::vector<std::string> args = {"recorder", "run", "--no-live-line"};
  auto add = [&args](const char* flag, const std::string& value) {
    if (value.empty()) return;
    args.push_back(flag);
    args.push_back(value);
  };
  add("--db", Absolute(options.db));
  add("--config", Absolute(options.config_dir));
  add("--source", options.source);
  add("--state-dir", Absolute(options.state_dir));
  add("--rule-key", options.rule_key);
  add("--json-out", Absolute(options.json_out));
  add("--signals-out", options.signals_out == "-" ? "" : Absolute(options.signals_out));
  args.push_back("--rule-check-interval");
  args.push_back(fmt::format("{}", options.rule_check_seconds));
  args.push_back("--limits-check-interval");
  args.push_back(fmt::format("{}", options.limits_check_seconds));
  if (options.cpu_window_seconds > 0) {
    args.push_back("--cpu-window-seconds");
    args.push_back(fmt::format("{}", options.cpu_window_seconds));
  }
  if (options.no_db) args.push_back("--no-db");
  return args;
}

int Start(const LiveOptions& options) {
  if (!IsRoot()) {
    std::fprintf(stderr, "recorder: start needs root\n");
    return 1;
  }
  Result<config::RecorderConfig> config = EffectiveConfig(options);
  if (!config.ok()) {
    std::fprintf(stderr, "recorder: %s\n", config.status().message().c_str());
    return 2;
  }
  if (std::optional<std::string> reason = daemon::ReadDisabledReason(config->state_dir)) {
    if (!options.force) {
      std::fprintf(stderr,
                   "recorder: recording is disabled: %s\n"
                   "Resolve the cause, then re-enable with: recorder start --force\n",
                   reason->c_str());
      return 1;
    }
    Status cleared = daemon::ClearDisabled(config->state_dir);
    if (!cleared.ok()) {
      std::fprintf(stderr, "recorder: %s\n", cleared.message().c_str());
      return 1;
    }
    std::fprintf(stderr, "recorder: re-enabled (was disabled: %s)\n", reason->c_str());
  }
  if (daemon::ControlRequest(config->control_socket, "ping", 1000).ok()) {
    std::printf("recorder is already running (pid %d)\n", daemon::ReadLivePid(config->pid_file));
    return 0;
  }
  Status made = daemon::MakeDirs(config->state_dir, 0700);
  if (!made.ok()) {
    std::fprintf(stderr, "recorder: %s\n", made.message().c_str());
    return 1;
  }
  std::string log_file =
      options.log_file.empty() ? config->state_dir + "/recorder.log" : Absolute(options.log_file);
  // The child keeps our working directory: without --config it reads the
  // same configuration and database as this command did.
  std::vector<std::string> args = RunArguments(options);
  // The child logs through spdlog's rotating sink (logMaxSize); its
  // stdout and stderr still go to the file below for what is not logged
  // (a crash's last words).
  args.push_back("--log-file");
  args.push_back(log_file);
  Status private_log = PreparePrivateFile(log_file);
  if (!private_log.ok()) {
    std::fprintf(stderr, "recorder: %s\n", private_log.message().c_str());
    return 1;
  }
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "recorder: fork failed: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    setsid();
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  // Started means: the control socket answers. Failing to start means the
  // child exited; its log says why.
  for (int waited = 0; waited < 20'000; waited += 100) {
    if (daemon::ControlRequest(config->control_socket, "ping", 500).ok()) {
      std::printf("recorder started (pid %d, log %s)\n", child, log_file.c_str());
      return 0;
    }
    int wait_status = 0;
    if (waitpid(child, &wait_status, WNOHANG) == child) {
      std::fprintf(stderr, "recorder: failed to start; the end of %s:\n%s", log_file.c_str(),
                   Tail(log_file, 10).c_str());
      return 1;
    }
    SleepMs(100);
  }
  std::fprintf(stderr, "recorder: did not come up within 20 s; see %s\n", log_file.c_str());
  return 1;
}

int Stop(const LiveOptions& options) {
  Result<config::RecorderConfig> config = EffectiveConfig(options);
  if (!config.ok()) {
    std::fprintf(stderr, "recorder: %s\n", config.status().message().c_str());
    return 2;
  }
  int pid = daemon::ReadLivePid(config->pid_file);
  Result<std::string> answer = daemon::ControlRequest(config->control_socket, "stop");
  if (!answer.ok() && answer.status().code() == StatusCode::kPermission) {
    SayPermissionDenied("stop", *config);
    return 1;
  }
  if (!answer.ok()) {
    if (pid == 0) {
      std::printf("recorder is not running\n");
      return 0;
    }
    // The pid file names a live recorder that does not answer: SIGTERM
    // takes the same shutdown path.
    std::fprintf(stderr, "recorder: %s; sending SIGTERM to pid %d\n",
                 answer.status().message().c_str(), pid);
    if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
      std::fprintf(stderr, "recorder: kill %d: %s\n", pid, std::strerror(errno));
      return 1;
    }
  }
  int timeout_ms = static_cast<int>(options.stop_timeout * 1000);
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    bool socket_gone = !daemon::ControlRequest(config->control_socket, "ping", 200).ok();
    bool process_gone = pid == 0 || Exited(pid);
    if (socket_gone && process_gone && daemon::ReadLivePid(config->pid_file) == 0) {
      std::printf("recorder stopped\n");
      return 0;
    }
    SleepMs(50);
  }
  std::fprintf(stderr, "recorder: still running after %.0f s\n", options.stop_timeout);
  return 1;
}

// Options shared by run, start and plugin.
void AddRecordingOptions(CLI::App* command, LiveOptions* options, bool with_source) {
  command->add_option("--db", options->db,
                      "SQLite database to record into (default: dbLocation of the "
                      "configuration, monitor.db in the configuration directory)");
  command->add_option("--config", options->config_dir,
                      "Directory with recorder.json and *_recorder.json (default: current "
                      "directory)");
  if (with_source) {
    command
        ->add_option("--source", options->source,
                     "auto: auditd plugin when started by auditd, multicast when auditd runs, "
                     "unicast otherwise; unicast: become the audit daemon; multicast: read-only "
                     "next to auditd; plugin: auditd's string format on stdin")
        ->check(CLI::IsMember({"auto", "unicast", "multicast", "plugin"}));
  }
  command->add_option("--state-dir", options->state_dir,
                      "Root-only directory for the control socket, pid file, log and the "
                      "'disabled' marker (default from the configuration: /var/lib/recorder, "
                      "socket and pid file in /run/recorder)");
  command->add_option("--rule-key", options->rule_key,
                      "Key on the audit rules the recorder installs and removes (default "
                      "'recorder')");
  command->add_option("--json-out", options->json_out,
                      "Also append every event as a JSON line to this file");
  command->add_option("--signals-out", options->signals_out,
                      "Also append each signal match (docs/signals.md) as a JSON line to this "
                      "file, - for stdout");
  command->add_flag("--no-db", options->no_db, "Record into no database (JSON output only)");
  command
      ->add_option("--rule-check-interval", options->rule_check_seconds,
                   "Seconds between checks that the audit rules are still loaded (drift is "
                   "repaired and logged)")
      ->capture_default_str();
  command->add_option("--log-file", options->log_file, "Log here instead of stderr");
  command
      ->add_option("--limits-check-interval", options->limits_check_seconds,
                   "Seconds between CPU samples and database size checks (the CPU kill "
                   "switch and maxSizeMB; see docs/configuration.md)")
      ->capture_default_str();
  command->add_option("--cpu-window-seconds", options->cpu_window_seconds,
                      "Length of the CPU kill switch's window in seconds instead of "
                      "cpuThresholdMinutes (for tests and trials)");
  command->add_flag("--force", options->force,
                    "Record even though recording was disabled automatically (re-enable)");
}

}  // namespace

// The configuration the command line asks for: --config DIR (or the
// current directory, config::ConfigDirFor) plus overrides.
Result<config::RecorderConfig> EffectiveConfig(const LiveOptions& options) {
  Result<config::LoadedConfig> loaded =
      config::LoadConfig(config::ConfigDirFor(options.config_dir));
  if (!loaded.ok()) return loaded.status();
  for (const std::string& warning : loaded->warnings) {
    // Without --config a bare directory is normal; say it only in debug.
    if (options.config_dir.empty())
      spdlog::debug("config: {}", warning);
    else
      spdlog::warn("config: {}", warning);
  }
  config::RecorderConfig config = loaded->config;
  if (!options.state_dir.empty()) {
    config.state_dir = Absolute(options.state_dir);
    config.control_socket = config.state_dir + "/recorder.sock";
    config.pid_file = config.state_dir + "/recorder.pid";
  }
  if (!options.rule_key.empty()) config.rule_key = options.rule_key;
  if (options.source != "auto" || config.source == AuditSource::kAuto) {
    Result<AuditSource> source = ParseSource(options.source);
    if (!source.ok()) return source.status();
    if (options.source != "auto") config.source = *source;
  }
  return config;
}

std::string DbPath(const LiveOptions& options, const config::RecorderConfig& config) {
  if (options.no_db) return "";
  return config::DbPathFor(options.db, config);
}

// `status`/`stop` by a user who may not reach the control socket (its
// directory is root's, or the owner's of a --state-dir): whether a
// recorder runs cannot be told, so say that and who may ask.
void SayPermissionDenied(const std::string& command, const config::RecorderConfig& config) {
  const std::string dir = std::filesystem::path(config.control_socket).parent_path().string();
  std::string who = "root";
  struct stat info {};
  if (stat(dir.c_str(), &info) == 0 && info.st_uid != 0) {
    const passwd* owner = getpwuid(info.st_uid);
    who += fmt::format(" or {} (the owner of {})",
                       owner != nullptr ? owner->pw_name : std::to_string(info.st_uid), dir);
  }
  std::fprintf(stderr,
               "recorder: permission denied on the control socket %s\n"
               "Whether a recorder runs cannot be told; only %s may ask it (sudo recorder %s).\n",
               config.control_socket.c_str(), who.c_str(), command.c_str());
}

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<LiveOptions>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Record live in the foreground until Ctrl-C/SIGTERM/'recorder stop'.\n"
      "Installs the recorder's audit rules for as long as it runs and removes them on every\n"
      "way out; restores the kernel audit settings it changed. On a terminal a line of live\n"
      "counts (events/s by type, total, records the kernel lost during this run, drops)\n"
      "refreshes every second; log messages are printed above it.\n"
      "Example: sudo recorder run --db ./monitor.db");
  AddRecordingOptions(command, options.get(), /*with_source=*/true);
  command->add_flag("--stdout-json", options->stdout_json,
                    "Also print every event as a JSON line on stdout");
  command->add_flag("--no-live-line", options->no_live_line, "No live counts line on stderr");
  command->callback([options, exit_code] { *exit_code = RunForeground(*options, false); });
}

void AddStartCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<LiveOptions>();
  CLI::App* command = app.add_subcommand(
      "start",
      "Start recording in the background (like 'run', logging to <state-dir>/recorder.log).\n"
      "Returns once the recorder answers on its control socket. Refuses while recording is\n"
      "disabled automatically (database size / CPU limits) unless --force re-enables it.");
  AddRecordingOptions(command, options.get(), /*with_source=*/true);
  command->callback([options, exit_code] { *exit_code = Start(*options); });
}

void AddStopCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<LiveOptions>();
  CLI::App* command = app.add_subcommand(
      "stop",
      "Stop the background recorder through its control socket and wait until it has exited\n"
      "(its audit rules removed, the audit settings restored). Recording does not restart by\n"
      "itself afterwards.");
  command->add_option("--config", options->config_dir, "Configuration directory");
  command->add_option("--state-dir", options->state_dir, "As given to start/run");
  command->add_option("--timeout", options->stop_timeout, "Seconds to wait for the exit")
      ->capture_default_str();
  command->callback([options, exit_code] { *exit_code = Stop(*options); });
}

void AddPluginCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<LiveOptions>();
  CLI::App* command = app.add_subcommand(
      "plugin",
      "Run as an auditd plugin: read auditd's string format from stdin and record it.\n"
      "auditd 3.x, /etc/audit/plugins.d/recorder.conf:\n"
      "  active = yes\n  direction = out\n  path = /usr/local/bin/recorder\n"
      "  type = always\n  args = plugin --config=/etc/recorder\n  format = string\n"
      "(audispd 2.x: the same in /etc/audisp/plugins.d/). auditd passes at most two\n"
      "arguments, so the database (dbLocation), log file (logFile), rule key (ruleKey) and\n"
      "state paths (stateDir, controlSocket, pidFile) come from recorder.json in that\n"
      "directory. SIGHUP, or an edit of a configuration or filter file, reloads the\n"
      "configuration; SIGTERM or the end of stdin (auditd stopped) flushes and exits 0.");
  AddRecordingOptions(command, options.get(), /*with_source=*/false);
  command->callback([options, exit_code] { *exit_code = RunForeground(*options, true); });
}

void AddManualFlags(CLI::App& app, int* exit_code, bool* handled) {
  // The vendor manual's `./recorder --start|--stop|--status`: same as the
  // subcommands with default settings.
  auto run = [exit_code, handled](int (*action)(const LiveOptions&)) {
    *handled = true;
    *exit_code = action(LiveOptions{});
  };
  app.add_flag_callback(
      "--start", [run] { run([](const LiveOptions& o) { return Start(o); }); },
      "Same as 'recorder start'");
  app.add_flag_callback(
      "--stop", [run] { run(Stop); }, "Same as 'recorder stop'");
  app.add_flag_callback(
      "--status", [run] { run(PrintStatus); }, "Same as 'recorder status'");
}

}  // namespace recorder::cli
