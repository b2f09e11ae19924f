// Status codes from the real kernel: the errnos the audit subsystem
// answers with (EEXIST for a rule that is already loaded or for a second
// audit daemon, ENOENT for a rule that is not there) reach callers as
// codes, which is what the netlink source and the rule manager branch on.
// Needs root; the guard removes the test's rules and restores the audit
// state even when an assertion fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "live_support.h"
#include "rules/audit_control.h"
#include "rules/audit_rule.h"
#include "source/netlink_source.h"
#include "util/status.h"

namespace recorder {

namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-statustest";

TEST(LiveStatusCodes, KernelRefusesADuplicateRuleWithExists) {
  std::string skip = LiveSkipReason(kTestKey, /*needs_free_pid=*/false);
  if (!skip.empty()) GTEST_SKIP() << skip;
  AuditStateGuard guard(kTestKey);
  Result<std::unique_ptr<rules::AuditControl>> control = rules::OpenNetlinkAuditControl();
  ASSERT_TRUE(control.ok()) << control.status().message();
  rules::RuleSpec spec;
  spec.arch = "b64";
  spec.syscalls = {"sethostname"};
  spec.key = kTestKey;
  Result<rules::KernelRule> rule = rules::BuildKernelRule(spec);
  ASSERT_TRUE(rule.ok()) << rule.status().message();

  ASSERT_TRUE((*control)->AddRule(*rule).ok());
  ASSERT_EQ(CountRulesWithKey(kTestKey), 1);
  Status again = (*control)->AddRule(*rule);
  EXPECT_EQ(again.code(), StatusCode::kExists) << again.message();
  EXPECT_EQ(again.message(), "adding audit rule failed: File exists");
  EXPECT_EQ(CountRulesWithKey(kTestKey), 1);

  ASSERT_TRUE((*control)->DeleteRule(*rule).ok());
  Status gone = (*control)->DeleteRule(*rule);
  EXPECT_EQ(gone.code(), StatusCode::kNotFound) << gone.message();
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0);
}

// The kernel answers EEXIST to a second registration while a healthy
// audit daemon holds the connection, even from the same process; the
// source turns that code (not its text) into "another audit daemon
// holds the kernel audit connection" with kBusy.
TEST(LiveStatusCodes, SecondUnicastRegistrationIsBusy) {
  std::string skip = LiveSkipReason(kTestKey, /*needs_free_pid=*/true);
  if (!skip.empty()) GTEST_SKIP() << skip;
  AuditStateGuard guard(kTestKey);
  NetlinkOptions options;
  options.mode = NetlinkMode::kUnicast;
  options.enable = false;  // the enabled flag is not what this test is about
  Result<std::unique_ptr<NetlinkSource>> first = NetlinkSource::Open(options);
  ASSERT_TRUE(first.ok()) << first.status().message();
  const uint32_t self = static_cast<uint32_t>(getpid());
  ASSERT_EQ(ReadAuditStatus()->pid, self);

  Result<std::unique_ptr<NetlinkSource>> second = NetlinkSource::Open(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy) << second.status().message();
  EXPECT_NE(second.status().message().find("(EEXIST)"), std::string::npos)
      << second.status().message();
  // The refused source undid nothing of the first one's.
  EXPECT_EQ(ReadAuditStatus()->pid, self);
  ASSERT_TRUE((*first)->Close().ok());
  EXPECT_EQ(ReadAuditStatus()->pid, guard.before().pid);
}

}  // namespace
}  // namespace recorder
