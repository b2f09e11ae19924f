// `recorder install` / `recorder uninstall`: the changes the vendor manual
// lists under "Configuration changes on endpoints", made reversible.
//
// Install backs up auditd.conf, audispd.conf (audit 2.x) and audit.rules to
// *.pretrace (once: an existing backup is the pristine original and is
// kept), raises the dispatcher queue depth, sets the auditd log format per
// rawLogging, and writes the auditd plugin conf, the rules.d file and a
// systemd unit. Uninstall restores the backups byte for byte and removes
// what install wrote. Both are idempotent; both first compute a plan (a
// list of file changes) so --dry-run shows exactly what a real run would do.
//
// Every path is under `root` ("/" normally; tests use a copy of /etc/audit
// in a temporary directory).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace recorder::install {

struct InstallOptions {
  std::string root = "/";
  std::string recorder_binary;  // absolute path of the recorder executable
  std::string config_dir;       // absolute; passed to the plugin and the unit
  config::RecorderConfig config;
  bool dry_run = false;
};

// Which audit user space the root has: 2.x keeps the dispatcher in
// /etc/audisp (audispd.conf with q_depth, plugins in audisp/plugins.d);
// 3.x folded it into auditd (q_depth in auditd.conf, audit/plugins.d).
enum class AuditLayout { kAudit2, kAudit3 };

struct FileChange {
  enum class Kind { kBackup, kWrite, kRestore, kRemove };
  Kind kind;
  std::string path;     // the file changed (absolute, under root)
  std::string source;   // kBackup: file copied; kRestore: the backup
  std::string content;  // kWrite: the new content
  std::string summary;  // one line for the user, e.g. "q_depth 2000 -> 32768"
};

struct Plan {
  AuditLayout layout = AuditLayout::kAudit3;
  std::vector<FileChange> changes;  // in order; empty = nothing to do
  std::vector<std::string> notes;   // warnings and hints (e.g. restart auditd)
};

// "backup  /etc/audit/auditd.conf -> /etc/audit/auditd.conf.pretrace" etc.
std::string DescribeChange(const FileChange& change);

Result<Plan> PlanInstall(const InstallOptions& options);
Result<Plan> PlanUninstall(const InstallOptions& options);
// Carries out a plan (nothing when options.dry_run is set by the caller's
// choice not to call it). Stops at the first failure and says where.
Status ApplyPlan(const Plan& plan);

// Pure helpers, exposed for tests.
// Sets `key = value` in an auditd-style "key = value" file: replaces the
// first active line for key (case-insensitive), or appends one. Returns
// the text unchanged when the value is already set.
std::string SetConfValue(const std::string& text, const std::string& key, const std::string& value);
// The value of `key`, or empty when not set.
std::string GetConfValue(const std::string& text, const std::string& key);

// Files install writes, relative to root (for docs and status).
std::string PluginConfPath(AuditLayout layout);  // etc/audit/plugins.d/recorder.conf or audisp
inline constexpr char kUnitPath[] = "etc/systemd/system/recorder.service";
inline constexpr char kBackupSuffix[] = ".pretrace";
// Marker in every file install writes: uninstall removes only files with it.
inline constexpr char kMarker[] = "written by `recorder install`";

}  // namespace recorder::install
