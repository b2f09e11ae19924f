// `recorder tree`, `show`, `timeline` and `search` as users run them, on a
// database replayed from the captured log: exact trees, the instance of a
// reused pid, activity and timelines across tables, paging, search hits,
// and the errors for bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "db_query.h"
#include "recorder_cli.h"
#include "run_command.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace {

using recorder::RecorderRun;
using recorder::RunRecorder;
using recorder::RunRecorderApart;
using recorder::TempDir;
using ::testing::HasSubstr;
constexpr auto Quote = &recorder::ShellQuote;

class InvestigateCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    recorder::ReplayCaptureOnce("recorder-investigate-test", &temp_, &db_);
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }

  // Output is piped here, so plain ASCII; --utc makes it independent of TZ.
  static RecorderRun Run(const std::string& args) {
    return RunRecorderApart(args + " --utc --db " + Quote(db_), temp_->File("stderr"));
  }
  static nlohmann::json Json(const std::string& args) {
    RecorderRun r = Run(args + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.text, nullptr, false);
  }

  static TempDir* temp_;
  static std::string db_;
};
TempDir* InvestigateCliTest::temp_ = nullptr;
std::string InvestigateCliTest::db_;

TEST_F(InvestigateCliTest, TreeOfSuShowsTheForkedChildAndWhatItExeced) {
  RecorderRun r = Run("tree 53");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // su's parent was not recorded: the bash subshell (pid 13096, su's
  // ppid) alive when su started is inferred, and marked.
  EXPECT_EQ(r.text,
            "#16 pid 13005 user 0 /usr/bin/bash: (no exec seen) (? .. ?)\n"
            "`- #57 pid 13096 user 0 /usr/bin/bash: (no exec seen) (? .. "
            "2026-11-25T17:57:13.867Z, exit 0) [parent inferred from ppid and start time]\n"
            "   `- > #53 pid 13097 user 0 /usr/bin/su: su -s /bin/sh -c '/bin/true "
            "recorder-golden-su-nobody' nobody (2026-11-25T17:57:13.783Z .. "
            "2026-11-25T17:57:13.851Z, exit 0)\n"
            "      |- #54 pid 13098 user 0 /usr/bin/su: (no exec seen) (? .. ?)\n"
            "      `- #55 pid 13098 user 65534 /usr/bin/dash: sh -c '/bin/true "
            "recorder-golden-su-nobody' (2026-11-25T17:57:13.827Z .. 2026-11-25T17:57:13.847Z, "
            "exit 0)\n"
            "         `- #56 pid 13100 user 65534 /usr/bin/true: /bin/true "
            "recorder-golden-su-nobody (2026-11-25T17:57:13.843Z .. 2026-11-25T17:57:13.843Z, "
            "exit 0)\n");
  EXPECT_EQ(r.err, "");
}

// pid 13098 is su's fork (a placeholder) until it execs sh: --at picks
// the instance alive then, and the ancestry goes through the parent
// instance, not whatever else had the pid.
TEST_F(InvestigateCliTest, PidAtATimeFindsTheInstanceAliveThen) {
  RecorderRun before = Run("tree 13098 --at 2026-11-25T17:57:13.800Z");
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.text,
            "#16 pid 13005 user 0 /usr/bin/bash: (no exec seen) (? .. ?)\n"
            "`- #57 pid 13096 user 0 /usr/bin/bash: (no exec seen) (? .. "
            "2026-11-25T17:57:13.867Z, exit 0) [parent inferred from ppid and start time]\n"
            "   `- #53 pid 13097 user 0 /usr/bin/su: su -s /bin/sh -c '/bin/true "
            "recorder-golden-su-nobody' nobody (2026-11-25T17:57:13.783Z .. "
            "2026-11-25T17:57:13.851Z, exit 0)\n"
            "      `- > #54 pid 13098 user 0 /usr/bin/su: (no exec seen) (? .. ?)\n");
  nlohmann::json after = Json("tree 13098 --at 2026-11-25T17:57:13.840Z");
  EXPECT_EQ(after["tree"]["process_id"], 55);
  EXPECT_EQ(after["tree"]["exe"], "/usr/bin/dash");
  ASSERT_EQ(after["ancestors"].size(), 3u);  // the root-most first
  EXPECT_EQ(after["ancestors"][2]["process_id"], 53);
  EXPECT_EQ(after["ancestors"][2]["inferred"], false);
  EXPECT_EQ(after["ancestors"][1]["process_id"], 57);
  EXPECT_EQ(after["ancestors"][1]["inferred"], true);
  ASSERT_EQ(after["tree"]["children"].size(), 1u);
  EXPECT_EQ(after["tree"]["children"][0]["process_id"], 56);
  // pid 13104 had three instances: su's fork, bash, and the true bash exec'd.
  EXPECT_EQ(Json("tree 13104 --at 2026-11-25T17:57:13.950Z")["tree"]["process_id"], 60);
  nlohmann::json last = Json("tree 13104 --at 2026-11-25T17:57:13.990Z");
  EXPECT_EQ(last["tree"]["process_id"], 61);
  EXPECT_EQ(last["tree"]["cmdline"], "/bin/true recorder-golden-su-root");
  EXPECT_EQ(last["ancestors"].back()["process_id"], 58);  // the nearest
  // Epoch seconds name the same instant.
  EXPECT_EQ(Json("tree 13104 --at 1795629433.99")["tree"]["process_id"], 61);
}

TEST_F(InvestigateCliTest, TreeDepthHidesAndCounts) {
  nlohmann::json tree = Json("tree 16 --depth 1");
  std::set<int64_t> children;
  int64_t hidden = 0;
  for (const auto& child : tree["tree"]["children"]) {
    children.insert(child["process_id"].get<int64_t>());
    EXPECT_TRUE(child["children"].empty());
    hidden += child["hidden_children"].get<int64_t>();
  }
  EXPECT_TRUE(children.count(48));   // the network workload
  EXPECT_FALSE(children.count(49));  // its child, one level down
  EXPECT_GT(hidden, 0);
}

TEST_F(InvestigateCliTest, ShowListsEverythingTheProcessDidInTimeOrder) {
  nlohmann::json show = Json("show 48");
  EXPECT_EQ(show["process"]["pid"], 13090);
  EXPECT_EQ(show["process"]["argv"][2], "net");
  EXPECT_EQ(show["process"]["cwd"], "/work/main");
  ASSERT_EQ(show["parents"].size(), 1u);
  EXPECT_EQ(show["parents"][0]["process_id"], 16);
  EXPECT_EQ(show["counts"],
            nlohmann::json::parse(R"({"exec": 1, "exit": 1, "file": 1, "network": 8})"));
  const auto& activity = show["activity"];
  ASSERT_EQ(activity.size(), 11u);
  EXPECT_EQ(activity[0]["kind"], "exec");
  EXPECT_EQ(activity[10]["kind"], "exit");
  EXPECT_EQ(activity[9]["detail"], "delete /tmp/recorder-capture-work.YTd2Bn/recorder-golden.sock");
  EXPECT_EQ(activity[1]["detail"], "inbound tcp remote 127.0.0.1:43312 local 127.0.0.1:34769");
  for (size_t i = 1; i < activity.size(); ++i)
    EXPECT_LE(activity[i - 1]["time"].get<int64_t>(), activity[i]["time"].get<int64_t>());

  RecorderRun text = Run("show 48");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.text, HasSubstr("activity: 11 events: exec 1, exit 1, file 1, network 8\n"));
  EXPECT_THAT(text.text, HasSubstr("parents:\n  #16 pid 13005 user 0 /usr/bin/bash"));
  EXPECT_THAT(text.text,
              HasSubstr("2026-11-25T17:57:13.659Z  network      #48 pid 13090 "
                        "/usr/bin/python3.11 [0]  outbound remote 127.0.0.1:57123 (failed)\n"));
}

TEST_F(InvestigateCliTest, TimelineMergesTablesInTimeOrder) {
  RecorderRun r =
      Run("timeline --since 2026-11-25T17:57:13.480Z --until 2026-11-25T17:57:13.625Z --limit 100");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.text,
            "2026-11-25T17:57:13.483Z  exec         #47 pid 13089 /usr/bin/true [0]  /bin/true "
            "recorder-golden-step network\n"
            "2026-11-25T17:57:13.491Z  exit         #47 pid 13089 /usr/bin/true [0]  exit 0\n"
            "2026-11-25T17:57:13.495Z  exec         #48 pid 13090 /usr/bin/python3.11 [0]  "
            "/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py net "
            "/tmp/recorder-capture.ALaJej/RAW/results.json /tmp/recorder-capture-work.YTd2Bn "
            "34769 53747 57123 57290\n"
            "2026-11-25T17:57:13.619Z  network      #48 pid 13090 /usr/bin/python3.11 [0]  "
            "inbound tcp remote 127.0.0.1:43312 local 127.0.0.1:34769\n"
            "2026-11-25T17:57:13.619Z  network      #48 pid 13090 /usr/bin/python3.11 [0]  "
            "listen tcp local 127.0.0.1:34769\n"
            "2026-11-25T17:57:13.623Z  network      #49 pid 13091 /usr/bin/python3.11 [0]  "
            "outbound remote 127.0.0.1:34769\n");
  // Kinds, users and exe globs narrow it.
  nlohmann::json files = Json("timeline --kind file,security --exe '*/chmod' --limit 1000");
  std::set<std::string> kinds;
  for (const auto& e : files["events"]) {
    kinds.insert(e["kind"].get<std::string>());
    EXPECT_EQ(e["exe"], "/usr/bin/chmod");
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"file"}));
  nlohmann::json nobody = Json("timeline --user 65534 --kind process --limit 1000");
  ASSERT_FALSE(nobody["events"].empty());
  for (const auto& e : nobody["events"]) EXPECT_EQ(e["user"], "65534");
}

// Pages of 7 joined are the whole timeline, even where a page boundary
// falls between events of the same millisecond.
TEST_F(InvestigateCliTest, TimelinePagesFollowEachOtherWithoutGapOrRepeat) {
  nlohmann::json all = Json("timeline --limit 100000");
  ASSERT_TRUE(all["next"].is_null());
  std::set<std::string> kinds;
  for (const auto& e : all["events"]) kinds.insert(e["kind"].get<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"exec", "exit", "file", "network", "security", "module",
                                          "failed_exec"}));
  nlohmann::json joined = nlohmann::json::array();
  std::string after;
  for (int page = 0; page < 1000; ++page) {
    nlohmann::json p = Json("timeline --limit 7" + (after.empty() ? "" : " --after " + after));
    for (const auto& e : p["events"]) joined.push_back(e);
    if (p["next"].is_null()) break;
    after = p["next"].get<std::string>();
  }
  EXPECT_EQ(joined, all["events"]);
  RecorderRun text = Run("timeline --limit 3");
  EXPECT_THAT(text.text, ::testing::MatchesRegex("(.*\n){3}next page: --after [0-9]+\\.[0-9]+\n"));
}

TEST_F(InvestigateCliTest, SearchFindsATermInEveryTableWithItsProcess) {
  nlohmann::json hits = Json("search recorder-golden-noexec.sh");
  ASSERT_TRUE(hits.contains("failed_exec"));
  EXPECT_EQ(hits["failed_exec"]["hits"][0]["process_id"], 19);
  EXPECT_EQ(hits["failed_exec"]["hits"][0]["detail"],
            "exec /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh failed: EACCES");
  std::vector<std::string> file_details;
  for (const auto& h : hits["file"]["hits"]) file_details.push_back(h["detail"]);
  EXPECT_EQ(file_details,
            (std::vector<std::string>{
                "create /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh",
                "chmod /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh",
                "delete /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh"}));
  std::set<int64_t> processes;
  for (const auto& h : hits["process"]["hits"]) processes.insert(h["process_id"].get<int64_t>());
  EXPECT_EQ(processes, (std::set<int64_t>{17, 18, 20}));
  // An address and a port; a user matches whole.
  nlohmann::json port = Json("search 57123");
  ASSERT_TRUE(port.contains("network"));
  EXPECT_EQ(port["network"]["hits"][0]["detail"], "outbound remote 127.0.0.1:57123");
  nlohmann::json nobody = Json("search 65534 --limit 1");
  EXPECT_EQ(nobody["process"]["hits"].size(), 1u);
  EXPECT_EQ(nobody["process"]["more"], true);
  EXPECT_TRUE(nobody.contains("security"));
  RecorderRun none = Run("search no-such-thing-anywhere");
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.text, "no matches\n");
}

TEST_F(InvestigateCliTest, BadInputIsNamedWithItsExitCode) {
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"tree 99999", 1, "recorder tree: no process with process_id 99999\n"},
      {"show 99999 --json", 1, "recorder show: no process with process_id 99999\n"},
      {"tree 13100 --at 2020-01-01T00:00:00Z", 1,
       "recorder tree: no process with pid 13100 was alive at that time\n"},
      {"tree abc", 2,
       "recorder tree: bad PROCESS 'abc': give a process_id, or a pid with --at TIME\n"},
      {"show 13098 --at yesterday", 2, "recorder show: bad time 'yesterday': "},
      {"timeline --since 2026-13-01", 2, "recorder timeline: bad time '2026-13-01': "},
      {"timeline --kind files", 2, "recorder timeline: unknown event kind 'files': "},
      {"timeline --after nonsense", 2, "recorder timeline: bad cursor 'nonsense': "},
  };
  for (const Case& c : cases) {
    RecorderRun r = Run(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args;
    EXPECT_EQ(r.err.substr(0, c.message.size()), c.message) << c.args;
    EXPECT_EQ(r.text, "") << c.args;
  }
  const std::string missing = temp_->File("no-such.db");
  for (const std::string command : {"tree 1", "show 1", "timeline", "search x"}) {
    RecorderRun r = RunRecorderApart(command + " --db " + Quote(missing), temp_->File("stderr"));
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_THAT(r.err, HasSubstr(missing + ": cannot open database: No such file or directory"))
        << command;
  }
  const std::string not_db = temp_->File("not.db");
  std::ofstream(not_db) << "";
  RecorderRun r = RunRecorderApart("search x --db " + Quote(not_db), temp_->File("stderr"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a recorder database"));
}

// `recorder search-index` builds the indexes search would use on a copy,
// once (a second run builds none), search finds the same, and --drop
// takes them away; a missing file or another file is refused by name.
TEST_F(InvestigateCliTest, SearchIndexBuildsAndDropsTheIndexesSearchUses) {
  const std::string copy = temp_->File("search-index.db");
  ASSERT_EQ(recorder::RunCommand("cp " + Quote(db_) + " " + Quote(copy)).exit_code, 0);
  const std::string err = temp_->File("search-index.err");
  auto search = [&] {
    RecorderRun r =
        RunRecorderApart("search recorder-golden-su-nobody --json --db " + Quote(copy), err);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.text;
  };
  auto present = [&] {
    std::string names;
    for (const std::string& name : recorder::store::SearchIndexNames())
      names += (names.empty() ? "'" : ", '") + name + "'";
    return std::stoi(recorder::Scalar(
        copy, "SELECT count(*) FROM sqlite_schema WHERE type IN ('index', 'table') AND name IN (" +
                  names + ")"));
  };
  const int all = static_cast<int>(recorder::store::SearchIndexNames().size());
  ASSERT_GT(all, 10);
  const std::string unindexed = search();
  EXPECT_THAT(unindexed, HasSubstr("recorder-golden-su-nobody"));
  EXPECT_EQ(present(), 0);

  RecorderRun built = RunRecorderApart("search-index --db " + Quote(copy), err);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_THAT(built.text, HasSubstr("built " + std::to_string(all) + " search index(es)"));
  EXPECT_EQ(present(), all);
  RecorderRun again = RunRecorderApart("search-index --db " + Quote(copy), err);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.text, HasSubstr("built 0 search index(es)"));
  EXPECT_EQ(search(), unindexed) << "the same hits through the indexes";
  // The recorder writing into the database keeps them up to date: a name
  // only in the events written after them (another capture replayed into
  // it) is found through them, and the same without them.
  RecorderRun more =
      RunRecorderApart("replay --no-progress --db " + Quote(copy) + " " +
                           Quote(std::string(RECORDER_TEST_DATA) + "/capture-paths.log"),
                       err);
  ASSERT_EQ(more.exit_code, 0) << more.err;
  auto later = [&] {
    RecorderRun r = RunRecorderApart("search capture-paths.HAwapy --json --db " + Quote(copy), err);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.text;
  };
  const std::string later_indexed = later();
  EXPECT_THAT(later_indexed, HasSubstr("delete /tmp/recorder-capture-paths.HAwapy/rmtest/a.txt"));
  EXPECT_EQ(recorder::RunCommand("sqlite3 " + Quote(copy) +
                                 " \"INSERT INTO strings_trigram(strings_trigram) "
                                 "VALUES ('integrity-check')\"")
                .exit_code,
            0)
      << "the trigram index disagrees with the strings";

  RecorderRun dropped = RunRecorderApart("search-index --drop --db " + Quote(copy), err);
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_THAT(dropped.text, HasSubstr("dropped " + std::to_string(all) + " search index(es)"));
  EXPECT_EQ(present(), 0);
  EXPECT_EQ(search(), unindexed);
  EXPECT_EQ(later(), later_indexed);
  EXPECT_EQ(recorder::Scalar(copy, "PRAGMA integrity_check"), "ok");

  RecorderRun missing = RunRecorderApart("search-index --db " + Quote(temp_->File("none.db")), err);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("none.db: no such database"));
  const std::string text = temp_->File("text.db");
  std::ofstream(text) << "not a database at all, just some text to fill a page or two\n";
  RecorderRun other = RunRecorderApart("search-index --db " + Quote(text), err);
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_THAT(other.err, HasSubstr("text.db"));
}

}  // namespace
