// Audit rules lifecycle against FakeAuditControl: no root needed, and
// immutable mode is simulated there, never done to the machine. The same
// lifecycle against the real kernel is in live_rules_test.cc.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rules/rule_manager.h"
#include "rules_support.h"
#include "temp_dir.h"

namespace recorder::rules {
namespace {

constexpr char kForeignKey[] = "recorder-test-foreign";

size_t CountContaining(const std::vector<RuleSpec>& rules, std::string_view syscall) {
  size_t n = 0;
  for (const RuleSpec& r : rules)
    for (const std::string& s : r.syscalls)
      if (s == syscall) ++n;
  return n;
}

TEST(RulesTest, DerivedRulesCarryTheKeyAndStartWithTheSelfExclusion) {
  const std::vector<RuleSpec> rules = DeriveRules(RulesTestConfig());
  ASSERT_FALSE(rules.empty());
  for (const RuleSpec& r : rules) EXPECT_EQ(r.key, kRulesTestKey) << r.ToAuditctl();
  EXPECT_EQ(rules.front().action, "never");
  EXPECT_EQ(rules.front().fields, std::vector<std::string>{std::string("exe=") + RECORDER_BINARY});
  EXPECT_EQ(CountContaining(rules, "execve"), 2u);  // b64 and b32
  EXPECT_EQ(CountContaining(rules, "openat"), 2u);
  EXPECT_EQ(CountContaining(rules, "connect"), 2u);
  EXPECT_EQ(CountContaining(rules, "setresuid"), 2u);
  EXPECT_EQ(CountContaining(rules, "finit_module"), 2u);
  EXPECT_EQ(CountContaining(rules, "socketcall"), 1u);  // i386 only
}

TEST(RulesTest, EventTypesSwitchTheirRules) {
  config::RecorderConfig c = RulesTestConfig();
  c.monitor_files = false;
  c.monitor_network = false;
  c.monitor_security = false;
  const std::vector<RuleSpec> rules = DeriveRules(c);
  EXPECT_EQ(CountContaining(rules, "openat"), 0u);
  EXPECT_EQ(CountContaining(rules, "connect"), 0u);
  EXPECT_EQ(CountContaining(rules, "setuid"), 0u);
  EXPECT_EQ(CountContaining(rules, "init_module"), 0u);
  EXPECT_EQ(CountContaining(rules, "execve"), 2u);  // processes: always
  c.monitor_image_load = true;
  EXPECT_EQ(CountContaining(DeriveRules(c), "init_module"), 2u);
  c.monitor_files = true;
  c.watched_paths = {"/etc", "/home"};
  const std::vector<RuleSpec> scoped = DeriveRules(c);
  EXPECT_EQ(CountContaining(scoped, "openat"), 4u);
  bool saw_dir = false;
  for (const RuleSpec& r : scoped)
    for (const std::string& f : r.fields) saw_dir |= f == "dir=/home";
  EXPECT_TRUE(saw_dir);
}

TEST(RulesTest, RulesRenderAsAuditctlLinesWithoutEnable) {
  const config::RecorderConfig c = RulesTestConfig();
  const std::vector<RuleSpec> rules = DeriveRules(c);
  EXPECT_EQ(rules[1].ToAuditctl(),
            "-a always,exit -F arch=b64 -S execve -S execveat -k " + std::string(kRulesTestKey));
  const std::string file = RenderRulesFile(c, rules);
  EXPECT_NE(file.find("-b 64\n"), std::string::npos);
  EXPECT_EQ(file.find("\n-e"), std::string::npos);
  EXPECT_NE(file.find("-F a2&0x243 -F success=1"), std::string::npos);
  size_t lines = 0;
  std::istringstream in(file);
  for (std::string line; std::getline(in, line);) lines += line.rfind("-a ", 0) == 0;
  EXPECT_EQ(lines, rules.size());
}

TEST(RulesTest, KernelRuleKeepsKeysAndComparesWholeRules) {
  const std::vector<RuleSpec> rules = DeriveRules(RulesTestConfig());
  Result<KernelRule> a = BuildKernelRule(rules[1]);
  Result<KernelRule> a2 = BuildKernelRule(rules[1]);
  Result<KernelRule> b = BuildKernelRule(rules[2]);
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok()) << a.status().message();
  EXPECT_EQ(a->Keys(), std::vector<std::string>{kRulesTestKey});
  EXPECT_TRUE(a->HasKey(kRulesTestKey));
  EXPECT_FALSE(a->HasKey("recorder"));  // exact keys, not prefixes
  EXPECT_TRUE(a->SameRule(*a2));
  EXPECT_FALSE(a->SameRule(*b));
  RuleSpec bad = rules[1];
  bad.syscalls = {"no_such_syscall"};
  EXPECT_FALSE(BuildKernelRule(bad).ok());
}

TEST(RulesTest, FakeKernelInstallCheckRestoreRemove) {
  FakeAuditControl kernel;
  kernel.status.enabled = 1;
  kernel.status.backlog_limit = 64;
  RuleSpec foreign;
  foreign.arch = "b64";
  foreign.syscalls = {"chdir"};
  foreign.key = kForeignKey;
  kernel.rules.push_back(*BuildKernelRule(foreign));

  config::RecorderConfig c = RulesTestConfig();
  c.backlog_limit = 8192;
  c.backlog_wait_time = 1000;
  RuleManager manager(c, &kernel);
  Result<InstallReport> report = manager.Install();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->added, static_cast<int>(manager.wanted().size()));
  EXPECT_EQ(kernel.rules.size(), manager.wanted().size() + 1);
  EXPECT_EQ(kernel.status.backlog_limit, 8192u);
  EXPECT_EQ(kernel.status.backlog_wait_time, 1000u);

  Result<InstallReport> again = manager.Install();  // idempotent
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 0);
  EXPECT_EQ(kernel.rules.size(), manager.wanted().size() + 1);

  kernel.rules.erase(kernel.rules.begin() + 3);  // drift
  Result<RuleCheck> check = manager.Check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->missing.size(), 1u);
  EXPECT_EQ(check->missing[0], manager.wanted()[2]);
  EXPECT_EQ(check->foreign, 1);
  ASSERT_TRUE(manager.Restore().ok());
  EXPECT_TRUE(manager.Check()->ok());

  ASSERT_TRUE(manager.Remove().ok());
  ASSERT_EQ(kernel.rules.size(), 1u);
  EXPECT_TRUE(kernel.rules[0].HasKey(kForeignKey));
  EXPECT_EQ(kernel.status.backlog_limit, 64u);  // put back
}

TEST(RulesTest, ImmutableKernelIsReportedNotAnErrorAndRulesGoToRulesD) {
  FakeAuditControl kernel;
  kernel.status.enabled = 2;  // simulated: never done to the real machine
  TempDir temp;
  const std::string dir = temp.path();
  RuleManager manager(RulesTestConfig(), &kernel);
  manager.set_rules_dir(dir);
  Result<InstallReport> report = manager.Install();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(report->immutable);
  EXPECT_EQ(report->missing.size(), manager.wanted().size());
  EXPECT_NE(report->message.find("reboot needed"), std::string::npos);
  EXPECT_EQ(kernel.add_calls, 0);
  EXPECT_EQ(report->rules_file, dir + "/10-recorder.rules");
  std::ifstream in(report->rules_file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), RenderRulesFile(manager.config(), manager.wanted()));
  EXPECT_TRUE(manager.Check()->immutable);
  EXPECT_FALSE(manager.Restore().ok());
  EXPECT_FALSE(manager.SetEnabled(2).ok());
}

TEST(RulesTest, SetEnabledRefusesImmutable) {
  FakeAuditControl kernel;
  RuleManager manager(RulesTestConfig(), &kernel);
  EXPECT_FALSE(manager.SetEnabled(2).ok());
  EXPECT_EQ(kernel.status.enabled, 0u);
  ASSERT_TRUE(manager.SetEnabled(1).ok());
  EXPECT_EQ(kernel.status.enabled, 1u);
}

}  // namespace
}  // namespace recorder::rules
