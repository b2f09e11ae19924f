// The audit rules lifecycle of live recording: derive the rules from the
// effective configuration, install them, check them for drift (somebody
// ran `auditctl -D`), restore them, remove them — touching only rules that
// carry the recorder's key (config.rule_key), never anybody else's.
//
// The kernel is reached through an AuditControl (rules/audit_control.h):
// the netlink one in production, FakeAuditControl in tests, so immutable
// mode (enabled == 2) is tested without locking a machine.
//
// Not thread-safe: one owner (the daemon's control thread) uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "rules/audit_control.h"
#include "rules/audit_rule.h"
#include "util/status.h"

namespace recorder::rules {

// The rules the configuration asks for, in installation order: the
// "never" rules excluding the recorder's own executable come first
// (the exit list is first-match-wins), then one group per event kind,
// for b64 and b32. Pure: no kernel access.
std::vector<RuleSpec> DeriveRules(const config::RecorderConfig& config);

// The rules as a rules.d file: a header comment, optional -b/--backlog_wait_time
// lines and one auditctl line per rule. Never contains -e (no enable, and
// in particular never -e 2).
std::string RenderRulesFile(const config::RecorderConfig& config,
                            const std::vector<RuleSpec>& rules);

// The rules.d file name. Low number on purpose: augenrules concatenates
// rules.d in sorted order and stops at "-e 2", so our lines must come
// before any locking line (conventionally in 99-finalize.rules).
inline constexpr char kRulesFileName[] = "10-recorder.rules";

struct RuleCheck {
  std::vector<RuleSpec> wanted;
  std::vector<RuleSpec> missing;  // wanted but not in the kernel (drift)
  int present = 0;                // wanted and found
  int extra = 0;                  // carry our key but are not wanted (stale)
  int foreign = 0;                // other keys or no key: never touched
  bool immutable = false;         // kernel locked: nothing can change until reboot
  bool ok() const { return missing.empty() && extra == 0; }
};

struct InstallReport {
  int added = 0;                  // rules added now
  int already = 0;                // wanted rules that were already there
  bool immutable = false;         // enabled == 2: nothing was changed in the kernel
  std::vector<RuleSpec> missing;  // still missing after Install (immutable mode)
  std::string rules_file;         // rules.d file written (immutable mode), if any
  std::string message;            // human summary, e.g. "restart/reboot needed"
};

class RuleManager {
 public:
  // Uses the netlink control, opened lazily on first use.
  explicit RuleManager(config::RecorderConfig config);
  // Uses `control` (not owned; must outlive the manager). For tests.
  RuleManager(config::RecorderConfig config, AuditControl* control);
  // Wants `wanted` instead of DeriveRules(config) (live recording with
  // filters: DeriveRulesWithFilters), so Check and Restore compare against
  // that set. `control`: null for the netlink one.
  RuleManager(config::RecorderConfig config, std::vector<RuleSpec> wanted, AuditControl* control);
  ~RuleManager();
  RuleManager(const RuleManager&) = delete;
  RuleManager& operator=(const RuleManager&) = delete;

  const std::vector<RuleSpec>& wanted() const { return wanted_; }
  const config::RecorderConfig& config() const { return config_; }

  // Where Install() writes the rules file when the kernel is immutable.
  // Default /etc/audit/rules.d; tests point it into a temp dir.
  void set_rules_dir(std::string dir) { rules_dir_ = std::move(dir); }

  // Adds every wanted rule not yet in the kernel (idempotent). Also sets
  // backlog_limit (and backlog_wait_time when configured). Immutable
  // kernel: not an error — nothing is changed, the report lists what is
  // missing, says a reboot is needed, and the rules file is written to
  // rules_dir so the next boot loads them.
  Result<InstallReport> Install();
  // A reload: the kernel goes from the rules `previous` installed (same
  // key) to wanted(), and this manager takes over what `previous` saved of
  // the kernel's settings (Remove puts them back). Make before break, so
  // that no event both sets record goes unrecorded meanwhile: a copy of
  // each wanted "always" rule that differs only by a condition every
  // process meets (pid!=0) is added first, at the end of the list; then
  // our rules go, except the "never" rules still wanted; the wanted rules
  // are added (the new "never" rules before the "always" ones, as the
  // exit list is first-match-wins); then the copies go. Immutable kernel:
  // as Install.
  Result<InstallReport> TakeOver(RuleManager* previous);
  // Deletes every kernel rule carrying exactly our key; others stay. If
  // this manager's Install() raised backlog_limit / changed
  // backlog_wait_time, they are put back as they were.
  // Immutable kernel: error (the kernel refuses).
  Status Remove();
  // Compares the kernel's rules with the wanted ones.
  Result<RuleCheck> Check();
  // Re-adds the missing wanted rules (after drift). Same as Install's
  // rule part; fails on an immutable kernel.
  Status Restore();

  Result<AuditStatus> ReadStatus();
  Status SetBacklog(uint32_t limit, std::optional<uint32_t> wait_time_ticks = std::nullopt);
  // 0 or 1. 2 (immutable) is refused: the recorder never locks a machine.
  Status SetEnabled(int enabled);

 private:
  Result<AuditControl*> Control();
  Status AddMissing(const std::vector<KernelRule>& kernel, int* added, int* already);

  config::RecorderConfig config_;
  std::vector<RuleSpec> wanted_;
  std::string rules_dir_ = "/etc/audit/rules.d";
  AuditControl* control_ = nullptr;  // borrowed or owned_.get()
  std::unique_ptr<AuditControl> owned_;
  // Kernel settings Install() changed, to put back on Remove().
  std::optional<uint32_t> saved_backlog_limit_;
  std::optional<uint32_t> saved_backlog_wait_time_;
};

}  // namespace recorder::rules
