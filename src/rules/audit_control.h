// The kernel audit control channel behind an interface, so the rule
// lifecycle is testable without touching the machine (FakeAuditControl)
// and immutable mode (enabled == 2) can be simulated — the real machine is
// never locked by a test.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rules/audit_rule.h"
#include "util/status.h"

namespace recorder::rules {

// The kernel's audit status (AUDIT_GET), as `auditctl -s` shows it.
struct AuditStatus {
  uint32_t enabled = 0;  // 0 off, 1 on, 2 immutable (locked until reboot)
  uint32_t failure = 0;
  uint32_t pid = 0;  // the unicast reader (auditd or us); 0 = none
  uint32_t rate_limit = 0;
  uint32_t backlog_limit = 0;
  uint32_t lost = 0;
  uint32_t backlog = 0;
  uint32_t backlog_wait_time = 0;
  bool immutable() const { return enabled == 2; }
};

class AuditControl {
 public:
  virtual ~AuditControl() = default;

  virtual Result<AuditStatus> ReadStatus() = 0;
  // Every rule loaded in the kernel (all lists, all keys), in kernel order.
  virtual Result<std::vector<KernelRule>> ListRules() = 0;
  virtual Status AddRule(const KernelRule& rule) = 0;
  // Deletes the rule identical to `rule` (the kernel matches the whole rule).
  virtual Status DeleteRule(const KernelRule& rule) = 0;
  // 0 or 1 only: callers never lock the machine (2 is rejected upstream).
  virtual Status SetEnabled(uint32_t enabled) = 0;
  virtual Status SetBacklogLimit(uint32_t limit) = 0;
  virtual Status SetBacklogWaitTime(uint32_t ticks) = 0;
};

// The real one: an AUDIT netlink socket (needs CAP_AUDIT_CONTROL). Opening
// can fail (no audit in the kernel, not root): the error says which.
Result<std::unique_ptr<AuditControl>> OpenNetlinkAuditControl();

// An in-memory kernel for tests: rules are kept in order, deletions match
// the whole rule, and `status` is whatever the test sets (enabled = 2
// makes every change fail with EPERM like the real kernel).
class FakeAuditControl : public AuditControl {
 public:
  AuditStatus status;
  std::vector<KernelRule> rules;
  int add_calls = 0;
  int delete_calls = 0;

  Result<AuditStatus> ReadStatus() override { return status; }
  Result<std::vector<KernelRule>> ListRules() override { return rules; }
  Status AddRule(const KernelRule& rule) override;
  Status DeleteRule(const KernelRule& rule) override;
  Status SetEnabled(uint32_t enabled) override;
  Status SetBacklogLimit(uint32_t limit) override;
  Status SetBacklogWaitTime(uint32_t ticks) override;
};

}  // namespace recorder::rules
