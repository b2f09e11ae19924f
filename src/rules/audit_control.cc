#include "rules/audit_control.h"

#include <libaudit.h>
#include <linux/audit.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace recorder::rules {
namespace {

// Netlink control socket to the kernel's audit subsystem. Every request
// waits for its reply, so calls are synchronous and replies never mix.
class NetlinkAuditControl : public AuditControl {
 public:
  explicit NetlinkAuditControl(int fd) : fd_(fd) {}
  ~NetlinkAuditControl() override { audit_close(fd_); }
  NetlinkAuditControl(const NetlinkAuditControl&) = delete;
  NetlinkAuditControl& operator=(const NetlinkAuditControl&) = delete;

  Result<AuditStatus> ReadStatus() override {
    if (int rc = audit_request_status(fd_); rc < 0)
      return Status::FromErrno(rc, "audit status request failed");
    for (int tries = 0; tries < 64; ++tries) {
      audit_reply reply{};
      const int rc = audit_get_reply(fd_, &reply, GET_REPLY_BLOCKING, 0);
      if (rc < 0) return Status::FromErrno(rc, "reading the audit status failed");
      if (reply.type == NLMSG_ERROR && reply.error != nullptr && reply.error->error != 0)
        return Status::FromErrno(reply.error->error, "audit status: kernel error");
      if (reply.type != AUDIT_GET || reply.status == nullptr) continue;
      AuditStatus status;
      status.enabled = reply.status->enabled;
      status.failure = reply.status->failure;
      status.pid = reply.status->pid;
      status.rate_limit = reply.status->rate_limit;
      status.backlog_limit = reply.status->backlog_limit;
      status.lost = reply.status->lost;
      status.backlog = reply.status->backlog;
      status.backlog_wait_time = reply.status->backlog_wait_time;
      return status;
    }
    return Status::Error(StatusCode::kUnavailable,
                         "audit status: no AUDIT_GET reply from the kernel");
  }

  Result<std::vector<KernelRule>> ListRules() override {
    if (int rc = audit_request_rules_list_data(fd_); rc < 0)
      return Status::FromErrno(rc, "audit rule list request failed");
    std::vector<KernelRule> rules;
    for (;;) {
      audit_reply reply{};
      const int rc = audit_get_reply(fd_, &reply, GET_REPLY_BLOCKING, 0);
      if (rc < 0) return Status::FromErrno(rc, "listing audit rules failed");
      if (reply.type == NLMSG_DONE) break;
      if (reply.type == NLMSG_ERROR) {
        if (reply.error != nullptr && reply.error->error != 0)
          return Status::FromErrno(reply.error->error, "listing audit rules: kernel error");
        continue;  // an ack
      }
      if (reply.type != AUDIT_LIST_RULES || reply.ruledata == nullptr) continue;
      // The reply points into libaudit's receive buffer: copy it out.
      const auto* begin = reinterpret_cast<const uint8_t*>(reply.ruledata);
      rules.emplace_back(
          std::vector<uint8_t>(begin, begin + sizeof(audit_rule_data) + reply.ruledata->buflen));
    }
    return rules;
  }

  Status AddRule(const KernelRule& rule) override { return SendRule(rule, /*add=*/true); }
  Status DeleteRule(const KernelRule& rule) override { return SendRule(rule, /*add=*/false); }

  Status SetEnabled(uint32_t enabled) override {
    if (enabled > 1)
      return Status::Error(StatusCode::kInvalid, "refusing to set audit enabled=2 (immutable)");
    if (int rc = audit_set_enabled(fd_, enabled); rc < 0)
      return Status::FromErrno(rc, fmt::format("setting audit enabled={} failed", enabled));
    return Status::Ok();
  }
  Status SetBacklogLimit(uint32_t limit) override {
    if (int rc = audit_set_backlog_limit(fd_, limit); rc < 0)
      return Status::FromErrno(rc, fmt::format("setting audit backlog_limit={} failed", limit));
    return Status::Ok();
  }
  Status SetBacklogWaitTime(uint32_t ticks) override {
    if (int rc = audit_set_backlog_wait_time(fd_, ticks); rc < 0)
      return Status::FromErrno(rc, fmt::format("setting audit backlog_wait_time={} failed", ticks));
    return Status::Ok();
  }

 private:
  Status SendRule(const KernelRule& rule, bool add) {
    // libaudit wants a mutable, suitably aligned struct.
    std::vector<uint32_t> aligned((rule.bytes().size() + 3) / 4);
    std::memcpy(aligned.data(), rule.bytes().data(), rule.bytes().size());
    auto* data = reinterpret_cast<audit_rule_data*>(aligned.data());
    const int flags = static_cast<int>(data->flags);
    const int action = static_cast<int>(data->action);
    const int rc = add ? audit_add_rule_data(fd_, data, flags, action)
                       : audit_delete_rule_data(fd_, data, flags, action);
    if (rc < 0)
      return Status::FromErrno(rc, add ? "adding audit rule failed" : "deleting audit rule failed");
    return Status::Ok();
  }

  int fd_;
};

}  // namespace

Result<std::unique_ptr<AuditControl>> OpenNetlinkAuditControl() {
  // libaudit would otherwise print its own copy of every error we return.
  set_aumessage_mode(MSG_QUIET, DBG_NO);
  const int fd = audit_open();
  if (fd < 0) {
    const int error = errno;
    return Status::Errorf(
        StatusCodeFromErrno(error),
        "cannot open the audit netlink socket: {} (needs root/CAP_AUDIT_CONTROL and a kernel "
        "with audit support)",
        std::strerror(error));
  }
  return std::unique_ptr<AuditControl>(new NetlinkAuditControl(fd));
}

Status FakeAuditControl::AddRule(const KernelRule& rule) {
  ++add_calls;
  if (status.immutable()) return Status::FromErrno(EPERM, "adding audit rule failed");
  for (const KernelRule& existing : rules)
    if (existing.SameRule(rule)) return Status::FromErrno(EEXIST, "adding audit rule failed");
  rules.push_back(rule);
  return Status::Ok();
}

Status FakeAuditControl::DeleteRule(const KernelRule& rule) {
  ++delete_calls;
  if (status.immutable()) return Status::FromErrno(EPERM, "deleting audit rule failed");
  for (auto it = rules.begin(); it != rules.end(); ++it) {
    if (it->SameRule(rule)) {
      rules.erase(it);
      return Status::Ok();
    }
  }
  return Status::FromErrno(ENOENT, "deleting audit rule failed");
}

Status FakeAuditControl::SetEnabled(uint32_t enabled) {
  if (status.immutable()) return Status::FromErrno(EPERM, "setting audit enabled failed");
  if (enabled > 1)
    return Status::Error(StatusCode::kInvalid, "refusing to set audit enabled=2 (immutable)");
  status.enabled = enabled;
  return Status::Ok();
}

Status FakeAuditControl::SetBacklogLimit(uint32_t limit) {
  if (status.immutable()) return Status::FromErrno(EPERM, "setting backlog_limit failed");
  status.backlog_limit = limit;
  return Status::Ok();
}

Status FakeAuditControl::SetBacklogWaitTime(uint32_t ticks) {
  if (status.immutable()) return Status::FromErrno(EPERM, "setting backlog_wait_time failed");
  status.backlog_wait_time = ticks;
  return Status::Ok();
}

}  // namespace recorder::rules
