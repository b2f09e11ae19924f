#include "install/installer.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rules/recorder_rules.h"
#include "rules/rule_manager.h"

namespace recorder::install {
namespace {

namespace fs = std::filesystem;

std::string Under(const std::string& root, const fs::path& relative) {
  return (fs::path(root.empty() ? "/" : root) / relative).lexically_normal().string();
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Errorf("cannot read {}", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// Splits "key = value" (auditd.conf syntax); false for comments/blank.
bool SplitLine(std::string_view line, std::string* key, std::string* value) {
  const std::string trimmed = Trim(line);
  if (trimmed.empty() || trimmed[0] == '#') return false;
  const size_t eq = trimmed.find('=');
  if (eq == std::string::npos) return false;
  *key = Lower(Trim(std::string_view(trimmed).substr(0, eq)));
  *value = Trim(std::string_view(trimmed).substr(eq + 1));
  return true;
}

// Plans writing `content` to `path` unless it already holds exactly that.
void PlanWrite(Plan* plan, const std::string& path, const std::string& content,
               const std::string& summary) {
  if (Exists(path)) {
    Result<std::string> current = ReadFile(path);
    if (current.ok() && *current == content) return;
  }
  plan->changes.push_back(FileChange{FileChange::Kind::kWrite, path, "", content, summary});
}

AuditLayout DetectLayout(const std::string& root) {
  return Exists(Under(root, "etc/audisp/audispd.conf")) ? AuditLayout::kAudit2
                                                        : AuditLayout::kAudit3;
}

// The files install backs up (when present), relative to root.
std::vector<std::string> BackedUpFiles(AuditLayout layout) {
  std::vector<std::string> files = {"etc/audit/auditd.conf"};
  if (layout == AuditLayout::kAudit2) files.push_back("etc/audisp/audispd.conf");
  files.push_back("etc/audit/audit.rules");
  return files;
}

// The plugin directory: audit 3's auditd.conf may move it (plugin_dir).
std::string PluginConf(const std::string& root, AuditLayout layout,
                       const std::string& auditd_conf_text) {
  if (layout == AuditLayout::kAudit3) {
    const std::string dir = GetConfValue(auditd_conf_text, "plugin_dir");
    if (!dir.empty() && dir[0] == '/')
      return Under(root, fs::path(dir.substr(1)) / "recorder.conf");
  }
  return Under(root, PluginConfPath(layout));
}

std::string PluginConfText(const InstallOptions& options) {
  // args: auditd passes at most two arguments to a plugin.
  return fmt::format(
      "# recorder: receives every audit event from auditd ({}).\n"
      "# Removed by `recorder uninstall`.\n"
      "active = yes\n"
      "direction = out\n"
      "path = {}\n"
      "type = always\n"
      "args = plugin --config={}\n"
      "format = string\n",
      kMarker, options.recorder_binary, options.config_dir);
}

std::string UnitText(const InstallOptions& options) {
  return fmt::format(
      "# recorder: live recording as a service ({}).\n"
      "# Removed by `recorder uninstall`. Not needed when auditd runs recorder as its plugin.\n"
      "[Unit]\n"
      "Description=recorder: Linux endpoint flight recorder (live audit recording)\n"
      "After=local-fs.target\n"
      "Conflicts=auditd.service\n"
      "\n"
      "[Service]\n"
      "Type=simple\n"
      "ExecStart={} run --config {} --no-live-line\n"
      "ExecStop={} stop --config {}\n"
      "Restart=on-failure\n"
      "RestartSec=5\n"
      "\n"
      "[Install]\n"
      "WantedBy=multi-user.target\n",
      kMarker, options.recorder_binary, options.config_dir, options.recorder_binary,
      options.config_dir);
}

// The rules the installed recorder installs when it runs (with the
// filters' pushed-down rules: rules/recorder_rules.h), so that auditd
// loads the same set at boot. A bad filter file is an error: that
// recorder would not start.
Result<std::string> RulesText(const InstallOptions& options) {
  config::RecorderConfig config = options.config;
  // The exclusion rule must name the installed binary, not whoever runs
  // `recorder install` (which may be a test binary or a copy).
  config.recorder_exe = options.recorder_binary;
  Result<rules::RecorderRules> wanted = rules::LoadRecorderRules(config);
  if (!wanted.ok())
    return Status::Errorf("filters: {} ('recorder config check' checks the files)",
                          wanted.status().message());
  std::string text = rules::RenderRulesFile(config, wanted->rules);
  return fmt::format("## {}\n{}", kMarker, text);
}

Status CopyBytes(const std::string& from, const std::string& to) {
  // Content and mode; written in place so the target keeps its owner and
  // inode (auditd configs are root:root 0640 and must stay so).
  Result<std::string> content = ReadFile(from);
  if (!content.ok()) return content.status();
  struct stat st {};
  const bool have_mode = ::stat(from.c_str(), &st) == 0;
  {
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Errorf("cannot write {}", to);
    out << *content;
    out.close();
    if (!out) return Status::Errorf("writing {} failed", to);
  }
  if (have_mode && ::chmod(to.c_str(), st.st_mode & 07777) != 0)
    return Status::Errorf("cannot set the mode of {}", to);
  return Status::Ok();
}

}  // namespace

std::string PluginConfPath(AuditLayout layout) {
  return layout == AuditLayout::kAudit2 ? "etc/audisp/plugins.d/recorder.conf"
                                        : "etc/audit/plugins.d/recorder.conf";
}

std::string GetConfValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  const std::string wanted = Lower(key);
  while (std::getline(in, line)) {
    std::string k;
    std::string v;
    if (SplitLine(line, &k, &v) && k == wanted) return v;
  }
  return "";
}

std::string SetConfValue(const std::string& text, const std::string& key,
                         const std::string& value) {
  const std::string wanted = Lower(key);
  std::string out;
  bool done = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool has_newline = end != std::string::npos;
    if (!has_newline) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    std::string k;
    std::string v;
    if (!done && SplitLine(line, &k, &v) && k == wanted) {
      done = true;
      if (v == value) {
        out.append(line);
      } else {
        out += fmt::format("{} = {}", key, value);
      }
    } else {
      out.append(line);
    }
    if (has_newline) out += '\n';
    start = end + 1;
  }
  if (!done) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += fmt::format("{} = {}\n", key, value);
  }
  return out;
}

std::string DescribeChange(const FileChange& change) {
  switch (change.kind) {
    case FileChange::Kind::kBackup:
      return fmt::format("backup   {} -> {}", change.source, change.path);
    case FileChange::Kind::kWrite:
      return fmt::format("write    {}{}", change.path,
                         change.summary.empty() ? "" : "  (" + change.summary + ")");
    case FileChange::Kind::kRestore:
      return fmt::format("restore  {} <- {}", change.path, change.source);
    case FileChange::Kind::kRemove:
      return fmt::format("remove   {}{}", change.path,
                         change.summary.empty() ? "" : "  (" + change.summary + ")");
  }
  return "";
}

Result<Plan> PlanInstall(const InstallOptions& options) {
  const std::string& root = options.root;
  const std::string audit_dir = Under(root, "etc/audit");
  std::error_code ec;
  if (!fs::is_directory(audit_dir, ec))
    return Status::Errorf(
        "{} not found: auditd is not installed (Debian/Ubuntu: apt-get install "
        "auditd; RHEL: dnf install audit)",
        audit_dir);
  if (options.recorder_binary.empty() || options.recorder_binary[0] != '/')
    return Status::Errorf("the recorder binary path must be absolute, got '{}'",
                          options.recorder_binary);
  if (options.config_dir.empty() || options.config_dir[0] != '/')
    return Status::Errorf("the configuration directory must be absolute, got '{}'",
                          options.config_dir);

  Plan plan;
  plan.layout = DetectLayout(root);

  // 1. Backups, once: an existing backup is the pristine original.
  for (const std::string& relative : BackedUpFiles(plan.layout)) {
    const std::string path = Under(root, relative);
    const std::string backup = path + kBackupSuffix;
    if (Exists(path) && !Exists(backup))
      plan.changes.push_back(FileChange{FileChange::Kind::kBackup, backup, path, "", ""});
  }

  // 2. auditd.conf (and audispd.conf on 2.x).
  const std::string auditd_conf = Under(root, "etc/audit/auditd.conf");
  std::string auditd_text;
  if (Exists(auditd_conf)) {
    Result<std::string> text = ReadFile(auditd_conf);
    if (!text.ok()) return text.status();
    auditd_text = *text;
  } else {
    plan.notes.push_back(fmt::format("{} does not exist: it is created", auditd_conf));
  }
  std::string new_auditd = auditd_text;
  std::vector<std::string> auditd_summary;
  auto set = [&](std::string* text, std::vector<std::string>* summary, const char* key,
                 const std::string& value) {
    const std::string before = GetConfValue(*text, key);
    *text = SetConfValue(*text, key, value);
    if (before != value)
      summary->push_back(
          fmt::format("{} {} -> {}", key, before.empty() ? "(unset)" : before, value));
  };
  const std::string q_depth = std::to_string(options.config.audisp_q_depth);
  if (plan.layout == AuditLayout::kAudit3) set(&new_auditd, &auditd_summary, "q_depth", q_depth);
  if (options.config.raw_logging.has_value()) {
    if (*options.config.raw_logging) {
      // RAW as the manual says; ENRICHED is RAW plus resolved names and
      // is kept so other consumers of the log are not surprised.
      const std::string format = Lower(GetConfValue(new_auditd, "log_format"));
      if (format != "enriched") set(&new_auditd, &auditd_summary, "log_format", "RAW");
      if (plan.layout == AuditLayout::kAudit3)
        set(&new_auditd, &auditd_summary, "write_logs", "yes");
    } else if (plan.layout == AuditLayout::kAudit3) {
      // audit 3 replaced log_format = NOLOG by write_logs = no.
      set(&new_auditd, &auditd_summary, "write_logs", "no");
    } else {
      set(&new_auditd, &auditd_summary, "log_format", "NOLOG");
    }
  }
  if (new_auditd != auditd_text) {
    std::string summary;
    for (const std::string& s : auditd_summary) summary += (summary.empty() ? "" : ", ") + s;
    plan.changes.push_back(
        FileChange{FileChange::Kind::kWrite, auditd_conf, "", new_auditd, summary});
  }
  if (plan.layout == AuditLayout::kAudit2) {
    const std::string audispd_conf = Under(root, "etc/audisp/audispd.conf");
    Result<std::string> text = ReadFile(audispd_conf);
    if (!text.ok()) return text.status();
    std::string updated = *text;
    std::vector<std::string> summary;
    set(&updated, &summary, "q_depth", q_depth);
    if (updated != *text)
      plan.changes.push_back(
          FileChange{FileChange::Kind::kWrite, audispd_conf, "", updated, summary.front()});
  }

  // 3. Files of our own.
  PlanWrite(&plan, PluginConf(root, plan.layout, auditd_text), PluginConfText(options),
            "auditd plugin: auditd starts `recorder plugin`");
  Result<std::string> rules_text = RulesText(options);
  if (!rules_text.ok()) return rules_text.status();
  PlanWrite(&plan, Under(root, fs::path("etc/audit/rules.d") / rules::kRulesFileName), *rules_text,
            "audit rules, loaded by augenrules before any -e 2");
  PlanWrite(&plan, Under(root, kUnitPath), UnitText(options), "systemd unit for `recorder run`");

  if (!plan.changes.empty())
    plan.notes.push_back(
        "restart auditd (service auditd restart, or systemctl restart auditd) for the plugin, "
        "q_depth and log format to take effect; `augenrules --load` loads the rules");
  return plan;
}

Result<Plan> PlanUninstall(const InstallOptions& options) {
  const std::string& root = options.root;
  const std::string audit_dir = Under(root, "etc/audit");
  std::error_code ec;
  if (!fs::is_directory(audit_dir, ec))
    return Status::Errorf("{} not found: nothing to uninstall (auditd is not installed)",
                          audit_dir);
  Plan plan;
  plan.layout = DetectLayout(root);
  std::string auditd_text;
  const std::string auditd_conf = Under(root, "etc/audit/auditd.conf");
  // The plugin_dir to clean is the one in effect when we installed: the
  // backup's, when there is one.
  for (const std::string& candidate : {auditd_conf + kBackupSuffix, auditd_conf}) {
    if (Exists(candidate)) {
      Result<std::string> text = ReadFile(candidate);
      if (text.ok()) auditd_text = *text;
      break;
    }
  }

  // Our own files, only when they carry our marker.
  for (const std::string& path :
       std::vector<std::string>{PluginConf(root, plan.layout, auditd_text),
                                Under(root, fs::path("etc/audit/rules.d") / rules::kRulesFileName),
                                Under(root, kUnitPath)}) {
    if (!Exists(path)) continue;
    Result<std::string> text = ReadFile(path);
    if (!text.ok()) return text.status();
    if (text->find(kMarker) == std::string::npos) {
      plan.notes.push_back(fmt::format("{} was not written by recorder install: left alone", path));
      continue;
    }
    plan.changes.push_back(FileChange{FileChange::Kind::kRemove, path, "", "", ""});
  }

  // Backups back in place, byte for byte, then the backups go.
  for (const std::string& relative : BackedUpFiles(plan.layout)) {
    const std::string path = Under(root, relative);
    const std::string backup = path + kBackupSuffix;
    if (!Exists(backup)) continue;
    Result<std::string> saved = ReadFile(backup);
    if (!saved.ok()) return saved.status();
    bool same = false;
    if (Exists(path)) {
      Result<std::string> current = ReadFile(path);
      same = current.ok() && *current == *saved;
    }
    if (!same) plan.changes.push_back(FileChange{FileChange::Kind::kRestore, path, backup, "", ""});
    plan.changes.push_back(FileChange{FileChange::Kind::kRemove, backup, "", "", "backup"});
  }
  if (!plan.changes.empty())
    plan.notes.push_back("restart auditd for the restored configuration to take effect");
  return plan;
}

Status ApplyPlan(const Plan& plan) {
  for (const FileChange& change : plan.changes) {
    std::error_code ec;
    switch (change.kind) {
      case FileChange::Kind::kBackup:
      case FileChange::Kind::kRestore:
        if (Status s = CopyBytes(change.source, change.path); !s.ok()) return s;
        break;
      case FileChange::Kind::kWrite: {
        const fs::path path(change.path);
        fs::create_directories(path.parent_path(), ec);
        if (ec)
          return Status::Errorf("cannot create {}: {}", path.parent_path().string(), ec.message());
        const bool existed = Exists(change.path);
        const std::string temp = change.path + ".recorder-tmp";
        {
          std::ofstream out(temp, std::ios::binary | std::ios::trunc);
          if (!out) return Status::Errorf("cannot write {}", temp);
          out << change.content;
          out.close();
          if (!out) return Status::Errorf("writing {} failed", temp);
        }
        // Keep an existing file's mode; new files are root-only readable
        // config (auditd refuses world-writable plugin confs).
        struct stat st {};
        const mode_t mode =
            existed && ::stat(change.path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0640;
        if (::chmod(temp.c_str(), mode) != 0 || ::rename(temp.c_str(), change.path.c_str()) != 0) {
          ::unlink(temp.c_str());
          return Status::Errorf("cannot replace {}", change.path);
        }
        break;
      }
      case FileChange::Kind::kRemove:
        if (!fs::remove(change.path, ec) && ec)
          return Status::Errorf("cannot remove {}: {}", change.path, ec.message());
        break;
    }
  }
  return Status::Ok();
}

}  // namespace recorder::install
