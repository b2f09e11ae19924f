// `recorder config check|show` and `recorder replay --filters` as users
// run them: the real binary on real files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "db_query.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace {

using recorder::RecorderRun;
using recorder::RunRecorder;
using recorder::ScalarInt;
using recorder::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = RECORDER_TEST_DATA;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(ConfigCliTest, CheckAcceptsAGoodDirectoryAndNamesWhatItRead) {
  TempDir dir;
  Write(dir.File("recorder.json"), R"({"maxSizeMB": 300})");
  Write(dir.File("filters.json"), R"({"process": {"exclude": [{"exe": "/opt/agent"}]}})");
  Write(dir.File("im_filters.json"),
        R"({"file": {"include": [{"path": {"starts_with": "/etc"}}]}})");
  Write(dir.File("watchlist.json"), R"(["/etc"])");
  RecorderRun out = RunRecorder("config check --config " + dir.path());
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("configuration OK: 4 file(s)"));
  EXPECT_THAT(out.text, HasSubstr("im_filters.json"));
  EXPECT_THAT(out.text, HasSubstr("2 filter rule(s), 1 pushed down to the kernel"));
  EXPECT_THAT(out.text, HasSubstr("1 watched path(s)"));
}

TEST(ConfigCliTest, CheckRefusesBrokenFilesNamingFileLineColumnOrRule) {
  TempDir dir;
  Write(dir.File("filters.json"), "{\n  \"file\": {\"exclude\": [{\"path\": \"/x\",}]}\n}\n");
  RecorderRun broken = RunRecorder("config check --config " + dir.path());
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.text, HasSubstr(dir.File("filters.json") + ":2:"));
  Write(dir.File("filters.json"),
        R"({"network": {"exclude": [{"remote_address": "10.0.0.0/40"}]}})");
  RecorderRun bad_rule = RunRecorder("config check --config " + dir.path());
  EXPECT_EQ(bad_rule.exit_code, 1);
  EXPECT_THAT(bad_rule.text,
              HasSubstr(dir.File("filters.json") +
                        ": network.exclude[0]: remote_address: bad address or CIDR"));
  Write(dir.File("filters.json"), "{}");
  Write(dir.File("recorder.json"), "{\"maxSizeMB\": [}");
  RecorderRun bad_config = RunRecorder("config check --config " + dir.path());
  EXPECT_EQ(bad_config.exit_code, 1);
  EXPECT_THAT(bad_config.text, HasSubstr(dir.File("recorder.json") + ":1:16"));
}

TEST(ConfigCliTest, CheckWarnsWithTheNearestKnownKey) {
  TempDir dir;
  Write(dir.File("recorder.json"), R"({"MonitorDay": 3})");
  Write(dir.File("filters.json"), R"({"netwrok": {}})");
  RecorderRun out = RunRecorder("config check --config " + dir.path());
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_THAT(out.text,
              HasSubstr("MonitorDay: unknown key; ignored (did you mean \"MonitorDays\"?)"));
  EXPECT_THAT(out.text, HasSubstr("netwrok: unknown section; ignored (did you mean \"network\"?)"));
}

TEST(ConfigCliTest, ShowGivesEachValuesSourceTheFiltersAndTheirAuditRules) {
  TempDir dir;
  Write(dir.File("recorder.json"), R"({"maxSizeMB": 300, "MonitorDays": 7})");
  Write(dir.File("im_recorder.json"), R"({"maxSizeMB": 500})");
  Write(dir.File("filters.json"), R"({"network": {"exclude": [{"exe": "/usr/sbin/chronyd"},
                                                              {"remote_port": 123}]}})");
  RecorderRun text = RunRecorder("config show --config " + dir.path() + " 2>/dev/null");
  EXPECT_EQ(text.exit_code, 0) << text.text;
  EXPECT_THAT(text.text, HasSubstr("maxSizeMB"));
  EXPECT_THAT(text.text, HasSubstr(dir.File("recorder.json") + ", " + dir.File("im_recorder.json") +
                                   " (max)"));
  EXPECT_THAT(text.text, HasSubstr("network exclude: exe equals \"/usr/sbin/chronyd\""));
  EXPECT_THAT(text.text, HasSubstr("-a never,exit -F arch=b64 -S connect"));
  EXPECT_THAT(text.text, HasSubstr("-F exe=/usr/sbin/chronyd -k recorder"));
  EXPECT_THAT(text.text, HasSubstr("network.exclude[1]: user space only: remote_port"));

  RecorderRun json_out = RunRecorder("config show --json --config " + dir.path() + " 2>/dev/null");
  ASSERT_EQ(json_out.exit_code, 0) << json_out.text;
  const nlohmann::json j = nlohmann::json::parse(json_out.text);
  bool max_size = false, days = false, level = false;
  for (const auto& s : j["settings"]) {
    if (s["name"] == "maxSizeMB") {
      max_size = true;
      EXPECT_EQ(s["value"], 500);
    }
    if (s["name"] == "MonitorDays") {
      days = true;
      EXPECT_EQ(s["source"], dir.File("recorder.json"));
    }
    if (s["name"] == "logLevel") {
      level = true;
      EXPECT_EQ(s["source"], "default");
    }
  }
  EXPECT_TRUE(max_size && days && level);
  EXPECT_EQ(j["filters"]["products"][0]["types"]["network"]["exclude"].size(), 2u);
  EXPECT_TRUE(j["pushdown"][0]["pushed"].get<bool>());
  EXPECT_FALSE(j["pushdown"][1]["pushed"].get<bool>());
  bool found = false;
  for (const auto& rule : j["audit_rules"])
    found |= rule.get<std::string>().find("exe=/usr/sbin/chronyd") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(ConfigCliTest, ReplayWithFiltersLeavesOutTheExcludedProcessesAndCountsThem) {
  TempDir dir;
  const std::string log = kData + "/capture-raw.log";
  RecorderRun plain = RunRecorder("replay --no-progress --db " + dir.File("all.db") + " " + log);
  ASSERT_EQ(plain.exit_code, 0) << plain.text;
  const int64_t python = ScalarInt(
      dir.File("all.db"), "SELECT count(*) FROM processes WHERE exe = '/usr/bin/python3.11'");
  ASSERT_GT(python, 0);
  const int64_t all = ScalarInt(dir.File("all.db"), "SELECT count(*) FROM processes");

  Write(dir.File("filters.json"), R"({"process": {"exclude": [{"exe": "/usr/bin/python3.11"}]}})");
  RecorderRun filtered = RunRecorder("replay --no-progress --filters " + dir.path() + " --db " +
                                     dir.File("some.db") + " " + log);
  ASSERT_EQ(filtered.exit_code, 0) << filtered.text;
  EXPECT_THAT(filtered.text, HasSubstr("filtered out "));
  EXPECT_EQ(ScalarInt(dir.File("some.db"),
                      "SELECT count(*) FROM processes WHERE exe = '/usr/bin/python3.11'"),
            0);
  // Its descendants went too; the rest stayed.
  const int64_t left = ScalarInt(dir.File("some.db"), "SELECT count(*) FROM processes");
  EXPECT_LT(left, all - python);
  EXPECT_GT(left, 0);
  // The run's row counts what was left out, by kind; none of it is lost.
  // (Fewer than the python rows: some of those are placeholders of
  // processes whose exec is not in the capture.)
  EXPECT_GT(ScalarInt(dir.File("some.db"), "SELECT filtered_out_process_start FROM runs"), 0);
  EXPECT_GT(ScalarInt(dir.File("some.db"), "SELECT filtered_out_process_end FROM runs"), 0);
  EXPECT_EQ(ScalarInt(dir.File("some.db"), "SELECT events_lost FROM runs"), 0);

  Write(dir.File("filters.json"), R"({"process": {"exclude": [{"exee": "x"}]}})");
  RecorderRun bad = RunRecorder("replay --no-progress --filters " + dir.path() + " --db " +
                                dir.File("x.db") + " " + log);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.text, HasSubstr("unknown field \"exee\" (did you mean \"exe\"?)"));
}

}  // namespace
