// The recorder's audit rules for exactly as long as it runs: installed at
// start, checked for drift (someone ran `auditctl -D`) and repaired,
// replaced on a reload, removed on every way out — Remove() in the
// shutdown, the destructor when an exception skipped it.
//
// Not thread-safe: the event loop's thread owns it.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.h"
#include "daemon/status_report.h"
#include "rules/audit_control.h"
#include "rules/rule_manager.h"
#include "util/status.h"

namespace recorder::daemon {

class RuleKeeper {
 public:
  // `control`: the kernel when null; a fake kernel for tests (borrowed).
  explicit RuleKeeper(const config::RecorderConfig& config, rules::AuditControl* control = nullptr);
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
  // A reload: the old set goes, the set `next` wants comes in (same key).
  // Failures are logged; the old rules are not put back.
  void Replace(const config::RecorderConfig& next);
  // Deletes every rule with our key; idempotent. Logs the outcome.
  Status Remove();

  const RuleState& state() const { return state_; }

 private:
  std::unique_ptr<rules::RuleManager> NewManager(const config::RecorderConfig& config) const;

  rules::AuditControl* control_;
  std::unique_ptr<rules::RuleManager> manager_;
  bool installed_ = false;  // rules of manager_ may be in the kernel
  RuleState state_;
};

}  // namespace recorder::daemon
