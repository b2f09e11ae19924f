// Audit rules lifecycle. The first part runs against FakeAuditControl (no
// root needed; immutable mode is simulated there, never on the machine).
// The "Live" tests run as root against the real kernel with their own key
// (recorder-rulestest) and a guard that removes their rules and restores
// the enabled flag even when an assertion fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rules/rule_manager.h"

namespace recorder::rules {
namespace {

namespace fs = std::filesystem;

constexpr char kTestKey[] = "recorder-rulestest";
constexpr char kForeignKey[] = "recorder-test-foreign";

config::RecorderConfig TestConfig() {
  config::RecorderConfig c = config::DefaultConfig("/tmp");
  c.rule_key = kTestKey;
  c.recorder_exe = RECORDER_BINARY;
  // Low on purpose: Install only ever raises the backlog, so the live
  // tests leave the machine's backlog alone.
  c.backlog_limit = 64;
  return c;
}

size_t CountContaining(const std::vector<RuleSpec>& rules, std::string_view syscall) {
  size_t n = 0;
  for (const RuleSpec& r : rules)
    for (const std::string& s : r.syscalls)
      if (s == syscall) ++n;
  return n;
}

TEST(RulesTest, DerivedRulesCarryTheKeyAndStartWithTheSelfExclusion) {
  const std::vector<RuleSpec> rules = DeriveRules(TestConfig());
  ASSERT_FALSE(rules.empty());
  for (const RuleSpec& r : rules) EXPECT_EQ(r.key, kTestKey) << r.ToAuditctl();
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
  config::RecorderConfig c = TestConfig();
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
  const config::RecorderConfig c = TestConfig();
  const std::vector<RuleSpec> rules = DeriveRules(c);
  EXPECT_EQ(rules[1].ToAuditctl(),
            "-a always,exit -F arch=b64 -S execve -S execveat -k " + std::string(kTestKey));
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
  const std::vector<RuleSpec> rules = DeriveRules(TestConfig());
  Result<KernelRule> a = BuildKernelRule(rules[1]);
  Result<KernelRule> a2 = BuildKernelRule(rules[1]);
  Result<KernelRule> b = BuildKernelRule(rules[2]);
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok()) << a.status().message();
  EXPECT_EQ(a->Keys(), std::vector<std::string>{kTestKey});
  EXPECT_TRUE(a->HasKey(kTestKey));
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

  config::RecorderConfig c = TestConfig();
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
  char pattern[] = "/tmp/recorder-rules-test-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  RuleManager manager(TestConfig(), &kernel);
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
  fs::remove_all(dir);
}

TEST(RulesTest, SetEnabledRefusesImmutable) {
  FakeAuditControl kernel;
  RuleManager manager(TestConfig(), &kernel);
  EXPECT_FALSE(manager.SetEnabled(2).ok());
  EXPECT_EQ(kernel.status.enabled, 0u);
  ASSERT_TRUE(manager.SetEnabled(1).ok());
  EXPECT_EQ(kernel.status.enabled, 1u);
}

// --- Live, as root, against the real kernel.

std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

size_t ListedRules(const std::string& key) {
  const std::string listing = Shell("auditctl -l -k " + key);
  size_t n = 0;
  std::istringstream in(listing);
  for (std::string line; std::getline(in, line);) n += line.rfind("-a ", 0) == 0;
  return n;
}

// Restores what the live tests touch, whatever happens in the test body:
// removes the rules with our two keys and, when the test marked that it
// set the enabled flag, puts the flag back. The flag is restored only then:
// other engineers' live tests may be recording (and toggling it) at the
// same time, and an unconditional restore could clobber their state.
class LiveGuard {
 public:
  LiveGuard() {
    Result<std::unique_ptr<AuditControl>> control = OpenNetlinkAuditControl();
    if (!control.ok()) return;
    Result<AuditStatus> status = (*control)->ReadStatus();
    if (!status.ok()) return;
    enabled_ = status->enabled;
    usable_ = status->enabled != 2;
  }
  ~LiveGuard() {
    if (!usable_) return;
    Shell(std::string("auditctl -D -k ") + kTestKey);
    Shell(std::string("auditctl -D -k ") + kForeignKey);
    if (touched_enabled_) Shell("auditctl -e " + std::to_string(enabled_));
  }
  bool usable() const { return usable_; }
  uint32_t enabled() const { return enabled_; }
  void MarkEnabledTouched() { touched_enabled_ = true; }

 private:
  bool usable_ = false;
  bool touched_enabled_ = false;
  uint32_t enabled_ = 0;
};

#define REQUIRE_LIVE(guard)                                                         \
  if (geteuid() != 0) GTEST_SKIP() << "live audit tests need root";                 \
  if (!(guard).usable()) GTEST_SKIP() << "audit not available or kernel immutable"; \
  if (Shell("command -v auditctl").empty()) GTEST_SKIP() << "auditctl not installed"

TEST(RulesLiveTest, InstallAndRemoveTouchOnlyOurKey) {
  LiveGuard guard;
  REQUIRE_LIVE(guard);
  Shell(std::string("auditctl -a always,exit -F arch=b64 -S chdir -k ") + kForeignKey);
  ASSERT_EQ(ListedRules(kForeignKey), 1u);

  RuleManager manager(TestConfig());
  Result<InstallReport> report = manager.Install();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_FALSE(report->immutable);
  EXPECT_EQ(ListedRules(kTestKey), manager.wanted().size());
  const std::string listing = Shell(std::string("auditctl -l -k ") + kTestKey);
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
  EXPECT_EQ(ListedRules(kTestKey), 0u);
  EXPECT_EQ(ListedRules(kForeignKey), 1u);
}

TEST(RulesLiveTest, DriftIsDetectedAndRestored) {
  LiveGuard guard;
  REQUIRE_LIVE(guard);
  RuleManager manager(TestConfig());
  ASSERT_TRUE(manager.Install().ok());
  // Somebody deletes one of our rules...
  std::string line = manager.wanted()[1].ToAuditctl();
  line.replace(0, 2, "-d");
  Shell("auditctl " + line);
  Result<RuleCheck> check = manager.Check();
  ASSERT_TRUE(check.ok());
  ASSERT_EQ(check->missing.size(), 1u);
  EXPECT_EQ(check->missing[0], manager.wanted()[1]);
  ASSERT_TRUE(manager.Restore().ok());
  EXPECT_TRUE(manager.Check()->ok());
  // ... or all of them.
  Shell(std::string("auditctl -D -k ") + kTestKey);
  EXPECT_EQ(manager.Check()->missing.size(), manager.wanted().size());
  ASSERT_TRUE(manager.Restore().ok());
  EXPECT_TRUE(manager.Check()->ok());
  EXPECT_EQ(ListedRules(kTestKey), manager.wanted().size());
  ASSERT_TRUE(manager.Remove().ok());
}

TEST(RulesLiveTest, StatusAndEnabledFlag) {
  LiveGuard guard;
  REQUIRE_LIVE(guard);
  RuleManager manager(TestConfig());
  Result<AuditStatus> status = manager.ReadStatus();
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_EQ(status->enabled, guard.enabled());
  EXPECT_GT(status->backlog_limit, 0u);
  // Setting the current value must succeed and leave it as it was; other
  // recorder tests may be recording right now, so the flag is not toggled.
  guard.MarkEnabledTouched();
  ASSERT_TRUE(manager.SetEnabled(static_cast<int>(guard.enabled())).ok());
  EXPECT_EQ(manager.ReadStatus()->enabled, guard.enabled());
  EXPECT_FALSE(manager.SetEnabled(2).ok());
  EXPECT_EQ(manager.ReadStatus()->enabled, guard.enabled());
}

}  // namespace
}  // namespace recorder::rules
