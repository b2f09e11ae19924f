#include "rules/rule_manager.h"

#include <fmt/format.h>
#include <libaudit.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <utility>

namespace recorder::rules {
namespace {

namespace fs = std::filesystem;

// Bits of open(2) flags that make an open a write: O_WRONLY | O_RDWR |
// O_CREAT | O_TRUNC. The kernel's "&" operator matches when any is set.
constexpr char kWriteOpenMask[] = "0x243";
constexpr int kAfUnix = 1;
constexpr int kAfNetlink = 16;

std::string OwnExecutable(const config::RecorderConfig& config) {
  if (!config.recorder_exe.empty()) return config.recorder_exe;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

// Keeps the syscalls libaudit knows for `arch` (i386 has chown32, x86_64
// does not; old libaudit may lack fchmodat2), in the given order.
std::vector<std::string> Known(std::string_view arch, std::initializer_list<const char*> names) {
  std::vector<std::string> known;
  for (const char* name : names)
    if (SyscallExists(arch, name)) known.emplace_back(name);
  return known;
}

void AddRule(std::vector<RuleSpec>* rules, const std::string& key, std::string_view arch,
             std::vector<std::string> syscalls, std::vector<std::string> fields,
             const char* action = "always") {
  if (syscalls.empty()) return;
  RuleSpec spec;
  spec.action = action;
  spec.arch = std::string(arch);
  spec.syscalls = std::move(syscalls);
  spec.fields = std::move(fields);
  spec.key = key;
  rules->push_back(std::move(spec));
}

std::vector<std::string> With(std::vector<std::string> fields, const std::string& dir) {
  if (!dir.empty()) fields.push_back("dir=" + dir);
  return fields;
}

}  // namespace

std::vector<RuleSpec> DeriveRules(const config::RecorderConfig& config) {
  std::vector<RuleSpec> rules;
  const std::string& key = config.rule_key;
  const std::string exe = OwnExecutable(config);

  std::vector<std::string> arches;
  for (const char* arch : {"b64", "b32"})
    if (audit_determine_machine(arch) >= 0) arches.emplace_back(arch);

  // Watched paths: "/" means everything (no dir= filter at all, which is
  // also the cheapest for the kernel).
  std::vector<std::string> dirs;
  for (const std::string& path : config.watched_paths) {
    if (path.empty()) continue;
    if (path == "/") {
      dirs = {""};
      break;
    }
    dirs.push_back(path);
  }

  for (const std::string& arch : arches) {
    // 1. Never record the recorder itself: its database writes would be
    //    file events that cause more writes. First, because the exit list
    //    stops at the first matching rule.
    if (!exe.empty()) AddRule(&rules, key, arch, {"all"}, {"exe=" + exe}, "never");

    // 2. Processes: always on. exit_group ends a process (thread exits
    //    via exit(2) are not process ends and are left out).
    AddRule(&rules, key, arch, Known(arch, {"execve", "execveat"}), {});
    AddRule(&rules, key, arch, Known(arch, {"exit_group"}), {});

    // 3. Files: successful changes only. open/openat only when their
    //    flags ask for writing; openat2 hides its flags behind a pointer,
    //    so all successful openat2 calls are recorded (rare in practice).
    if (config.monitor_files) {
      for (const std::string& dir : dirs) {
        AddRule(&rules, key, arch, Known(arch, {"open"}),
                With({fmt::format("a1&{}", kWriteOpenMask), "success=1"}, dir));
        AddRule(&rules, key, arch, Known(arch, {"openat"}),
                With({fmt::format("a2&{}", kWriteOpenMask), "success=1"}, dir));
        AddRule(&rules, key, arch,
                Known(arch, {"openat2",     "creat",   "truncate",  "ftruncate", "truncate64",
                             "ftruncate64", "unlink",  "unlinkat",  "rename",    "renameat",
                             "renameat2",   "mkdir",   "mkdirat",   "rmdir",     "link",
                             "linkat",      "symlink", "symlinkat", "mknod",     "mknodat"}),
                With({"success=1"}, dir));
        AddRule(&rules, key, arch,
                Known(arch, {"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
                             "lchown", "fchownat", "chown32", "fchown32", "lchown32", "utime",
                             "utimes", "futimesat", "utimensat"}),
                With({"success=1"}, dir));
      }
    }

    // 4. Network: IP and other real network families. The socket family
    //    is not a syscall argument; saddr_fam (the family of the address
    //    the call carried) filters out local AF_UNIX and AF_NETLINK
    //    traffic, which would otherwise dominate. accept(fd, NULL, NULL)
    //    carries no address, so saddr_fam cannot match it: a second rule
    //    takes successful accepts with a NULL address argument, and the
    //    normalizer keeps those whose listening socket it saw bound.
    if (config.monitor_network) {
      AddRule(&rules, key, arch,
              Known(arch, {"connect", "bind", "accept", "accept4", "socketcall"}),
              {fmt::format("saddr_fam!={}", kAfUnix), fmt::format("saddr_fam!={}", kAfNetlink)});
      AddRule(&rules, key, arch, Known(arch, {"accept", "accept4"}), {"a1=0", "success=1"});
      AddRule(&rules, key, arch, Known(arch, {"listen"}), {"success=1"});
    }

    // 5. Privilege changes (logins and authentication come as user-space
    //    records, which need no rule).
    if (config.monitor_security) {
      AddRule(&rules, key, arch,
              Known(arch, {"setuid", "setreuid", "setresuid", "setfsuid", "setgid", "setregid",
                           "setresgid", "setfsgid", "setuid32", "setreuid32", "setresuid32",
                           "setfsuid32", "setgid32", "setregid32", "setresgid32", "setfsgid32"}),
              {"success=1"});
    }

    // 6. Kernel modules: rare and security-relevant, so on with either
    //    MonitorSecurity or MonitorImageLoad (the Linux image load).
    if (config.monitor_security || config.monitor_image_load) {
      AddRule(&rules, key, arch, Known(arch, {"init_module", "finit_module", "delete_module"}), {});
    }
  }
  return rules;
}

std::string RenderRulesFile(const config::RecorderConfig& config,
                            const std::vector<RuleSpec>& rules) {
  std::string out =
      "## recorder: audit rules for live recording.\n"
      "## Written by `recorder install`, removed by `recorder uninstall`; edits are lost.\n"
      "## augenrules concatenates rules.d in sorted order and stops at \"-e 2\": this file\n"
      "## has a low number so it is loaded before any file that locks the rules.\n";
  out += fmt::format("## Every rule carries the key '{}'.\n", config.rule_key);
  out += fmt::format("-b {}\n", config.backlog_limit);
  if (config.backlog_wait_time)
    out += fmt::format("--backlog_wait_time {}\n", *config.backlog_wait_time);
  for (const RuleSpec& rule : rules) out += rule.ToAuditctl() + "\n";
  return out;
}

RuleManager::RuleManager(config::RecorderConfig config)
    : config_(std::move(config)), wanted_(DeriveRules(config_)) {}

RuleManager::RuleManager(config::RecorderConfig config, AuditControl* control)
    : config_(std::move(config)), wanted_(DeriveRules(config_)), control_(control) {}

RuleManager::RuleManager(config::RecorderConfig config, std::vector<RuleSpec> wanted,
                         AuditControl* control)
    : config_(std::move(config)), wanted_(std::move(wanted)), control_(control) {}

RuleManager::~RuleManager() = default;

Result<AuditControl*> RuleManager::Control() {
  if (control_ != nullptr) return control_;
  Result<std::unique_ptr<AuditControl>> opened = OpenNetlinkAuditControl();
  if (!opened.ok()) return opened.status();
  owned_ = std::move(opened.value());
  control_ = owned_.get();
  return control_;
}

Result<AuditStatus> RuleManager::ReadStatus() {
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  return (*control)->ReadStatus();
}

Status RuleManager::SetBacklog(uint32_t limit, std::optional<uint32_t> wait_time_ticks) {
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  if (Status s = (*control)->SetBacklogLimit(limit); !s.ok()) return s;
  if (wait_time_ticks) return (*control)->SetBacklogWaitTime(*wait_time_ticks);
  return Status::Ok();
}

Status RuleManager::SetEnabled(int enabled) {
  if (enabled != 0 && enabled != 1)
    return Status::Errorf(StatusCode::kInvalid,
                          "audit enabled must be 0 or 1, not {}: the recorder never locks "
                          "the audit configuration",
                          enabled);
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  return (*control)->SetEnabled(static_cast<uint32_t>(enabled));
}

Status RuleManager::AddMissing(const std::vector<KernelRule>& kernel, int* added, int* already) {
  for (const RuleSpec& spec : wanted_) {
    Result<KernelRule> rule = BuildKernelRule(spec);
    if (!rule.ok()) return rule.status();
    bool present = false;
    for (const KernelRule& k : kernel) {
      if (k.SameRule(*rule)) {
        present = true;
        break;
      }
    }
    if (present) {
      ++*already;
      continue;
    }
    if (Status s = control_->AddRule(*rule); !s.ok())
      return Status::Errorf(s.code(), "{}: {}", s.message(), spec.ToAuditctl());
    ++*added;
  }
  return Status::Ok();
}

Result<RuleCheck> RuleManager::Check() {
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  Result<AuditStatus> status = (*control)->ReadStatus();
  if (!status.ok()) return status.status();
  Result<std::vector<KernelRule>> kernel = (*control)->ListRules();
  if (!kernel.ok()) return kernel.status();

  RuleCheck check;
  check.wanted = wanted_;
  check.immutable = status->immutable();
  std::vector<bool> matched(kernel->size(), false);
  for (const RuleSpec& spec : wanted_) {
    Result<KernelRule> rule = BuildKernelRule(spec);
    if (!rule.ok()) return rule.status();
    bool found = false;
    for (size_t i = 0; i < kernel->size(); ++i) {
      if (!matched[i] && (*kernel)[i].SameRule(*rule)) {
        matched[i] = true;
        found = true;
        break;
      }
    }
    if (found) {
      ++check.present;
    } else {
      check.missing.push_back(spec);
    }
  }
  for (size_t i = 0; i < kernel->size(); ++i) {
    if (matched[i]) continue;
    if ((*kernel)[i].HasKey(config_.rule_key)) {
      ++check.extra;
    } else {
      ++check.foreign;
    }
  }
  return check;
}

Result<InstallReport> RuleManager::Install() {
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  Result<AuditStatus> status = (*control)->ReadStatus();
  if (!status.ok()) return status.status();

  InstallReport report;
  if (status->immutable()) {
    // The kernel refuses every change until reboot. Not an error: say what
    // is missing and make sure the next boot loads our rules.
    Result<RuleCheck> check = Check();
    if (!check.ok()) return check.status();
    report.immutable = true;
    report.missing = check->missing;
    report.already = check->present;
    std::error_code ec;
    if (fs::is_directory(rules_dir_, ec)) {
      const fs::path path = fs::path(rules_dir_) / kRulesFileName;
      std::ofstream out(path, std::ios::trunc);
      out << RenderRulesFile(config_, wanted_);
      out.close();
      if (out) report.rules_file = path.string();
    }
    report.message = fmt::format(
        "audit rules are immutable (enabled=2): {} of {} wanted rules are missing; {}; "
        "restart/reboot needed",
        report.missing.size(), wanted_.size(),
        report.rules_file.empty() ? "rules.d directory " + rules_dir_ +
                                        " not found, rules file "
                                        "not written"
                                  : "rules written to " + report.rules_file + " for the next boot");
    return report;
  }

  // Only ever raise the backlog: another tool may have set it higher.
  if (status->backlog_limit < config_.backlog_limit) {
    if (Status s = control_->SetBacklogLimit(config_.backlog_limit); !s.ok()) return s;
    if (!saved_backlog_limit_) saved_backlog_limit_ = status->backlog_limit;
  }
  if (config_.backlog_wait_time && status->backlog_wait_time != *config_.backlog_wait_time) {
    if (Status s = control_->SetBacklogWaitTime(*config_.backlog_wait_time); !s.ok()) return s;
    if (!saved_backlog_wait_time_) saved_backlog_wait_time_ = status->backlog_wait_time;
  }
  Result<std::vector<KernelRule>> kernel = control_->ListRules();
  if (!kernel.ok()) return kernel.status();
  if (Status s = AddMissing(*kernel, &report.added, &report.already); !s.ok()) return s;
  report.message = fmt::format("{} audit rules added, {} already present (key '{}')", report.added,
                               report.already, config_.rule_key);
  return report;
}

Result<InstallReport> RuleManager::TakeOver(RuleManager* previous) {
  saved_backlog_limit_ = std::exchange(previous->saved_backlog_limit_, std::nullopt);
  saved_backlog_wait_time_ = std::exchange(previous->saved_backlog_wait_time_, std::nullopt);
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  Result<AuditStatus> status = control_->ReadStatus();
  if (!status.ok()) return status.status();
  if (status->immutable()) return Install();

  std::vector<KernelRule> bridge;
  std::vector<KernelRule> kept_never;
  auto remove_bridge = [&] {
    Status first_error;
    for (const KernelRule& rule : bridge)
      if (Status s = control_->DeleteRule(rule); !s.ok() && first_error.ok()) first_error = s;
    return first_error;
  };
  for (const RuleSpec& spec : wanted_) {
    if (spec.action == "never") {
      Result<KernelRule> rule = BuildKernelRule(spec);
      if (!rule.ok()) return rule.status();
      kept_never.push_back(std::move(rule).value());
      continue;
    }
    RuleSpec copy = spec;
    copy.fields.push_back("pid!=0");
    Result<KernelRule> rule = BuildKernelRule(copy);
    if (!rule.ok()) return rule.status();
    if (Status s = control_->AddRule(*rule); !s.ok()) {
      (void)remove_bridge();
      return Status::Errorf(s.code(), "{}: {}", s.message(), copy.ToAuditctl());
    }
    bridge.push_back(std::move(rule).value());
  }
  auto in = [](const std::vector<KernelRule>& rules, const KernelRule& rule) {
    return std::any_of(rules.begin(), rules.end(),
                       [&](const KernelRule& r) { return r.SameRule(rule); });
  };
  Result<std::vector<KernelRule>> kernel = control_->ListRules();
  if (!kernel.ok()) {
    (void)remove_bridge();
    return kernel.status();
  }
  for (const KernelRule& rule : *kernel) {
    if (!rule.HasKey(config_.rule_key) || in(bridge, rule) || in(kept_never, rule)) continue;
    if (Status s = control_->DeleteRule(rule); !s.ok()) {
      (void)remove_bridge();
      return s;
    }
  }
  Result<InstallReport> report = Install();
  Status removed = remove_bridge();
  if (report.ok() && !removed.ok()) return removed;
  return report;
}

Status RuleManager::Restore() {
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  Result<std::vector<KernelRule>> kernel = control_->ListRules();
  if (!kernel.ok()) return kernel.status();
  int added = 0;
  int already = 0;
  return AddMissing(*kernel, &added, &already);
}

Status RuleManager::Remove() {
  Result<AuditControl*> control = Control();
  if (!control.ok()) return control.status();
  Result<std::vector<KernelRule>> kernel = control_->ListRules();
  if (!kernel.ok()) return kernel.status();
  Status first_error;
  for (const KernelRule& rule : *kernel) {
    if (!rule.HasKey(config_.rule_key)) continue;  // never touch foreign rules
    if (Status s = control_->DeleteRule(rule); !s.ok() && first_error.ok()) first_error = s;
  }
  if (saved_backlog_limit_) {
    if (Status s = control_->SetBacklogLimit(*saved_backlog_limit_); !s.ok() && first_error.ok())
      first_error = s;
    saved_backlog_limit_.reset();
  }
  if (saved_backlog_wait_time_) {
    if (Status s = control_->SetBacklogWaitTime(*saved_backlog_wait_time_);
        !s.ok() && first_error.ok())
      first_error = s;
    saved_backlog_wait_time_.reset();
  }
  return first_error;
}

}  // namespace recorder::rules
