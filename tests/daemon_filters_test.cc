// The filters in live recording, without a kernel: the rule keeper
// installs (and repairs, and replaces) the set derived with the filters
// on a fake kernel; status shows what the filters left out; a bad filter
// file stops `recorder run` before anything is touched. The live test
// (live_filters_test.cc) runs the same with the real kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "daemon/daemon_status.h"
#include "daemon/recorder_daemon.h"
#include "daemon/rule_keeper.h"
#include "daemon/status_report.h"
#include "daemon_support.h"
#include "filter_support.h"
#include "rules/audit_control.h"
#include "rules/rule_manager.h"
#include "temp_dir.h"

namespace recorder::daemon {
namespace {

constexpr char kAgentFilters[] = R"({"process": {"exclude": [{"exe": "/opt/agent/bin/agent"}]}})";

config::RecorderConfig KeeperConfig(const std::string& dir) {
  config::RecorderConfig c = config::DefaultConfig(dir);
  c.rule_key = "recorder-filters-test";
  c.recorder_exe = RECORDER_BINARY;
  return c;
}

// Kernel rules that are "never" rules on the agent's executable.
int AgentNeverRules(const rules::FakeAuditControl& kernel) {
  int n = 0;
  for (const rules::KernelRule& rule : kernel.rules) {
    if (rule.action() != 0 /* AUDIT_NEVER */) continue;
    const std::string text(rule.bytes().begin(), rule.bytes().end());
    n += text.find("/opt/agent/bin/agent") != std::string::npos;
  }
  return n;
}

TEST(RuleKeeperWithFilters, InstallsRepairsAndReplacesTheDerivedSet) {
  TempDir dir;
  const config::RecorderConfig config = KeeperConfig(dir.path());
  const size_t plain = rules::DeriveRules(config).size();
  rules::FakeAuditControl kernel;
  kernel.status.enabled = 1;
  {
    RuleKeeper keeper(config, filter::MustCompile(kAgentFilters), &kernel);
    ASSERT_TRUE(keeper.Install().ok());
    const int pushed = keeper.state().pushed_down;
    ASSERT_GT(pushed, 0);
    EXPECT_EQ(static_cast<size_t>(pushed), keeper.pushdown().rules.size());
    EXPECT_EQ(kernel.rules.size(), plain + static_cast<size_t>(pushed));
    EXPECT_EQ(AgentNeverRules(kernel), pushed);
    EXPECT_EQ(keeper.state().missing, 0);

    // The drift check compares with the derived set: all present, and the
    // exclusion rules are put back when someone deletes them.
    keeper.CheckAndRepair(1000);
    EXPECT_EQ(keeper.state().restores, 0u);
    kernel.rules.erase(std::remove_if(kernel.rules.begin(), kernel.rules.end(),
                                      [](const rules::KernelRule& r) { return r.action() == 0; }),
                       kernel.rules.end());
    ASSERT_EQ(AgentNeverRules(kernel), 0);
    keeper.CheckAndRepair(2000);
    EXPECT_EQ(keeper.state().restores, 1u);
    EXPECT_EQ(AgentNeverRules(kernel), pushed);

    // A reload without filters: back to the plain set.
    keeper.Replace(config, nullptr);
    EXPECT_EQ(kernel.rules.size(), plain);
    EXPECT_EQ(AgentNeverRules(kernel), 0);
    EXPECT_EQ(keeper.state().pushed_down, 0);
    // And with them again.
    keeper.Replace(config, filter::MustCompile(kAgentFilters));
    EXPECT_EQ(AgentNeverRules(kernel), pushed);
    EXPECT_EQ(keeper.state().pushed_down, pushed);
  }
  EXPECT_TRUE(kernel.rules.empty());
}

TEST(RuleKeeperWithFilters, AReloadWithTheSameRulesLeavesTheKernelAlone) {
  TempDir dir;
  const config::RecorderConfig config = KeeperConfig(dir.path());
  rules::FakeAuditControl kernel;
  kernel.status.enabled = 1;
  RuleKeeper keeper(config, filter::MustCompile(kAgentFilters), &kernel);
  ASSERT_TRUE(keeper.Install().ok());
  const int adds = kernel.add_calls;
  // Other filters that push nothing down (a cmdline is not an audit
  // field): the same rules, nothing deleted, nothing added, so no event
  // falls into a gap while the rules are swapped.
  keeper.Replace(config, filter::MustCompile(R"({"process": {"exclude": [
      {"exe": "/opt/agent/bin/agent"}, {"cmdline": {"contains": "--poll"}}]}})"));
  EXPECT_EQ(kernel.delete_calls, 0);
  EXPECT_EQ(kernel.add_calls, adds);
  EXPECT_GT(keeper.state().pushed_down, 0);
  // Changed rules are replaced.
  keeper.Replace(config, nullptr);
  EXPECT_GT(kernel.delete_calls, 0);
  EXPECT_EQ(AgentNeverRules(kernel), 0);
}

// A kernel that checks, after every change, that the recorder's "always"
// rules never drop below `floor` (a gap an event could fall into).
class GaplessKernel : public rules::FakeAuditControl {
 public:
  Status AddRule(const rules::KernelRule& rule) override {
    Status s = FakeAuditControl::AddRule(rule);
    Check();
    return s;
  }
  Status DeleteRule(const rules::KernelRule& rule) override {
    Status s = FakeAuditControl::DeleteRule(rule);
    Check();
    return s;
  }
  int Always() const {
    return static_cast<int>(std::count_if(rules.begin(), rules.end(), [](const auto& r) {
      return r.action() == 2 /* AUDIT_ALWAYS */;
    }));
  }
  void Check() { lowest = std::min(lowest, Always()); }
  int lowest = 1 << 30;
};

// Our never rules all come before our first always rule.
bool NeverRulesFirst(const rules::FakeAuditControl& kernel) {
  bool seen_always = false;
  for (const rules::KernelRule& rule : kernel.rules) {
    if (rule.action() == 2) seen_always = true;
    if (rule.action() == 0 && seen_always) return false;
  }
  return true;
}

TEST(RuleKeeperWithFilters, ChangedRulesAreReplacedWithoutAGap) {
  TempDir dir;
  const config::RecorderConfig config = KeeperConfig(dir.path());
  GaplessKernel kernel;
  kernel.status.enabled = 1;
  RuleKeeper keeper(config, nullptr, &kernel);
  ASSERT_TRUE(keeper.Install().ok());
  const size_t plain = kernel.rules.size();
  const int always = kernel.Always();
  ASSERT_GT(always, 0);
  kernel.lowest = always;
  // New never rules come in: after the always rules were there, yet
  // ahead of them in the end.
  keeper.Replace(config, filter::MustCompile(kAgentFilters));
  const int pushed = keeper.state().pushed_down;
  ASSERT_GT(pushed, 0);
  EXPECT_EQ(AgentNeverRules(kernel), pushed);
  EXPECT_EQ(kernel.rules.size(), plain + static_cast<size_t>(pushed));
  EXPECT_TRUE(NeverRulesFirst(kernel));
  EXPECT_EQ(kernel.Always(), always);  // the bridge copies are gone
  EXPECT_EQ(kernel.lowest, always);    // and there was never a gap
  EXPECT_GT(kernel.delete_calls, 0);
  // And out again.
  keeper.Replace(config, nullptr);
  EXPECT_EQ(AgentNeverRules(kernel), 0);
  EXPECT_EQ(kernel.rules.size(), plain);
  EXPECT_EQ(kernel.lowest, always);
  ASSERT_TRUE(keeper.Remove().ok());
  EXPECT_TRUE(kernel.rules.empty());
}

TEST(StatusWithConfigReload, AFailedReloadIsShown) {
  StatusSnapshot s;
  s.config.dir = "/etc/recorder";
  s.config.reloads = 2;
  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["config"]["reloads"], 2u);
  EXPECT_TRUE(j["config"]["watched"].get<bool>());
  EXPECT_EQ(FormatStatusText(j).find("NOT reloaded"), std::string::npos);
  s.config.reload_failures = 1;
  s.config.last_reload_error = "/etc/recorder/recorder.json:3:1: syntax error";
  j = StatusJson(s);
  EXPECT_EQ(j["config"]["reload_failures"], 1u);
  EXPECT_NE(
      FormatStatusText(j).find(
          "configuration NOT reloaded (the previous one applies): /etc/recorder/recorder.json"),
      std::string::npos)
      << FormatStatusText(j);
}

TEST(RuleKeeperWithFilters, WithoutFiltersTheSetIsDeriveRules) {
  TempDir dir;
  const config::RecorderConfig config = KeeperConfig(dir.path());
  rules::FakeAuditControl kernel;
  kernel.status.enabled = 1;
  RuleKeeper keeper(config, filter::MustCompile("{}"), &kernel);
  ASSERT_TRUE(keeper.Install().ok());
  EXPECT_EQ(keeper.wanted(), rules::DeriveRules(config));
  EXPECT_EQ(keeper.state().pushed_down, 0);
  ASSERT_TRUE(keeper.Remove().ok());
}

TEST(StatusWithFilters, ShowsFilesKernelRulesAndWhatWasLeftOut) {
  StatusSnapshot s;
  s.rules.pushed_down = 6;
  nlohmann::json j = StatusJson(s);
  ASSERT_TRUE(j.contains("filters"));
  EXPECT_EQ(j["filters"]["dropped"], 0u);
  EXPECT_NE(FormatStatusText(j).find("filters: none"), std::string::npos) << FormatStatusText(j);

  s.filters.files = {"/etc/recorder/filters.json"};
  s.filters.stats.dropped[static_cast<size_t>(filter::EventType::kProcess)] = 3;
  s.filters.stats.dropped[static_cast<size_t>(filter::EventType::kFile)] = 5;
  s.filters.stats.dropped_by_process = 7;
  s.filters.stats.dropped_by_kind[0] = 3;  // by EventKindName, as runs.filtered_out_<kind>
  j = StatusJson(s);
  EXPECT_EQ(j["filters"]["dropped_by_kind"][std::string(EventKindName(0))], 3u);
  EXPECT_EQ(j["filters"]["dropped_by_kind"].size(), filter::kFilterEventKinds);
  EXPECT_EQ(j["filters"]["dropped"], 8u);
  EXPECT_EQ(j["filters"]["dropped_by_type"]["process"], 3u);
  EXPECT_EQ(j["filters"]["dropped_by_type"]["file"], 5u);
  EXPECT_EQ(j["filters"]["dropped_by_process"], 7u);
  EXPECT_EQ(j["filters"]["kernel_rules"], 6);
  EXPECT_EQ(j["rules"]["pushed_down"], 6);
  EXPECT_FALSE(j["filters"].contains("last_reload_error"));
  std::string text = FormatStatusText(j);
  EXPECT_NE(text.find("filters: 1 file(s), 6 kernel rule(s); filtered out 8 (file 5, process 3)"),
            std::string::npos)
      << text;

  s.filters.reload_failures = 1;
  s.filters.last_reload_error = "filters.json: process.exclude[0]: bad";
  j = StatusJson(s);
  EXPECT_EQ(j["filters"]["reload_failures"], 1u);
  text = FormatStatusText(j);
  EXPECT_NE(text.find("filters NOT reloaded (the previous ones apply): filters.json"),
            std::string::npos)
      << text;
}

// A bad filter file: the run does not start, says which file and rule,
// and touches nothing (no database, pid file or socket).
TEST(RunDaemonWithFilters, ABadFilterFileRefusesToStart) {
  TempDir dir;
  dir.Write("filters.json", R"({"process": {"exclude": [{"cmdline": {"regex": "a(b"}}]}})");
  const DaemonOptions options = DaemonIn(dir);
  Status status = RunDaemon(options);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(dir.File("filters.json") + ": process.exclude[0]: cmdline: bad "
                                                             "regex"),
            std::string::npos)
      << status.message();
  EXPECT_FALSE(std::filesystem::exists(options.db_path));
  EXPECT_FALSE(std::filesystem::exists(options.config.pid_file));
  EXPECT_FALSE(std::filesystem::exists(options.config.control_socket));
}

}  // namespace
}  // namespace recorder::daemon
