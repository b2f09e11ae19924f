// The recorder's audit rules for exactly as long as it runs: installed at
// start, checked for drift (someone ran `auditctl -D`) and repaired,
// replaced on a reload, removed on every way out — Remove() in the
// shutdown, the destructor when an exception skipped it.
//
// With filters, the set is DeriveRulesWithFilters' (rules/filter_pushdown.h):
// the exclusions an audit rule can express become "never" rules ahead of
// ours, and the drift check compares the kernel with that same set.
//
// Not thread-safe: the event loop's thread owns it.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.h"
#include "daemon/status_report.h"
#include "filter/compiled_filters.h"
#include "rules/audit_control.h"
#include "rules/filter_pushdown.h"
#include "rules/recorder_rules.h"
#include "rules/rule_manager.h"
#include "util/status.h"

namespace recorder::daemon {

class RuleKeeper {
 public:
  // `filters`: the loaded filters, or null (DeriveRules' set). `control`:
  // the kernel when null; a fake kernel for tests (borrowed).
  RuleKeeper(const config::RecorderConfig& config,
             const std::shared_ptr<const filter::CompiledFilters>& filters,
             rules::AuditControl* control = nullptr);
  // Removes the rules if Remove() did not; a failure is logged with the
  // command that clears them by hand.
  ~RuleKeeper();
  RuleKeeper(const RuleKeeper&) = delete;
  RuleKeeper& operator=(const RuleKeeper&) = delete;

  // Installs the wanted rules (an immutable kernel is reported, not an
  // error: see RuleManager::Install).
  Status Install();
  // The drift check, a periodic task: missing rules are logged and put
  // back unless the kernel is immutable. Trouble reading or repairing is
  // logged and retried on the next check; recording goes on.
  void CheckAndRepair(int64_t now_wall);
  // A reload: the set `next` and `filters` want replaces the old one (same
  // key) with no gap an event could fall into (RuleManager::TakeOver); the
  // same set leaves the kernel untouched. Failures are logged; the old
  // rules are not put back.
  void Replace(const config::RecorderConfig& next,
               const std::shared_ptr<const filter::CompiledFilters>& filters);
  // Deletes every rule with our key; idempotent. Logs the outcome.
  Status Remove();

  const RuleState& state() const { return state_; }
  // What of the filters is in the kernel's rules, and why the rest is not.
  const rules::PushdownPlan& pushdown() const { return pushdown_; }
  const std::vector<rules::RuleSpec>& wanted() const { return manager_->wanted(); }

 private:
  std::unique_ptr<rules::RuleManager> NewManager(
      const config::RecorderConfig& config,
      const std::shared_ptr<const filter::CompiledFilters>& filters);

  rules::AuditControl* control_;
  std::unique_ptr<rules::RuleManager> manager_;
  bool installed_ = false;        // rules of manager_ may be in the kernel
  rules::PushdownPlan pushdown_;  // of manager_'s set
  RuleState state_;
};

}  // namespace recorder::daemon
