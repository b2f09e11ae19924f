// Signals in `recorder replay --signals DIR` on a captured kernel log
// (tests/data/capture-raw.log, rules in tests/data/signals): the match
// row points at the exact process row of the marker exec, a rule that
// must not fire does not, network matches point at their rows, the cap
// (RecordSignalMatches) removes the oldest and counts them, the rules are
// stored (RecordSignalDefinitions), --signals-out writes JSON lines,
// DisableSignals turns matching off, bad rules are named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "db_query.h"
#include "recorder_cli.h"
#include "signals_cli_support.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace recorder {
namespace {

using namespace signals_cli_test;

std::string Quote(const std::string& s) { return ShellQuote(s); }

RecorderRun Replay(const recorder::TempDir& dir, const std::string& db,
                   const std::string& extra = "") {
  return ReplayMatching(dir.path(), db, kRules, extra);
}

TEST(SignalsReplay, MatchPointsAtTheMarkerProcessRowAndTheNegatedRuleDoesNotFire) {
  recorder::TempDir dir;
  const std::string db = dir.File("monitor.db");
  RecorderRun run = Replay(dir, db);
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("signals: 3 rule(s) loaded, 1 not"), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("windows_only.yml: skipped"), std::string::npos) << run.text;

  auto rows = Query(db,
                    "SELECT event_table, event_row, process_id, pid, exe, title, level, author, "
                    "selection, time, rule_id FROM signal_matches "
                    "WHERE event_table = 'processes'");
  ASSERT_EQ(rows.size(), 1u);  // the marker rule only: recorder-marker-elsewhere must not fire
  const auto& m = rows[0];
  EXPECT_EQ(m.at("rule_id"), "6c1e0a52-5f0e-4d8c-9a3e-recorder-marker");
  EXPECT_EQ(m.at("event_row"), m.at("process_id"));
  EXPECT_EQ(m.at("title"), "Golden marker command");
  EXPECT_EQ(m.at("level"), "high");
  EXPECT_EQ(m.at("author"), "recorder tests");
  EXPECT_EQ(m.at("selection"), "selection");
  // The exec of audit event 1795629431.747:4836 (pid 13050, /usr/bin/echo).
  EXPECT_EQ(m.at("pid"), "13050");
  EXPECT_EQ(m.at("exe"), "/usr/bin/echo");
  EXPECT_EQ(m.at("time"), "1795629431747");
  auto process = Query(db,
                       "SELECT pid, start_time, exe, cwd, cmdline FROM processes "
                       "WHERE process_id = " +
                           m.at("process_id"));
  ASSERT_EQ(process.size(), 1u);
  EXPECT_EQ(process[0].at("pid"), "13050");
  EXPECT_EQ(process[0].at("start_time"), "1795629431747");
  EXPECT_EQ(process[0].at("cwd"), "/work/main");
  EXPECT_NE(process[0].at("cmdline").find("recorder-golden-marker-special"), std::string::npos);
  EXPECT_EQ(Scalar(db,
                   "SELECT count(*) FROM signal_matches "
                   "WHERE rule_id = 'recorder-marker-elsewhere'"),
            "0");

  // The network matches point at network_events rows of their process,
  // all to loopback.
  auto net = Query(db,
                   "SELECT event_row, process_id FROM signal_matches "
                   "WHERE rule_id = 'recorder-loopback-connect'");
  ASSERT_FALSE(net.empty());
  for (const auto& n : net) {
    auto row = Query(db,
                     "SELECT process_id, (SELECT value FROM strings WHERE id = remote_address_id) "
                     "AS remote_address FROM network_data WHERE id = " +
                         n.at("event_row"));
    ASSERT_FALSE(row.empty()) << n.at("event_row");
    EXPECT_EQ(row[0].at("process_id"), n.at("process_id"));
    EXPECT_TRUE(row[0].at("remote_address") == "127.0.0.1" || row[0].at("remote_address") == "::1")
        << row[0].at("remote_address");
  }
  // RecordSignalDefinitions (default on): the loaded rules.
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_rules"), "3");
  EXPECT_EQ(
      Scalar(db, "SELECT author FROM signal_rules WHERE rule_id = 'recorder-loopback-connect'"),
      "recorder tests");
  // Under the default cap of 5 here: every match kept, none removed.
  const size_t total = 1 + net.size();
  ASSERT_LE(total, 5u);
  EXPECT_EQ(Scalar(db, "SELECT signal_matches FROM runs"), std::to_string(total));
  EXPECT_EQ(Scalar(db, "SELECT signal_matches_removed FROM runs"), "0");
  EXPECT_NE(run.text.find(std::to_string(total) + " match(es) (" + std::to_string(net.size()) +
                          " low, 1 high)"),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("signal matches stored: " + std::to_string(total) +
                          ", 0 removed past RecordSignalMatches (5)"),
            std::string::npos)
      << run.text;

  // Replaying the file again adds no event and so no match.
  run = Replay(dir, db);
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_matches"), std::to_string(total));
}

TEST(SignalsReplay, OldestMatchesGoPastRecordSignalMatchesAndAreCounted) {
  recorder::TempDir dir;
  std::ofstream(dir.File("recorder.json")) << R"({"RecordSignalMatches": 1})";
  const std::string db = dir.File("monitor.db");
  RecorderRun run = Replay(dir, db);
  ASSERT_EQ(run.exit_code, 0) << run.text;
  const int total = std::stoi(Scalar(db, "SELECT signal_matches FROM runs"));
  ASSERT_GE(total, 2);
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_matches"), "1");
  EXPECT_EQ(Scalar(db, "SELECT signal_matches_removed FROM runs"), std::to_string(total - 1));
  // The one kept is the newest.
  EXPECT_EQ(Scalar(db, "SELECT id FROM signal_match_data"), std::to_string(total));
  EXPECT_NE(run.text.find(std::to_string(total - 1) + " removed past RecordSignalMatches (1)"),
            std::string::npos)
      << run.text;

  // 0: none stored, the matches still counted in the summary.
  std::ofstream(dir.File("recorder.json")) << R"({"RecordSignalMatches": 0})";
  const std::string none = dir.File("none.db");
  run = Replay(dir, none);
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(Scalar(none, "SELECT count(*) FROM signal_matches"), "0");
  EXPECT_NE(run.text.find(std::to_string(total) + " match(es)"), std::string::npos) << run.text;
}

TEST(SignalsReplay, SignalsOutWritesJsonLinesAndDisableSignalsTurnsThemOff) {
  recorder::TempDir dir;
  const std::string out = dir.File("matches.jsonl");
  RecorderRun run = Replay(dir, dir.File("a.db"), "--signals-out " + Quote(out));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  std::ifstream in(out);
  std::string line;
  int lines = 0, markers = 0;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    ++lines;
    EXPECT_TRUE(j.contains("author") && j.contains("level") && j.contains("event")) << line;
    if (j["title"] == "Golden marker command") {
      ++markers;
      EXPECT_EQ(j["event"]["pid"], 13050) << line;
    }
  }
  EXPECT_EQ(std::to_string(lines), Scalar(dir.File("a.db"), "SELECT signal_matches FROM runs"));
  EXPECT_EQ(markers, 1);

  // - is stdout: the lines come before the summary.
  run = RunRecorder("replay --no-progress --config " + Quote(dir.path()) + " --db " +
                    Quote(dir.File("c.db")) + " --signals " + Quote(kRules) + " --signals-out - " +
                    Quote(kLog) + " 2>/dev/null");
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("{\"author\":\"recorder tests\""), std::string::npos) << run.text;

  std::ofstream(dir.File("recorder.json")) << R"({"DisableSignals": true})";
  const std::string db = dir.File("b.db");
  run = Replay(dir, db);
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("(DisableSignals is set)"), std::string::npos) << run.text;
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_matches"), "0");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_rules"), "3");  // still stored

  std::ofstream(dir.File("recorder.json"))
      << R"({"DisableSignals": false, "RecordSignalDefinitions": false})";
  const std::string nodefs = dir.File("d.db");
  run = Replay(dir, nodefs);
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(Scalar(nodefs, "SELECT count(*) FROM signal_rules"), "0");
  EXPECT_NE(Scalar(nodefs, "SELECT count(*) FROM signal_matches"), "0");
}

TEST(SignalsReplay, BadRuleDirectoryOrFileIsAClearError) {
  recorder::TempDir dir;
  // A directory that does not exist: an error naming it, exit 1, no database.
  RecorderRun run = RunRecorder("replay --no-progress --config " + Quote(dir.path()) + " --db " +
                                Quote(dir.File("x.db")) + " --signals " +
                                Quote(dir.File("no-such-dir")) + " " + Quote(kLog));
  EXPECT_NE(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("no-such-dir"), std::string::npos) << run.text;
  EXPECT_FALSE(std::filesystem::exists(dir.File("x.db")));

  // A malformed rule next to a good one: named with its reason, the good
  // one used.
  std::filesystem::create_directories(dir.File("rules"));
  std::ofstream(dir.File("rules/broken.yml")) << "title: x\ndetection: [\n";
  std::filesystem::copy_file(kRules + "/marker_exec.yml", dir.File("rules/marker_exec.yml"));
  run = RunRecorder("replay --no-progress --config " + Quote(dir.path()) + " --db " +
                    Quote(dir.File("y.db")) + " --signals " + Quote(dir.File("rules")) + " " +
                    Quote(kLog));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("warning: signal rule " + dir.File("rules/broken.yml") + ": malformed"),
            std::string::npos)
      << run.text;
  EXPECT_EQ(Scalar(dir.File("y.db"), "SELECT count(*) FROM signal_matches"), "1");
}

TEST(SignalsReplay, WithoutSignalsTheViewsAreThereAndEmpty) {
  recorder::TempDir dir;
  const std::string db = dir.File("monitor.db");
  RecorderRun run = RunRecorder("replay --no-progress --config " + Quote(dir.path()) + " --db " +
                                Quote(db) + " " + Quote(kLog));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(Scalar(db, "PRAGMA user_version"), std::to_string(recorder::store::kSchemaVersion));
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_matches"), "0");
  EXPECT_EQ(Scalar(db, "SELECT signal_matches FROM runs"), "0");
}

}  // namespace
}  // namespace recorder
