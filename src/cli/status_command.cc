// `recorder status`: what a running recorder says over its control
// socket, or, when none answers, what can be read without it.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/live_options.h"
#include "daemon/control_channel.h"
#include "daemon/daemon_status.h"
#include "daemon/recorder_daemon.h"
#include "rules/recorder_rules.h"
#include "rules/rule_manager.h"
#include "source/netlink_source.h"

namespace recorder::cli {
namespace {

// What `status` says when no daemon answers: stopped or disabled, plus
// what can be read without it.
nlohmann::json OfflineStatus(const LiveOptions& options, const config::RecorderConfig& config) {
  nlohmann::json status;
  std::optional<std::string> disabled = daemon::ReadDisabledReason(config.state_dir);
  status["state"] = disabled ? "disabled" : "stopped";
  if (disabled) status["reason"] = *disabled;
  int stale_pid = 0;
  {
    std::ifstream in(config.pid_file);
    in >> stale_pid;
  }
  if (stale_pid > 0 && !disabled) status["reason"] = "not running (stale pid file)";
  status["source"] = config::AuditSourceName(daemon::ResolveSource(config.source));
  Result<AuditStatus> audit = ReadAuditStatus();
  if (audit.ok()) {
    status["kernel_lost"] = audit->lost;
    status["audit_enabled"] = audit->enabled;
    status["audit_pid"] = audit->pid;
    status["immutable"] = audit->enabled == 2;
  } else {
    status["audit_error"] = audit.status().message();
  }
  std::string db = DbPath(options, config);
  struct stat info {};
  status["db"] = {{"path", db},
                  {"size_bytes", stat(db.c_str(), &info) == 0 ? static_cast<int64_t>(info.st_size)
                                                              : int64_t{-1}}};
  // The set a recorder started now would install (with the filters'
  // pushed-down rules); with a bad filter file, which stops that start,
  // the set without filters, and why.
  Result<rules::RecorderRules> wanted = rules::LoadRecorderRules(config);
  rules::RuleManager manager(
      config, wanted.ok() ? wanted->rules : rules::RecorderRulesFor(config, nullptr).rules,
      nullptr);
  Result<rules::RuleCheck> check = manager.Check();
  if (check.ok()) {
    status["rules"] = {{"key", config.rule_key},
                       {"installed", check->present},
                       {"missing", check->missing.size()},
                       {"pushed_down", wanted.ok() ? wanted->pushdown.rules.size() : size_t{0}}};
    if (!wanted.ok()) status["rules"]["filter_error"] = wanted.status().message();
    status["restart_needed"] = check->immutable && !check->missing.empty();
  }
  return status;
}

}  // namespace

int PrintStatus(const LiveOptions& options) {
  Result<config::RecorderConfig> config = EffectiveConfig(options);
  if (!config.ok()) {
    std::fprintf(stderr, "recorder: %s\n", config.status().message().c_str());
    return 2;
  }
  nlohmann::json status;
  Result<std::string> answer = daemon::ControlRequest(config->control_socket, "status");
  if (!answer.ok() && answer.status().code() == StatusCode::kPermission) {
    SayPermissionDenied("status", *config);
    return kExitStatusUnknown;
  }
  bool running = false;
  if (answer.ok()) {
    status = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false);
    running = !status.is_discarded() && status.value("state", "") == "running";
  }
  if (!running) {
    // A recorder waiting for its database (DatabaseErrorWaitMinutes) is up
    // but records nothing: say so, with why, next to what can be read.
    nlohmann::json offline = OfflineStatus(options, *config);
    if (answer.ok() && !status.is_discarded() &&
        status.value("state", "") == "waiting for the database") {
      offline["state"] = status["state"];
      offline["warning"] = status.value("error", "");
    }
    status = std::move(offline);
  }
  if (options.json)
    std::printf("%s\n", status.dump(2).c_str());
  else
    std::fputs(daemon::FormatStatusText(status).c_str(), stdout);
  return running ? 0 : kExitNotRunning;
}

void AddStatusCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<LiveOptions>();
  CLI::App* command = app.add_subcommand(
      "status",
      "Show whether the recorder runs (or why it is stopped/disabled), the source in use,\n"
      "uptime, events/s by type over the last minute, totals, kernel lost records, drops,\n"
      "the database and its size, the recorder's audit rules (installed/missing) and whether\n"
      "an immutable (-e 2) kernel needs a reboot. Exit code 0 when running, 3 when not, 4 when\n"
      "it cannot be told (permission denied: only root, or the owner of a --state-dir, may ask).");
  command->add_flag("--json", options->json, "Print the status as JSON");
  command->add_option("--config", options->config_dir, "Configuration directory");
  command->add_option("--state-dir", options->state_dir, "As given to start/run");
  command->add_option("--db", options->db,
                      "Database to report on when not running (default: dbLocation of the "
                      "configuration; a running recorder reports its own)");
  command->add_option("--rule-key", options->rule_key, "Rule key to check when not running");
  command->callback([options, exit_code] { *exit_code = PrintStatus(*options); });
}

}  // namespace recorder::cli
