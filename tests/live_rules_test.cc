// Audit rules lifecycle against the REAL kernel, as root: install and
// remove touch only our key (recorder-rulestest), drift is found and
// repaired, the status and the enabled flag are read and set. The same
// lifecycle against a fake kernel (no root) is in rules_test.cc.
//
// Skips (saying why) without root, kernel audit or auditctl, and when the
// kernel is immutable. AuditStateGuard (audit_state_guard.h) restores the
// audit state as found even when an assertion fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "audit_state_guard.h"
#include "rules/rule_manager.h"
#include "rules_support.h"
#include "run_command.h"

namespace recorder::rules {
namespace {

using live_test::AuditStateGuard;
using live_test::kForeignKey;

size_t ListedRules(const std::string& key) {
  const std::string listing = RunCapture("auditctl -l -k " + key);
  size_t n = 0;
  std::istringstream in(listing);
  for (std::string line; std::getline(in, line);) n += line.rfind("-a ", 0) == 0;
  return n;
}

#define REQUIRE_LIVE(guard)                                                         \
  if (geteuid() != 0) GTEST_SKIP() << "live audit tests need root";                 \
  if (!(guard).usable()) GTEST_SKIP() << "audit not available or kernel immutable"; \
  if (RunCapture("command -v auditctl").empty()) GTEST_SKIP() << "auditctl not installed"

TEST(RulesLiveTest, InstallAndRemoveTouchOnlyOurKey) {
  AuditStateGuard guard(kRulesTestKey);
  REQUIRE_LIVE(guard);
  RunCapture(std::string("auditctl -a always,exit -F arch=b64 -S chdir -k ") + kForeignKey);
  ASSERT_EQ(ListedRules(kForeignKey), 1u);

  RuleManager manager(RulesTestConfig());
  Result<InstallReport> report = manager.Install();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_FALSE(report->immutable);
  EXPECT_EQ(ListedRules(kRulesTestKey), manager.wanted().size());
  const std::string listing = RunCapture(std::string("auditctl -l -k ") + kRulesTestKey);
  EXPECT_NE(listing.find("-F exe=" RECORDER_BINARY), std::string::npos) << listing;
  EXPECT_NE(listing.find("a2&0x243"), std::string::npos) << listing;
  Result<RuleCheck> check = manager.Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok()) << check->missing.size() << " missing, " << check->extra << " extra";
  EXPECT_GE(check->foreign, 1);

  Result<InstallReport> again = manager.Install();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 0);

  ASSERT_TRUE(manager.Remove().ok());
  EXPECT_EQ(ListedRules(kRulesTestKey), 0u);
  EXPECT_EQ(ListedRules(kForeignKey), 1u);
}

TEST(RulesLiveTest, DriftIsDetectedAndRestored) {
  AuditStateGuard guard(kRulesTestKey);
  REQUIRE_LIVE(guard);
  RuleManager manager(RulesTestConfig());
  ASSERT_TRUE(manager.Install().ok());
  // Somebody deletes one of our rules...
  std::string line = manager.wanted()[1].ToAuditctl();
  line.replace(0, 2, "-d");
  RunCapture("auditctl " + line);
  Result<RuleCheck> check = manager.Check();
  ASSERT_TRUE(check.ok());
  ASSERT_EQ(check->missing.size(), 1u);
  EXPECT_EQ(check->missing[0], manager.wanted()[1]);
  ASSERT_TRUE(manager.Restore().ok());
  EXPECT_TRUE(manager.Check()->ok());
  // ... or all of them.
  RunCapture(std::string("auditctl -D -k ") + kRulesTestKey);
  EXPECT_EQ(manager.Check()->missing.size(), manager.wanted().size());
  ASSERT_TRUE(manager.Restore().ok());
  EXPECT_TRUE(manager.Check()->ok());
  EXPECT_EQ(ListedRules(kRulesTestKey), manager.wanted().size());
  ASSERT_TRUE(manager.Remove().ok());
}

TEST(RulesLiveTest, StatusAndEnabledFlag) {
  AuditStateGuard guard(kRulesTestKey);
  REQUIRE_LIVE(guard);
  RuleManager manager(RulesTestConfig());
  Result<AuditStatus> status = manager.ReadStatus();
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_EQ(status->enabled, guard.before().enabled);
  EXPECT_GT(status->backlog_limit, 0u);
  // Setting the current value succeeds and leaves it as it was.
  ASSERT_TRUE(manager.SetEnabled(static_cast<int>(guard.before().enabled)).ok());
  EXPECT_EQ(manager.ReadStatus()->enabled, guard.before().enabled);
  // The other value round-trips too, when no audit daemon is recording
  // (turning auditing off under one would lose its records); the guard
  // puts the flag back however the test ends.
  if (guard.before().pid == 0 && !AuditdRunning()) {
    const int other = guard.before().enabled == 1 ? 0 : 1;
    ASSERT_TRUE(manager.SetEnabled(other).ok());
    EXPECT_EQ(manager.ReadStatus()->enabled, static_cast<uint32_t>(other));
    ASSERT_TRUE(manager.SetEnabled(static_cast<int>(guard.before().enabled)).ok());
  }
  EXPECT_FALSE(manager.SetEnabled(2).ok());
  EXPECT_EQ(manager.ReadStatus()->enabled, guard.before().enabled);
}

}  // namespace
}  // namespace recorder::rules
