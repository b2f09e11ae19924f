// OpenBSM trails end to end: trails encoded here (bsm_trail_writer.h),
// replayed by the real `recorder replay`, checked field by field in the
// views: execs with argv and ancestry from forks, exits, file creates,
// renames and deletes, connects and accepts, logins; a damaged stretch
// reported with its offset and the rest stored; .gz; --node.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "bsm_sample_trail.h"
#include "db_query.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace recorder {
namespace {

using bsm::testing::FirstHalf;
using bsm::testing::kJunk;
using bsm::testing::SecondHalf;

class BsmReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir("recorder-bsm-replay");
    db_ = temp_->File("monitor.db");
    trail_ = temp_->File("20231114221320.20231114221330");
    std::ofstream(trail_, std::ios::binary) << FirstHalf() << kJunk << SecondHalf();
    RecorderRun run =
        RunRecorderApart("replay --node mac-ann --db " + ShellQuote(db_) + " " + ShellQuote(trail_),
                         temp_->File("err"));
    ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
    summary_ = run.text;
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }
  static Row One(const std::string& sql) {
    std::vector<Row> rows = Query(db_, sql);
    EXPECT_EQ(rows.size(), 1u) << sql;
    return rows.empty() ? Row() : rows[0];
  }
  static TempDir* temp_;
  static std::string db_;
  static std::string trail_;
  static std::string summary_;
};
TempDir* BsmReplayTest::temp_ = nullptr;
std::string BsmReplayTest::db_;
std::string BsmReplayTest::trail_;
std::string BsmReplayTest::summary_;

TEST_F(BsmReplayTest, ExecWithArgvExitAndForkAncestry) {
  Row curl = One("SELECT * FROM processes WHERE pid = 4300");
  ExpectColumns(curl, {{"ppid", "4242"},
                       {"exe", "/usr/bin/curl"},
                       {"comm", "curl"},
                       {"argv", R"(["curl","-s","http://127.0.0.1/"])"},
                       {"cmdline", "curl -s http://127.0.0.1/"},
                       {"start_time_utc", "2023-11-14T22:13:22.250Z"},
                       {"end_time_utc", "2023-11-14T22:13:29.000Z"},
                       {"exit_code", "7"},
                       {"uid", "501"},
                       {"auid", "501"},
                       {"session", "100004"},
                       {"node", "mac-ann"},
                       {"placeholder", "0"}});
  Row zsh = One("SELECT * FROM processes WHERE pid = 4242");
  ExpectColumns(zsh, {{"exe", "/bin/zsh"}, {"argv", R"(["-zsh"])"}, {"node", "mac-ann"}});
  // The fork record named the parent; the exec's row links to its row.
  EXPECT_EQ(curl["parent_process_id"], zsh["process_id"]);
}

TEST_F(BsmReplayTest, FileCreateRenameDelete) {
  std::vector<Row> files =
      Query(db_,
            "SELECT time_utc, pid, exe, operation, path, new_path, success, process_id "
            "FROM file_events ORDER BY time");
  ASSERT_EQ(files.size(), 3u);
  ExpectColumns(files[0], {{"time_utc", "2023-11-14T22:13:23.000Z"},
                           {"pid", "4300"},
                           {"exe", "/usr/bin/curl"},
                           {"operation", "create"},
                           {"path", "/Users/ann/out.txt"},
                           {"new_path", "NULL"},
                           {"success", "1"}});
  ExpectColumns(files[1],
                {{"operation", "rename"}, {"path", "/Users/ann/a"}, {"new_path", "/Users/ann/b"}});
  ExpectColumns(files[2], {{"operation", "delete"}, {"path", "/Users/ann/b"}});
  const std::string curl = Scalar(db_, "SELECT process_id FROM processes WHERE pid = 4300");
  for (const Row& file : files) EXPECT_EQ(file.at("process_id"), curl);
}

TEST_F(BsmReplayTest, ConnectAndAccept) {
  std::vector<Row> net = Query(db_, "SELECT * FROM network_events ORDER BY time");
  ASSERT_EQ(net.size(), 2u);
  ExpectColumns(net[0], {{"pid", "4300"},
                         {"exe", "/usr/bin/curl"},
                         {"direction", "outbound"},
                         {"family", "ipv4"},
                         {"remote_address", "127.0.0.1"},
                         {"remote_port", "80"}});
  ExpectColumns(net[1], {{"pid", "4242"},
                         {"exe", "/bin/zsh"},
                         {"direction", "inbound"},
                         {"protocol", "tcp"},
                         {"local_address", "127.0.0.1"},
                         {"local_port", "22"},
                         {"remote_address", "127.0.0.2"},
                         {"remote_port", "50000"}});
}

TEST_F(BsmReplayTest, Login) {
  Row login = One("SELECT * FROM security_events");
  ExpectColumns(login, {{"time_utc", "2023-11-14T22:13:28.000Z"},
                        {"pid", "4400"},
                        {"kind", "login"},
                        {"user", "501"},
                        {"result", "success"},
                        {"address", "127.0.0.2"},
                        {"detail", "successful login ann"},
                        {"record_type", "USER_LOGIN"}});
}

TEST_F(BsmReplayTest, DamageIsReportedWithItsOffsetAndTheRestStored) {
  const size_t junk_at = FirstHalf().size();
  EXPECT_NE(
      summary_.find(trail_ + ":offset " + std::to_string(junk_at) +
                    ": no whole record here: " + std::to_string(kJunk.size()) + " bytes skipped"),
      std::string::npos)
      << summary_;
  // 10 records: 8 events, the fork remembered, nothing else.
  EXPECT_NE(summary_.find("BSM audit trails: 10 records, 9 mapped to events (stored or already "
                          "stored), 1 of events not mapped, 1 damaged"),
            std::string::npos)
      << summary_;
  ExpectColumns(One("SELECT records, malformed, error FROM runs"),
                {{"records", "10"}, {"malformed", "1"}, {"error", "NULL"}});
}

// A .gz trail is read as the same trail; a replay again stores nothing new.
TEST_F(BsmReplayTest, GzippedTrailAndIdempotence) {
  const std::string gz = temp_->File("trail.gz");
  ASSERT_EQ(RunCommand("gzip -c " + ShellQuote(trail_) + " > " + ShellQuote(gz)).exit_code, 0);
  const std::string db = temp_->File("gz.db");
  RecorderRun run =
      RunRecorder("replay --node mac-ann --db " + ShellQuote(db) + " " + ShellQuote(gz) + " 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(QueryValues(db, "SELECT pid, exe, argv FROM processes ORDER BY pid"),
            QueryValues(db_, "SELECT pid, exe, argv FROM processes ORDER BY pid"));
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM file_events"), "3");
  run =
      RunRecorder("replay --node mac-ann --db " + ShellQuote(db) + " " + ShellQuote(gz) + " 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("stored 0 events"), std::string::npos) << run.text;
  EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM file_events"), "3");
}

// On stdin, plain or gzipped, a trail is known by its content as a file
// is: the same rows as the file's replay.
TEST_F(BsmReplayTest, StdinIsReadAsTheFileIs) {
  for (const std::string& feed : {"cat " + ShellQuote(trail_), "gzip -c " + ShellQuote(trail_)}) {
    const std::string db = temp_->File("stdin.db");
    std::remove(db.c_str());
    CommandResult run = RunCommand(feed + " | " + ShellQuote(RECORDER_BINARY) +
                                   " replay --node mac-ann --db " + ShellQuote(db) + " -");
    ASSERT_EQ(run.exit_code, 0) << feed << "\n" << run.output;
    EXPECT_EQ(QueryValues(db, "SELECT pid, exe, argv, node FROM processes ORDER BY pid"),
              QueryValues(db_, "SELECT pid, exe, argv, node FROM processes ORDER BY pid"))
        << feed;
    EXPECT_EQ(Scalar(db, "SELECT COUNT(*) FROM file_events"), "3") << feed;
  }
}

// --node names a trail's host; a Windows log names its own, so --node
// with only Windows logs is refused, saying why.
TEST_F(BsmReplayTest, NodeOption) {
  const std::string db = temp_->File("node.db");
  ASSERT_EQ(
      RunRecorder("replay --db " + ShellQuote(db) + " " + ShellQuote(trail_) + " 2>&1").exit_code,
      0);
  EXPECT_EQ(Scalar(db, "SELECT node FROM processes WHERE pid = 4300"), "NULL");
  RecorderRun run =
      RunRecorder("replay --node x --db " + ShellQuote(temp_->File("w.db")) + " " +
                  ShellQuote(std::string(RECORDER_TEST_DATA) + "/evtx/sysmon.evtx") + " 2>&1");
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_NE(run.text.find("--node names the host of inputs that name none"), std::string::npos)
      << run.text;
}

}  // namespace
}  // namespace recorder
