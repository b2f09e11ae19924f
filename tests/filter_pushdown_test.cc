// The kernel pushdown generator: which exclusions become "never" audit
// rules, what those rules say, where they go, and which stay in user
// space and why. Every generated rule is built by libaudit (no kernel).
#include "rules/filter_pushdown.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/filter_parser.h"
#include "rules/rule_manager.h"

namespace recorder::rules {
namespace {

using ::testing::HasSubstr;

filter::FilterConfig Parse(std::vector<filter::FilterText> files,
                           std::optional<filter::FilterText> watchlist = std::nullopt) {
  Result<filter::ParsedFilters> parsed = filter::ParseFilterTexts(std::move(files), watchlist);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? parsed->config : filter::FilterConfig{};
}

std::vector<RuleSpec> Derived() {
  config::RecorderConfig config = config::DefaultConfig("/tmp");
  config.recorder_exe = "/usr/local/bin/recorder";
  return DeriveRules(config);
}

std::vector<std::string> Texts(const std::vector<RuleSpec>& rules) {
  std::vector<std::string> out;
  for (const RuleSpec& r : rules) out.push_back(r.ToAuditctl());
  return out;
}

void ExpectBuildable(const std::vector<RuleSpec>& rules) {
  for (const RuleSpec& r : rules) {
    Result<KernelRule> built = BuildKernelRule(r);
    EXPECT_TRUE(built.ok()) << r.ToAuditctl() << ": " << built.status().message();
    if (built.ok()) {
      EXPECT_TRUE(built->HasKey("recorder"));
      EXPECT_EQ(built->action(), 0u /* AUDIT_NEVER */) << r.ToAuditctl();
    }
  }
}

bool Has(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

TEST(FilterPushdownTest, AnExcludedExecutableIsNeverAuditedExceptItsExecsAndExits) {
  PushdownPlan plan = PlanPushdown(
      Parse({{"filters.json", R"({"process": {"exclude": [{"exe": "/opt/agent/bin/agent"}]}})"}}),
      Derived());
  ASSERT_FALSE(plan.rules.empty());
  ExpectBuildable(plan.rules);
  bool network = false, file = false, security = false, module = false;
  for (const RuleSpec& r : plan.rules) {
    EXPECT_EQ(r.action, "never");
    EXPECT_EQ(r.key, "recorder");
    EXPECT_EQ(r.fields, std::vector<std::string>{"exe=/opt/agent/bin/agent"});
    for (const std::string& s : r.syscalls) {
      EXPECT_NE(s, "execve");
      EXPECT_NE(s, "execveat");
      EXPECT_NE(s, "exit_group");
      EXPECT_NE(s, "all");
      network |= s == "connect";
      file |= s == "openat";
      security |= s == "setuid";
      module |= s == "finit_module";
    }
  }
  EXPECT_TRUE(network && file && security && module);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_TRUE(plan.notes[0].pushed);
  EXPECT_EQ(plan.notes[0].audit_rules.size(), plan.rules.size());
}

TEST(FilterPushdownTest, PushdownRulesGoAfterTheSelfExclusionAndBeforeEveryAlwaysRule) {
  const std::vector<RuleSpec> derived = Derived();
  PushdownPlan plan = PlanPushdown(
      Parse({{"filters.json", R"({"network": {"exclude": [{"exe": "/usr/bin/ntpd"}]}})"}}),
      derived);
  ASSERT_FALSE(plan.rules.empty());
  std::vector<RuleSpec> all = WithPushdown(derived, plan.rules);
  ASSERT_EQ(all.size(), derived.size() + plan.rules.size());
  EXPECT_THAT(all[0].ToAuditctl(), HasSubstr("exe=/usr/local/bin/recorder"));
  for (size_t i = 1; i <= plan.rules.size(); ++i)
    EXPECT_EQ(all[i].ToAuditctl(), plan.rules[i - 1].ToAuditctl());
  const size_t first_always = 1 + plan.rules.size();
  EXPECT_EQ(all[first_always].action, "always");
  for (size_t i = 0; i < first_always; ++i) EXPECT_EQ(all[i].action, "never");
  // Network syscalls only.
  for (const RuleSpec& r : plan.rules)
    for (const std::string& s : r.syscalls)
      EXPECT_TRUE(s == "connect" || s == "bind" || s == "accept" || s == "accept4" ||
                  s == "listen" || s == "socketcall")
          << s;
}

TEST(FilterPushdownTest, FilePathsBecomeDirAndPathRulesWithoutTwoPathCalls) {
  PushdownPlan plan = PlanPushdown(Parse({{"filters.json", R"({"file": {"exclude": [
      {"path": {"starts_with": "/var/cache/"}},
      {"path": "/var/lib/app/state.db"},
      {"path": {"glob": "/srv/scratch/**"}},
      {"path": {"glob": "/home/*/.cache/**"}}]}})"}}),
                                   Derived());
  ExpectBuildable(plan.rules);
  const std::vector<std::string> texts = Texts(plan.rules);
  bool dir = false, path = false, glob = false;
  for (const RuleSpec& r : plan.rules) {
    for (const std::string& s : r.syscalls) {
      EXPECT_TRUE(s != "rename" && s != "renameat" && s != "renameat2" && s != "link" &&
                  s != "linkat" && s != "symlink" && s != "symlinkat")
          << s;
      EXPECT_TRUE(s != "connect" && s != "setuid" && s != "execve") << s;
    }
    dir |= Has(r.fields, "dir=/var/cache");
    path |= Has(r.fields, "path=/var/lib/app/state.db");
    glob |= Has(r.fields, "dir=/srv/scratch");
  }
  EXPECT_TRUE(dir && path && glob);
  ASSERT_EQ(plan.notes.size(), 4u);
  EXPECT_TRUE(plan.notes[0].pushed && plan.notes[1].pushed && plan.notes[2].pushed);
  EXPECT_FALSE(plan.notes[3].pushed);
  EXPECT_THAT(plan.notes[3].reason, HasSubstr("directory prefix or DIR/**"));
}

TEST(FilterPushdownTest, UidsSuccessAndSyscalls) {
  PushdownPlan plan = PlanPushdown(Parse({{"filters.json", R"({
      "process": {"exclude": [{"uid": "1000-1999"}, {"auid": "unset"}]},
      "file": {"exclude": [{"exe": "/usr/bin/updatedb", "syscall": ["unlink", "unlinkat"],
                            "success": true}]}})"}}),
                                   Derived());
  ExpectBuildable(plan.rules);
  bool range = false, unset = false, narrowed = false;
  for (const RuleSpec& r : plan.rules) {
    range |= Has(r.fields, "uid>=1000") && Has(r.fields, "uid<=1999");
    unset |= Has(r.fields, "auid=4294967295");
    if (Has(r.fields, "exe=/usr/bin/updatedb")) {
      EXPECT_TRUE(Has(r.fields, "success=1"));
      for (const std::string& s : r.syscalls) EXPECT_TRUE(s == "unlink" || s == "unlinkat") << s;
      narrowed = true;
    }
  }
  EXPECT_TRUE(range && unset && narrowed);
}

TEST(FilterPushdownTest, WhatTheKernelCannotSayStaysInUserSpaceWithAReason) {
  PushdownPlan plan = PlanPushdown(Parse({{"filters.json", R"({
      "process": {"exclude": [{"cmdline": {"contains": "poll"}},
                              {"exe": {"ends_with": "/agent"}},
                              {"exe": {"equals": "/opt/A", "case_insensitive": true}},
                              {"exe": "/bin/true", "operation": "end"}]},
      "network": {"exclude": [{"remote_port": 53}], "include": [{"exe": "/usr/bin/curl"}]},
      "image": {"exclude": [{"exe": "/usr/bin/ls"}]}})"}}),
                                   Derived());
  EXPECT_TRUE(plan.rules.empty()) << Texts(plan.rules).front();
  ASSERT_EQ(plan.notes.size(), 6u);  // exclusions only
  EXPECT_THAT(plan.notes[0].reason, HasSubstr("cmdline is matched in user space only"));
  EXPECT_THAT(plan.notes[1].reason, HasSubstr("exact absolute path"));
  EXPECT_THAT(plan.notes[2].reason, HasSubstr("case-insensitive"));
  EXPECT_THAT(plan.notes[3].reason, HasSubstr("execs and exits always reach the process table"));
  EXPECT_THAT(plan.notes[4].reason, HasSubstr("remote_port is matched in user space only"));
  EXPECT_THAT(plan.notes[5].reason, HasSubstr("image events do not come from audit rules"));
  for (const PushdownNote& n : plan.notes) EXPECT_FALSE(n.pushed) << n.rule;
}

TEST(FilterPushdownTest, OnlyWhatEveryProductWithASayExcludes) {
  const std::string agent = R"({"process": {"exclude": [{"exe": "/opt/agent"}]}})";
  // IM speaks about files and does not exclude the agent: its file calls
  // stay audited; the network ones (IM has no say there) are pushed.
  PushdownPlan plan = PlanPushdown(
      Parse({{"filters.json", agent},
             {"im_filters.json", R"({"file": {"include": [{"path": {"starts_with": "/etc"}}]}})"}}),
      Derived());
  ExpectBuildable(plan.rules);
  bool network = false;
  for (const RuleSpec& r : plan.rules)
    for (const std::string& s : r.syscalls) {
      EXPECT_NE(s, "openat") << "file calls pushed although im_filters.json records them";
      network |= s == "connect";
    }
  EXPECT_TRUE(network);
  EXPECT_TRUE(plan.notes[0].pushed);
  EXPECT_THAT(plan.notes[0].reason, HasSubstr("im_filters.json still records these file events"));

  // Both exclude it: pushed once, not twice.
  PushdownPlan both =
      PlanPushdown(Parse({{"filters.json", agent}, {"map_filters.json", agent}}), Derived());
  PushdownPlan one = PlanPushdown(Parse({{"filters.json", agent}}), Derived());
  EXPECT_EQ(Texts(both.rules), Texts(one.rules));
  EXPECT_TRUE(both.notes[1].pushed);
}

TEST(FilterPushdownTest, FileExclusionsNeverTouchTheWatchlist) {
  PushdownPlan plan =
      PlanPushdown(Parse({{"filters.json", R"({"process": {"exclude": [{"exe": "/opt/agent"}]},
                                 "file": {"exclude": [{"path": {"starts_with": "/etc/"}},
                                                      {"path": {"starts_with": "/var/cache"}}]}})"}},
                         filter::FilterText{"watchlist.json", R"(["/etc/ssh"])"}),
                   Derived());
  ExpectBuildable(plan.rules);
  bool cache = false;
  for (const RuleSpec& r : plan.rules) {
    EXPECT_FALSE(Has(r.fields, "dir=/etc"));
    if (Has(r.fields, "exe=/opt/agent")) {
      for (const std::string& s : r.syscalls) EXPECT_NE(s, "openat");
    }
    cache |= Has(r.fields, "dir=/var/cache");
  }
  EXPECT_TRUE(cache);
  EXPECT_THAT(plan.notes[1].reason, HasSubstr("watchlist"));
}

TEST(FilterPushdownTest, MissingDirectoriesAndTheRuleLimit) {
  PushdownOptions options;
  options.directory_exists = [](const std::string& dir) { return dir != "/nonexistent"; };
  PushdownPlan plan = PlanPushdown(
      Parse({{"filters.json",
              R"({"file": {"exclude": [{"path": {"starts_with": "/nonexistent/"}}]}})"}}),
      Derived(), options);
  EXPECT_TRUE(plan.rules.empty());
  EXPECT_THAT(plan.notes[0].reason, HasSubstr("/nonexistent does not exist"));

  std::string rules;
  for (int i = 0; i < 40; ++i)
    rules += (i ? "," : "") + std::string(R"({"exe": "/opt/a)") + std::to_string(i) + "\"}";
  options.max_rules = 10;
  PushdownPlan limited =
      PlanPushdown(Parse({{"filters.json", R"({"network": {"exclude": [)" + rules + "]}}"}}),
                   Derived(), options);
  EXPECT_EQ(limited.rules.size(), 10u);
  EXPECT_THAT(limited.notes.back().reason, HasSubstr("over the limit of 10"));
}

TEST(FilterPushdownTest, DeriveRulesWithFiltersIsWhatLiveRecordingInstalls) {
  config::RecorderConfig config = config::DefaultConfig("/tmp");
  config.recorder_exe = "/usr/local/bin/recorder";
  config.rule_key = "recorder-test";
  config.watched_paths = {"/home"};
  const filter::FilterConfig filters =
      Parse({{"filters.json", R"({"network": {"exclude": [{"exe": "/usr/sbin/ntpd"}]}})"}},
            filter::FilterText{"watchlist.json", R"(["/etc"])"});
  FilteredRules out = DeriveRulesWithFilters(config, filters);
  ASSERT_FALSE(out.pushdown.rules.empty());
  bool never_ntpd = false, dir_etc = false, dir_home = false;
  for (const RuleSpec& r : out.rules) {
    EXPECT_EQ(r.key, "recorder-test");
    never_ntpd |= r.action == "never" && Has(r.fields, "exe=/usr/sbin/ntpd");
    dir_etc |= Has(r.fields, "dir=/etc");
    dir_home |= Has(r.fields, "dir=/home");
  }
  EXPECT_TRUE(never_ntpd && dir_etc && dir_home);
}

TEST(FilterPushdownTest, WatchlistPathsJoinTheWatchedPaths) {
  filter::FilterConfig with = Parse({}, filter::FilterText{"w.json", R"(["/etc", "/srv/app"])"});
  using Paths = std::vector<std::string>;
  EXPECT_EQ(WatchedPathsWithWatchlist({"/"}, with), Paths{"/"});
  EXPECT_EQ(WatchedPathsWithWatchlist({"/home"}, with), (Paths{"/home", "/etc", "/srv/app"}));
  EXPECT_EQ(WatchedPathsWithWatchlist({"/home"}, Parse({})), Paths{"/home"});
  with.only_watch_file_root = false;  // Integrity Monitor only: the watchlist alone
  EXPECT_EQ(WatchedPathsWithWatchlist({"/"}, with), (Paths{"/etc", "/srv/app"}));
}

}  // namespace
}  // namespace recorder::rules
