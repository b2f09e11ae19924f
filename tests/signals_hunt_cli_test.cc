// `recorder signals hunt` on a database replayed from a captured kernel
// log (tests/data/capture-raw.log) with the rules of tests/data/signals:
// a hunt finds exactly the matches replay made while recording (the same
// rules, rows and processes), prints rule, author and process, bounds by
// --since/--until, reports the rules it cannot serve, stores with --store
// (once, within RecordSignalMatches) and fails plainly on bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <tuple>

#include "db_query.h"
#include "recorder_cli.h"
#include "signals_cli_support.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace recorder {
namespace {

using namespace signals_cli_test;

const std::string kMarkerId = "6c1e0a52-5f0e-4d8c-9a3e-recorder-marker";

std::string Q(const std::string& s) { return ShellQuote(s); }

// A database replayed with the test rules matched and every match kept,
// and one replayed without signals; shared by the suite.
class SignalsHuntCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new recorder::TempDir("hunt-cli");
    std::ofstream(temp_->File("recorder.json")) << R"({"RecordSignalMatches": 1000})";
    matched_db_ = temp_->File("matched.db");
    plain_db_ = temp_->File("plain.db");
    RecorderRun run = ReplayMatching(temp_->path(), matched_db_);
    ASSERT_EQ(run.exit_code, 0) << run.text;
    run = RunRecorder("replay --no-progress --db " + Q(plain_db_) + " " + Q(kLog));
    ASSERT_EQ(run.exit_code, 0) << run.text;
  }
  static void TearDownTestSuite() { delete temp_; }

  static RecorderRun Hunt(const std::string& db, const std::string& args,
                          const std::string& config = "") {
    return recorder::RunRecorderApart("signals hunt --config " +
                                          Q(config.empty() ? temp_->path() : config) + " --db " +
                                          Q(db) + " " + args,
                                      temp_->File("err.txt"));
  }

  static recorder::TempDir* temp_;
  static std::string matched_db_;
  static std::string plain_db_;
};
recorder::TempDir* SignalsHuntCli::temp_ = nullptr;
std::string SignalsHuntCli::matched_db_;
std::string SignalsHuntCli::plain_db_;

using Key = std::tuple<std::string, std::string, std::string>;  // rule, table, row

TEST_F(SignalsHuntCli, FindsExactlyTheMatchesReplayMadeWhileRecording) {
  ASSERT_EQ(Scalar(matched_db_, "PRAGMA user_version"),
            std::to_string(recorder::store::kSchemaVersion));
  RecorderRun run = Hunt(matched_db_, "--json " + Q(kRules));
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  std::set<Key> hunted;
  nlohmann::json marker;
  for (const nlohmann::json& line : recorder::JsonLines(run.text)) {
    ASSERT_TRUE(line.is_object()) << run.text;
    hunted.emplace(line["rule_id"], line["event_table"],
                   std::to_string(line["event_row"].get<int64_t>()));
    if (line["rule_id"] == kMarkerId) marker = line;
  }
  std::set<Key> recorded;
  for (const auto& row :
       Query(matched_db_, "SELECT rule_id, event_table, event_row FROM signal_matches"))
    recorded.emplace(row.at("rule_id"), row.at("event_table"), row.at("event_row"));
  ASSERT_GE(recorded.size(), 2u);  // the marker and loopback connections
  EXPECT_EQ(hunted, recorded);
  // Matches made while replaying say so (schema 13).
  EXPECT_EQ(Scalar(matched_db_, "SELECT count(hunt_time) FROM signal_matches"), "0");

  // The marker exec (audit event 1795629431.747:4836): its process row.
  ASSERT_TRUE(marker.is_object()) << run.text;
  EXPECT_EQ(marker["title"], "Golden marker command");
  EXPECT_EQ(marker["level"], "high");
  EXPECT_EQ(marker["author"], "recorder tests");
  EXPECT_EQ(marker["selection"], "selection");
  EXPECT_EQ(marker["event_table"], "processes");
  EXPECT_EQ(marker["pid"], 13050);
  EXPECT_EQ(marker["exe"], "/usr/bin/echo");
  EXPECT_EQ(marker["time"], 1795629431747);
  EXPECT_EQ(marker["time_utc"], "2026-11-25T17:57:11.747Z");
  EXPECT_EQ(std::to_string(marker["process_id"].get<int64_t>()),
            Scalar(matched_db_,
                   "SELECT process_id FROM processes WHERE pid = 13050 AND "
                   "start_time = 1795629431747"));
  EXPECT_EQ(marker["event_row"], marker["process_id"]);
  // The Windows rule is reported; the summary goes to stderr with --json.
  EXPECT_NE(run.err.find("windows_only.yml (A Windows Security-log rule, which is skipped): "),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("hunted 3 rule(s)"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(std::to_string(recorded.size()) + " match(es) of 2 rule(s)"),
            std::string::npos)
      << run.err;

  // Text: grouped by rule, with the author and the count.
  run = Hunt(matched_db_, "--utc " + Q(kRules + "/marker_exec.yml"));
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  EXPECT_NE(
      run.text.find(kMarkerId +
                    ": Golden marker command\n"
                    "  level high, author recorder tests, 1 match(es)\n"
                    "  2026-11-25T17:57:11.747Z  processes " +
                    marker["process_id"].dump() + "  process_id " + marker["process_id"].dump() +
                    "  pid 13050  /usr/bin/echo  [selection]\n"),
      std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("hunted 1 rule(s) over "), std::string::npos) << run.text;
}

TEST_F(SignalsHuntCli, SinceAndUntilBoundTheEventsHunted) {
  const std::string rule = Q(kRules + "/marker_exec.yml");
  auto markers = [&](const std::string& window) {
    RecorderRun run = Hunt(plain_db_, "--json " + window + " " + rule);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return recorder::JsonLines(run.text).size();
  };
  EXPECT_EQ(markers(""), 1u);
  EXPECT_EQ(markers("--since 1795629431.747"), 1u);
  EXPECT_EQ(markers("--since 1795629431.748"), 0u);
  EXPECT_EQ(markers("--until 1795629431.747"), 1u);
  EXPECT_EQ(markers("--until 1795629431.746"), 0u);
  EXPECT_EQ(markers("--since 2026-11-25T17:57:11Z --until 2026-11-25T17:57:12Z"), 1u);
  // The process rows outside the window still answer the parent fields.
  RecorderRun all = Hunt(plain_db_, "--json " + Q(kRules));
  RecorderRun late = Hunt(plain_db_, "--json --since 1795629431.748 " + Q(kRules));
  EXPECT_LT(recorder::JsonLines(late.text).size(), recorder::JsonLines(all.text).size());
}

TEST_F(SignalsHuntCli, AuditdRulesAreReportedAsNotHuntedAndTheOthersRun) {
  recorder::TempDir rules;
  std::filesystem::copy_file(kRules + "/marker_exec.yml", rules.File("marker.yml"));
  std::ofstream(rules.File("auditd.yml")) << R"(title: Raw echo
id: raw-echo
author: recorder tests
logsource: {product: linux, service: auditd}
detection:
  selection:
    type: EXECVE
    a0: echo
  condition: selection
)";
  RecorderRun run = Hunt(plain_db_, Q(rules.path()));
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  EXPECT_NE(run.err.find("not hunted " + rules.File("auditd.yml") +
                         " (Raw echo): an auditd rule matches the raw audit records"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.text.find("hunted 1 rule(s)"), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("1 match(es) of 1 rule(s); 1 rule(s) not hunted"), std::string::npos)
      << run.text;
  // Read-only: nothing was stored.
  EXPECT_EQ(Scalar(plain_db_, "SELECT count(*) FROM signal_matches"), "0");
}

TEST_F(SignalsHuntCli, StoreWritesTheMatchesOnceWithinRecordSignalMatches) {
  recorder::TempDir dir;
  const std::string db = dir.File("monitor.db");
  std::filesystem::copy_file(plain_db_, db);
  std::ofstream(dir.File("recorder.json")) << R"({"RecordSignalMatches": 100})";
  RecorderRun json = Hunt(db, "--json " + Q(kRules), dir.path());
  const size_t found = recorder::JsonLines(json.text).size();
  ASSERT_GE(found, 2u);
  RecorderRun run = Hunt(db, "--store " + Q(kRules), dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  EXPECT_NE(run.text.find("stored " + std::to_string(found) +
                          " match(es) in signal_matches (with hunt_time), 0 already there; "
                          "removed past RecordSignalMatches (100): 0"),
            std::string::npos)
      << run.text;
  EXPECT_EQ(Scalar(db,
                   "SELECT count(*) FROM signal_matches WHERE hunt_time IS NOT NULL AND "
                   "hunt_time_utc LIKE '20%'"),
            std::to_string(found));
  auto marker = Query(db,
                      "SELECT event_table, event_row, process_id, pid, exe, author, time "
                      "FROM signal_matches WHERE rule_id = '" +
                          kMarkerId + "'");
  ASSERT_EQ(marker.size(), 1u);
  EXPECT_EQ(marker[0].at("pid"), "13050");
  EXPECT_EQ(marker[0].at("exe"), "/usr/bin/echo");
  EXPECT_EQ(marker[0].at("author"), "recorder tests");
  EXPECT_EQ(marker[0].at("time"), "1795629431747");
  EXPECT_EQ(marker[0].at("event_row"), marker[0].at("process_id"));

  // Again: nothing new.
  run = Hunt(db, "--store " + Q(kRules), dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  EXPECT_NE(run.text.find("stored 0 match(es) in signal_matches (with hunt_time), " +
                          std::to_string(found) + " already there"),
            std::string::npos)
      << run.text;
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM signal_matches"), std::to_string(found));

  // The cap: in a fresh copy with RecordSignalMatches 1, the newest match stays.
  recorder::TempDir capped;
  const std::string db2 = capped.File("monitor.db");
  std::filesystem::copy_file(plain_db_, db2);
  std::ofstream(capped.File("recorder.json")) << R"({"RecordSignalMatches": 1})";
  run = Hunt(db2, "--store " + Q(kRules), capped.path());
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  EXPECT_NE(run.text.find("removed past RecordSignalMatches (1): " + std::to_string(found - 1)),
            std::string::npos)
      << run.text;
  EXPECT_EQ(Scalar(db2, "SELECT count(*) FROM signal_matches"), "1");
  EXPECT_EQ(Scalar(db2, "SELECT time FROM signal_matches"),
            Scalar(db, "SELECT max(time) FROM signal_matches"));
}

// A rule on the parent's command line: replay keeps argv for it
// (SignalMatcher::needs_argv) and the hunt reads it from the parent's row;
// both find the execveat marker under workload.py.
TEST_F(SignalsHuntCli, ParentCommandLineMatchesInReplayAndInAHunt) {
  recorder::TempDir dir;
  std::filesystem::create_directories(dir.File("rules"));
  std::ofstream(dir.File("rules/parent.yml")) << R"(title: true under the workload
id: parent-cmdline
author: recorder tests
logsource: {product: linux, category: process_creation}
detection:
  selection:
    Image|endswith: /true
    ParentCommandLine|contains: 'workload.py execveat'
  condition: selection
)";
  std::ofstream(dir.File("recorder.json")) << R"({"RecordSignalMatches": 100})";
  const std::string db = dir.File("monitor.db");
  RecorderRun run = ReplayMatching(dir.path(), db, dir.File("rules"));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(Scalar(db, "SELECT group_concat(pid) FROM signal_matches"), "13065");
  run = Hunt(plain_db_, "--json " + Q(dir.File("rules")), dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto lines = recorder::JsonLines(run.text);
  ASSERT_EQ(lines.size(), 1u) << run.text;
  EXPECT_EQ(lines[0]["pid"], 13065);
  EXPECT_EQ(lines[0]["exe"], "/usr/bin/true");
}

TEST_F(SignalsHuntCli, BadInputIsNamedWithANonZeroExit) {
  RecorderRun run = Hunt(temp_->File("missing.db"), Q(kRules));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("missing.db"), std::string::npos) << run.err;

  run = Hunt(plain_db_, "--since yesterday-ish " + Q(kRules));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--since: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("yesterday-ish"), std::string::npos) << run.err;

  run = Hunt(plain_db_, Q(temp_->File("no-rules-here")));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("no-rules-here: no such rule file or directory"), std::string::npos)
      << run.err;

  // A malformed rule is named and the others still hunt; exit 1.
  recorder::TempDir rules;
  std::filesystem::copy_file(kRules + "/marker_exec.yml", rules.File("marker.yml"));
  std::ofstream(rules.File("broken.yml")) << "title: [unclosed\n";
  run = Hunt(plain_db_, Q(rules.path()));
  EXPECT_EQ(run.exit_code, 1) << run.text << run.err;
  EXPECT_NE(run.err.find("malformed  " + rules.File("broken.yml")), std::string::npos) << run.err;
  EXPECT_NE(run.text.find("1 match(es) of 1 rule(s)"), std::string::npos) << run.text;

  // Not a recorder database.
  std::ofstream(temp_->File("not.db")) << "hello";
  run = Hunt(temp_->File("not.db"), Q(kRules));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not.db"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace recorder
