// `recorder install` and `recorder uninstall`: a thin shell over
// install/installer.h that prints the plan and, unless --dry-run, applies it.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "install/installer.h"
#include "rules/rule_manager.h"

extern char** environ;

namespace recorder::cli {
namespace {

namespace fs = std::filesystem;

struct InstallCliOptions {
  std::string root = "/";
  std::string config_dir;  // default: config::ConfigDirFor (the current directory)
  std::string binary;      // default: this executable
  bool dry_run = false;
};

std::string SelfPath() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

bool SystemdIsInit() {
  std::ifstream comm("/proc/1/comm");
  std::string name;
  std::getline(comm, name);
  return name == "systemd";
}

void SystemctlDaemonReload() {
  const char* argv[] = {"systemctl", "daemon-reload", nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "systemctl", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    std::fprintf(stderr, "note: could not run systemctl daemon-reload\n");
    return;
  }
  int status = 0;
  waitpid(pid, &status, 0);
}

// Fills the options the installer needs; prints config warnings.
bool Prepare(const InstallCliOptions& cli, install::InstallOptions* options) {
  options->root = cli.root;
  options->dry_run = cli.dry_run;
  std::error_code ec;
  options->recorder_binary =
      cli.binary.empty() ? SelfPath() : fs::absolute(cli.binary, ec).lexically_normal().string();
  options->config_dir =
      fs::absolute(config::ConfigDirFor(cli.config_dir), ec).lexically_normal().string();
  if (options->config_dir.size() > 1 && options->config_dir.back() == '/')
    options->config_dir.pop_back();
  Result<config::LoadedConfig> loaded = config::LoadConfig(options->config_dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
    return false;
  }
  for (const std::string& warning : loaded->warnings)
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  options->config = loaded->config;
  return true;
}

int PrintAndApply(const install::Plan& plan, bool dry_run, const char* verb) {
  if (plan.changes.empty()) {
    std::printf("%s: nothing to change (already %s)\n", verb,
                std::string(verb) == "install" ? "installed" : "uninstalled");
    return 0;
  }
  std::printf("%s%s: %zu change(s)\n", verb, dry_run ? " --dry-run" : "", plan.changes.size());
  for (const install::FileChange& change : plan.changes)
    std::printf("  %s\n", install::DescribeChange(change).c_str());
  if (dry_run) {
    std::printf("dry run: nothing was changed\n");
    return 0;
  }
  if (Status s = install::ApplyPlan(plan); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  for (const std::string& note : plan.notes) std::printf("note: %s\n", note.c_str());
  return 0;
}

int RunInstall(const InstallCliOptions& cli) {
  install::InstallOptions options;
  if (!Prepare(cli, &options)) return 2;
  // The directory is written into the plugin and the service: say which.
  std::printf("configuration: %s (database %s)\n", options.config_dir.c_str(),
              options.config.db_location.c_str());
  Result<install::Plan> plan = install::PlanInstall(options);
  if (!plan.ok()) {
    std::fprintf(stderr, "error: %s\n", plan.status().message().c_str());
    return 1;
  }
  const int rc = PrintAndApply(*plan, cli.dry_run, "install");
  std::error_code ec;
  if (rc == 0 && !cli.dry_run && !plan->changes.empty() && fs::equivalent(cli.root, "/", ec) &&
      SystemdIsInit())
    SystemctlDaemonReload();
  return rc;
}

int RunUninstall(const InstallCliOptions& cli) {
  install::InstallOptions options;
  if (!Prepare(cli, &options)) return 2;
  Result<install::Plan> plan = install::PlanUninstall(options);
  if (!plan.ok()) {
    std::fprintf(stderr, "error: %s\n", plan.status().message().c_str());
    return 1;
  }
  const int rc = PrintAndApply(*plan, cli.dry_run, "uninstall");
  std::error_code ec;
  if (rc == 0 && !cli.dry_run && fs::equivalent(cli.root, "/", ec)) {
    // Also take our rules out of the running kernel (only our key).
    rules::RuleManager manager(options.config);
    if (Status s = manager.Remove(); !s.ok())
      std::fprintf(stderr, "note: audit rules not removed from the kernel: %s\n",
                   s.message().c_str());
  }
  return rc;
}

void AddCommonOptions(CLI::App* command, InstallCliOptions* options) {
  command->add_flag("--dry-run", options->dry_run, "Print the planned changes; change nothing");
  command
      ->add_option("--root", options->root,
                   "Prefix for /etc (operate on DIR/etc/audit, ...), e.g. a test copy")
      ->capture_default_str();
  command->add_option("--config", options->config_dir,
                      "Directory with recorder.json, written into the plugin and service "
                      "(default: the current directory, as for every command)");
  command->add_option("--binary", options->binary,
                      "Recorder executable auditd and systemd should start (default: this one)");
}

}  // namespace

void AddInstallCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<InstallCliOptions>();
  CLI::App* command = app.add_subcommand(
      "install",
      "Prepare the machine for live recording (idempotent; needs root):\n"
      "  back up auditd.conf, audispd.conf (audit 2.x) and audit.rules to *.pretrace (once),\n"
      "  set the dispatcher q_depth (32768) and the auditd log format per rawLogging,\n"
      "  write the auditd plugin conf (recorder.conf), the audit rules\n"
      "  (/etc/audit/rules.d/10-recorder.rules) and /etc/systemd/system/recorder.service.\n"
      "Restart auditd afterwards. Undo everything with 'recorder uninstall'.\n"
      "Example: sudo recorder install --dry-run");
  AddCommonOptions(command, options.get());
  command->callback([options, exit_code] { *exit_code = RunInstall(*options); });
}

void AddUninstallCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<InstallCliOptions>();
  CLI::App* command = app.add_subcommand(
      "uninstall",
      "Undo 'recorder install' (idempotent; needs root): restore every *.pretrace backup\n"
      "byte for byte, remove the plugin conf, the rules file and the unit, and remove the\n"
      "recorder's rules (key 'recorder') from the running kernel.\n"
      "Example: sudo recorder uninstall");
  AddCommonOptions(command, options.get());
  command->callback([options, exit_code] { *exit_code = RunUninstall(*options); });
}

}  // namespace recorder::cli
