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

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "audit_state_guard.h"
#include "filter_support.h"
#include "recorder_cli.h"
#include "rules/recorder_rules.h"
#include "rules/rule_manager.h"
#include "rules_support.h"
#include "run_command.h"
#include "temp_dir.h"

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

// An exclusion of `agent` (the kernel refuses an exe= rule on a path that
// does not exist: the tests make it).
std::string AgentFilters(const std::string& agent) {
  return R"({"process": {"exclude": [{"exe": ")" + agent + R"("}]}})";
}

std::string MakeAgent(const TempDir& dir) {
  const std::string agent = dir.File("agent");
  std::ofstream(agent) << "#!/bin/sh\n";
  return agent;
}

// The line numbers in `auditctl -l` of our never and always rules: every
// never rule before the first always rule.
bool NeverRulesFirst(const std::string& key) {
  std::istringstream in(RunCapture("auditctl -l -k " + key));
  bool seen_always = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("-a always,", 0) == 0) seen_always = true;
    if (line.rfind("-a never,", 0) == 0 && seen_always) return false;
  }
  return true;
}

// A reload's switch between rule sets with the real kernel: the bridge
// copies (pid!=0) are accepted and gone afterwards, the new never rules
// are ahead of the always rules, nothing else is left.
TEST(RulesLiveTest, TakeOverSwitchesSetsInOrder) {
  AuditStateGuard guard(kRulesTestKey);
  REQUIRE_LIVE(guard);
  const config::RecorderConfig config = RulesTestConfig();
  TempDir dir("rules-takeover");
  const std::string agent = MakeAgent(dir);
  RuleManager plain(config);
  ASSERT_TRUE(plain.Install().ok());
  const RecorderRules filtered =
      RecorderRulesFor(config, filter::MustCompile(AgentFilters(agent)).get());
  ASSERT_FALSE(filtered.pushdown.rules.empty());
  RuleManager with_filters(config, filtered.rules, nullptr);
  Result<InstallReport> report = with_filters.TakeOver(&plain);
  ASSERT_TRUE(report.ok()) << report.status().message();
  Result<RuleCheck> check = with_filters.Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok()) << check->missing.size() << " missing, " << check->extra << " extra";
  EXPECT_EQ(ListedRules(kRulesTestKey), filtered.rules.size());
  const std::string listing = RunCapture(std::string("auditctl -l -k ") + kRulesTestKey);
  EXPECT_EQ(listing.find("pid!=0"), std::string::npos) << listing;
  EXPECT_NE(listing.find("exe=" + agent), std::string::npos) << listing;
  EXPECT_TRUE(NeverRulesFirst(kRulesTestKey)) << listing;

  // And back to the plain set.
  RuleManager back(config);
  ASSERT_TRUE(back.TakeOver(&with_filters).ok());
  EXPECT_EQ(ListedRules(kRulesTestKey), back.wanted().size());
  EXPECT_EQ(RunCapture(std::string("auditctl -l -k ") + kRulesTestKey).find(agent),
            std::string::npos);
  ASSERT_TRUE(back.Remove().ok());
}

// `recorder status` with no recorder running compares the kernel with the
// set a recorder would install with the configuration's filters, not the
// set without them.
TEST(RulesLiveTest, StoppedStatusComparesWithTheFilteredSet) {
  AuditStateGuard guard(kRulesTestKey);
  REQUIRE_LIVE(guard);
  TempDir dir("rules-status");
  dir.Write("filters.json", AgentFilters(MakeAgent(dir)));
  // A recorder.json, so that `status` logs no warning into its JSON.
  dir.Write("recorder.json", "{}");
  config::RecorderConfig config = config::DefaultConfig(dir.path());
  config.rule_key = kRulesTestKey;
  config.recorder_exe = RECORDER_BINARY;
  config.backlog_limit = 64;
  Result<RecorderRules> filtered = LoadRecorderRules(config);
  ASSERT_TRUE(filtered.ok()) << filtered.status().message();
  ASSERT_FALSE(filtered->pushdown.rules.empty());
  const std::string args = "status --json --config " + dir.path() + " --state-dir " +
                           dir.File("state") + " --rule-key " + kRulesTestKey + " 2>/dev/null";
  auto rules_status = [&] {
    RecorderRun run = RunRecorder(args);
    nlohmann::json status = nlohmann::json::parse(run.text, nullptr, false);
    return status.is_object() && status.contains("rules") ? status["rules"] : nlohmann::json();
  };

  // Only the plain set in the kernel: the pushed-down rules are missing.
  RuleManager plain(config);
  ASSERT_TRUE(plain.Install().ok());
  nlohmann::json rules = rules_status();
  ASSERT_TRUE(rules.is_object()) << RunRecorder(args).text;
  EXPECT_EQ(rules.value("missing", size_t{0}), filtered->pushdown.rules.size()) << rules.dump();
  EXPECT_EQ(rules.value("pushed_down", size_t{0}), filtered->pushdown.rules.size());
  ASSERT_TRUE(plain.Remove().ok());

  // The filtered set: all of it installed, none missing.
  RuleManager with_filters(config, filtered->rules, nullptr);
  ASSERT_TRUE(with_filters.Install().ok());
  rules = rules_status();
  ASSERT_TRUE(rules.is_object()) << RunRecorder(args).text;
  EXPECT_EQ(rules.value("missing", size_t{99}), 0u) << rules.dump();
  EXPECT_EQ(rules.value("installed", size_t{0}), filtered->rules.size()) << rules.dump();
  ASSERT_TRUE(with_filters.Remove().ok());
}

}  // namespace
}  // namespace recorder::rules
