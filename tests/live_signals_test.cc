// Signals in live recording: `recorder run --source unicast` with Sigma
// rules in the configuration's signals directory, on real kernel audit
// events. A rule on a marker command (a copy of true under the test's temp
// dir, given a unique argument) fires: its --signals-out line arrives
// within a second of the exec, and its signal_matches row points at the
// marker's own process row (the pid the shell printed before exec'ing
// it). The auditd rule on the raw EXECVE argument fires on the same exec;
// a rule whose `not` holds does not fire; status counts the matches by
// level and by rule; the loaded rules are in signal_rules. A rule added
// to the signals directory while recording takes effect without SIGHUP.
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-signaltest";

class LiveSignals : public UnicastRecorderTest {
 protected:
  LiveSignals() : UnicastRecorderTest(kTestKey) {}

  void WriteRule(const std::string& name, const std::string& text) {
    fs::create_directories(temp_.path() + "/config/signals");
    std::ofstream(temp_.path() + "/config/signals/" + name) << text;
  }

  std::string OutLines() const { return RunCapture("cat " + temp_.path() + "/matches.jsonl"); }
};

TEST_F(LiveSignals, ARuleOnAMarkerFiresWithinASecondAndPointsAtItsProcessRow) {
  const std::string marker = temp_.path() + "/bin/signal-marker";
  fs::create_directories(fs::path(marker).parent_path());
  fs::copy_file("/bin/true", marker);
  const std::string token = "recorder-live-signal-" + std::to_string(getpid());
  WriteRule("marker.yml",
            "title: Live marker\nid: live-marker\nauthor: Live Tester\n"
            "level: critical\nlogsource: {product: linux, category: "
            "process_creation}\ndetection:\n  selection:\n"
            "    Image|endswith: /signal-marker\n"
            "    CommandLine|contains: '" +
                token +
                "'\n"
                "  condition: selection\n");
  WriteRule("raw.yml",
            "title: Live marker raw\nid: live-marker-raw\nauthor: Live Tester\n"
            "level: low\nlogsource: {product: linux, service: auditd}\n"
            "detection:\n  selection:\n    type: EXECVE\n    a1: '" +
                token +
                "'\n"
                "  condition: selection\n");
  WriteRule("negated.yml",
            "title: Marker elsewhere\nid: live-negated\nauthor: Live Tester\n"
            "level: high\nlogsource: {product: linux, category: "
            "process_creation}\ndetection:\n  selection:\n"
            "    Image|endswith: /signal-marker\n"
            "  filter:\n    CommandLine|contains: '" +
                token +
                "'\n"
                "  condition: selection and not filter\n");
  const std::string out = temp_.path() + "/matches.jsonl";
  pid_t recorder = StartRecorder(R"({"RecordSignalMatches": 10})", {"--signals-out", out});

  // The shell prints its pid, then becomes the marker (same pid).
  const auto started = std::chrono::steady_clock::now();
  const std::string printed = RunCapture("sh -c 'echo $$; exec " + marker + " " + token + "'");
  const std::string pid = printed.substr(0, printed.find('\n'));
  ASSERT_FALSE(pid.empty()) << printed;
  EXPECT_TRUE(WaitFor([&] { return OutLines().find("\"live-marker\"") != std::string::npos; }, 2s))
      << ReadLog();
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_LT(seconds, 1.0) << "the match line came " << seconds << " s after the exec";

  Db db(DbPath());
  auto rows = db.Await(
      "SELECT process_id, pid, exe, event_table, event_row, level, author, title "
      "FROM signal_matches WHERE rule_id = 'live-marker'",
      15s);
  ASSERT_EQ(rows.size(), 1u) << ReadLog();
  EXPECT_EQ(rows[0][1], pid);
  EXPECT_EQ(rows[0][2], marker);
  EXPECT_EQ(rows[0][3], "processes");
  EXPECT_EQ(rows[0][4], rows[0][0]);
  EXPECT_EQ(rows[0][5], "critical");
  EXPECT_EQ(rows[0][6], "Live Tester");
  auto process =
      db.Query("SELECT pid, exe, cmdline FROM processes WHERE process_id = " + rows[0][0]);
  ASSERT_EQ(process.size(), 1u);
  EXPECT_EQ(process[0][0], pid);
  EXPECT_EQ(process[0][1], marker);
  EXPECT_EQ(process[0][2], marker + " " + token);
  // The raw-record rule on the same exec, and not the negated one.
  auto raw =
      db.Await("SELECT process_id FROM signal_matches WHERE rule_id = 'live-marker-raw'", 15s);
  ASSERT_EQ(raw.size(), 1u) << ReadLog();
  EXPECT_EQ(raw[0][0], rows[0][0]);
  EXPECT_TRUE(db.Query("SELECT 1 FROM signal_matches WHERE rule_id = 'live-negated'").empty());
  EXPECT_EQ(db.Query("SELECT count(*) FROM signal_rules")[0][0], "3");

  nlohmann::json status = RecorderStatus()["signals"];
  EXPECT_EQ(status.value("rules", 0), 3) << status.dump();
  EXPECT_TRUE(status.value("enabled", false));
  EXPECT_EQ(status["matches_by_level"].value("critical", 0), 1) << status.dump();
  EXPECT_EQ(status["matches_by_level"].value("low", 0), 1) << status.dump();
  bool listed = false;
  for (const nlohmann::json& rule : status["matches_by_rule"])
    listed |= rule.value("rule_id", "") == "live-marker" && rule.value("matches", 0) == 1;
  EXPECT_TRUE(listed) << status.dump();
  EXPECT_EQ(status.value("record_limit", 0), 10);
  const std::string text = RunCapture(std::string(RECORDER_BINARY) + " status --state-dir " +
                                      StateDir() + " --config " + temp_.path() + "/config");
  EXPECT_NE(text.find("signals: 3 rule(s); 2 match(es) (1 critical, 1 low)"), std::string::npos)
      << text;

  StopRecorder(recorder);
}

TEST_F(LiveSignals, ARuleAddedToTheDirectoryTakesEffectWithoutSighup) {
  const std::string marker = temp_.path() + "/bin/signal-added";
  fs::create_directories(fs::path(marker).parent_path());
  fs::copy_file("/bin/true", marker);
  const std::string token = "recorder-live-added-" + std::to_string(getpid());
  WriteRule("other.yml",
            "title: Other\nid: live-other\nlevel: low\nlogsource: {product: linux, category: "
            "process_creation}\ndetection:\n  selection:\n    Image|endswith: /never-run\n"
            "  condition: selection\n");
  pid_t recorder = StartRecorder(R"({"RecordSignalMatches": 10})");
  EXPECT_EQ(RecorderStatus()["signals"].value("rules", 0), 1);
  WriteRule("added.yml",
            "title: Added marker\nid: live-added\nauthor: Live Tester\nlevel: high\n"
            "logsource: {product: linux, category: process_creation}\ndetection:\n"
            "  selection:\n    Image|endswith: /signal-added\n    CommandLine|contains: '" +
                token + "'\n  condition: selection\n");
  // No signal: the watch samples the files every second and reloads once
  // they have settled.
  nlohmann::json status;
  EXPECT_TRUE(WaitFor(
      [&] {
        status = RecorderStatus()["signals"];
        return status.value("rules", 0) == 2;
      },
      10s))
      << status.dump() << ReadLog();
  const std::string printed = RunCapture("sh -c 'echo $$; exec " + marker + " " + token + "'");
  const std::string pid = printed.substr(0, printed.find('\n'));
  Db db(DbPath());
  auto rows = db.Await("SELECT pid, exe FROM signal_matches WHERE rule_id = 'live-added'", 15s);
  ASSERT_EQ(rows.size(), 1u) << ReadLog();
  EXPECT_EQ(rows[0][0], pid);
  EXPECT_EQ(rows[0][1], marker);
  EXPECT_NE(ReadLog().find("configuration changed: signals: 2 rule(s)"), std::string::npos)
      << ReadLog();
  StopRecorder(recorder);
}

}  // namespace
}  // namespace recorder
