#include "daemon/rule_keeper.h"

#include <spdlog/spdlog.h>

namespace recorder::daemon {

RuleKeeper::RuleKeeper(const config::RecorderConfig& config,
                       const std::shared_ptr<const filter::CompiledFilters>& filters,
                       rules::AuditControl* control)
    : control_(control) {
  // In the body: NewManager sets pushdown_, declared after manager_.
  manager_ = NewManager(config, filters);
}

RuleKeeper::~RuleKeeper() {
  if (!installed_) return;
  const std::string key = manager_->config().rule_key;
  Status removed = Remove();
  if (!removed.ok())
    spdlog::error(
        "the recorder's audit rules may still be loaded; 'auditctl -D -k {}' removes them", key);
}

std::unique_ptr<rules::RuleManager> RuleKeeper::NewManager(
    const config::RecorderConfig& config,
    const std::shared_ptr<const filter::CompiledFilters>& filters) {
  rules::RecorderRules derived = rules::RecorderRulesFor(config, filters.get());
  pushdown_ = std::move(derived.pushdown);
  return std::make_unique<rules::RuleManager>(config, std::move(derived.rules), control_);
}

Status RuleKeeper::Install() {
  Result<rules::InstallReport> report = manager_->Install();
  if (!report.ok())
    return Status::Errorf("installing audit rules failed: {}", report.status().message());
  installed_ = true;
  state_.immutable = report->immutable;
  state_.message = report->message;
  state_.present = report->added + report->already;
  state_.missing = static_cast<int>(report->missing.size());
  state_.pushed_down = static_cast<int>(pushdown_.rules.size());
  if (report->immutable) {
    spdlog::warn("audit rules are immutable (-e 2): {}", report->message);
  } else {
    spdlog::info("audit rules with key '{}': {} added, {} already present ({} from the filters)",
                 manager_->config().rule_key, report->added, report->already,
                 pushdown_.rules.size());
  }
  return Status::Ok();
}

void RuleKeeper::CheckAndRepair(int64_t now_wall) {
  Result<rules::RuleCheck> check = manager_->Check();
  if (!check.ok()) {
    spdlog::warn("checking the audit rules failed: {}", check.status().message());
    return;
  }
  state_.present = check->present;
  state_.missing = static_cast<int>(check->missing.size());
  state_.immutable = check->immutable;
  if (check->missing.empty()) return;
  state_.last_drift_ms = now_wall;
  spdlog::warn("{} of the recorder's audit rules were removed from the kernel (drift)",
               check->missing.size());
  if (check->immutable) return;
  Status restored = manager_->Restore();
  if (!restored.ok()) {
    spdlog::error("restoring the audit rules failed: {}", restored.message());
    return;
  }
  ++state_.restores;
  state_.present += state_.missing;
  state_.missing = 0;
  spdlog::warn("audit rules restored");
}

void RuleKeeper::Replace(const config::RecorderConfig& next,
                         const std::shared_ptr<const filter::CompiledFilters>& filters) {
  // NewManager sets pushdown_ to the new set's plan.
  std::unique_ptr<rules::RuleManager> manager = NewManager(next, filters);
  // The same rules and kernel settings (most reloads): the kernel is left
  // alone, so no event falls into a gap between removing and adding, and
  // the manager that saved the kernel's settings stays to put them back.
  const config::RecorderConfig& now = manager_->config();
  if (installed_ && manager->wanted() == manager_->wanted() &&
      next.backlog_limit == now.backlog_limit && next.backlog_wait_time == now.backlog_wait_time) {
    spdlog::info("reload: the audit rules are unchanged");
    state_.pushed_down = static_cast<int>(pushdown_.rules.size());
    return;
  }
  // Not installed (a failed start or Remove): a plain install.
  Result<rules::InstallReport> report =
      installed_ ? manager->TakeOver(manager_.get()) : manager->Install();
  manager_ = std::move(manager);
  // From here on the shutdown removes the new set, even a partly
  // installed one.
  installed_ = true;
  if (!report.ok()) {
    spdlog::error("reload: installing the new rules failed: {}", report.status().message());
    return;
  }
  state_.present = report->added + report->already;
  state_.missing = static_cast<int>(report->missing.size());
  state_.pushed_down = static_cast<int>(pushdown_.rules.size());
  spdlog::info("reload: audit rules replaced ({} added, {} from the filters)", report->added,
               pushdown_.rules.size());
}

Status RuleKeeper::Remove() {
  if (!installed_) return Status::Ok();
  installed_ = false;
  Status removed = manager_->Remove();
  if (!removed.ok()) {
    spdlog::error("removing the recorder's audit rules failed: {}", removed.message());
  } else {
    spdlog::info("audit rules with key '{}' removed", manager_->config().rule_key);
  }
  return removed;
}

}  // namespace recorder::daemon
