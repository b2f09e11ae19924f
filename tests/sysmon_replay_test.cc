// Sysmon EVTX end to end: `recorder replay` of the public sample logs
// (tests/data/evtx, see its README) -> the same views audit logs fill,
// with processes linked by ProcessGuid, plus registry_events and the
// records whole in sysmon_events. Every event id sysmon.evtx holds that
// the recorder maps (1, 3, 11, 12, 13) is checked on a row whose values
// come from `recorder parse` of the same record; the ids the sample lacks
// are mapped and stored in sysmon_event_test.cc, and replayed from a file
// the tests write in evtx_writer_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "db_query.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace {

using recorder::CommandResult;
using recorder::ExpectColumns;
using recorder::Query;
using recorder::RecorderRun;
using recorder::Row;
using recorder::RunCommand;
using recorder::RunRecorder;
using recorder::RunRecorderApart;
using recorder::Scalar;
using recorder::TempDir;
using ::testing::HasSubstr;
constexpr auto Quote = &recorder::ShellQuote;

const std::string kSamples = std::string(RECORDER_TEST_DATA) + "/evtx/";
const std::string kHost = "DESKTOP-2KGM189";

// The process row of ProcessGuid `guid`.
Row ProcessOf(const std::string& db, const std::string& guid) {
  std::vector<Row> rows = Query(db, "SELECT * FROM processes WHERE process_guid = '" + guid + "'");
  EXPECT_EQ(rows.size(), 1u) << guid;
  return rows.empty() ? Row() : rows[0];
}

class SysmonReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir("recorder-sysmon-test");
    db_ = temp_->File("monitor.db");
    RecorderRun run = RunRecorderApart(
        "replay --db " + Quote(db_) + " " + Quote(kSamples + "sysmon.evtx"), temp_->File("err"));
    ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
    summary_ = run.text;
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }
  static TempDir* temp_;
  static std::string db_;
  static std::string summary_;
};
TempDir* SysmonReplayTest::temp_ = nullptr;
std::string SysmonReplayTest::db_;
std::string SysmonReplayTest::summary_;

// Record 1742: PING.EXE, whose parent (cmd.exe) was created before the log.
TEST_F(SysmonReplayTest, ProcessCreateFillsEveryColumn) {
  Row ping = ProcessOf(db_, "{94F748D5-4A45-5A42-0000-0010D265F20F}");
  ExpectColumns(ping,
                {
                    {"pid", "9112"},
                    {"ppid", "8392"},
                    {"start_time_utc", "2017-12-26T13:10:29.134Z"},
                    {"end_time", "NULL"},
                    {"exit_code", "NULL"},
                    {"exe", "C:\\Windows\\SysWOW64\\PING.EXE"},
                    {"comm", "PING.EXE"},
                    {"cmdline", "ping  -n 6 127.0.0.1 "},
                    {"argv", R"(["ping","-n","6","127.0.0.1"])"},
                    {"cwd", "C:\\Windows\\Temp\\"},
                    {"user", "NT AUTHORITY\\SYSTEM"},
                    {"uid", "NULL"},
                    {"logon_id", "0x00000000000003e7"},
                    {"integrity_level", "System"},
                    {"sha256", "8f16a431c919a0aa7c9466ec1cdc1e721f30eb5c8182835585a1b74abecb1920"},
                    {"md5", "a27a24553b2c36e139647f88df738c35"},
                    {"sha1", "ce8e487cb76704fe5fbb821a78a1e969efbe71f9"},
                    {"imphash", "0eb64eaca8c951d760eea1a941a2a3f7"},
                    {"node", kHost},
                    {"placeholder", "0"},
                    {"success", "1"},
                    {"parent_process_guid", "{94F748D5-D211-597D-0000-00109BD2C107}"},
                });
  // The parent's create is not in the log: a placeholder row from what
  // the child's record says of it, which the child links to.
  Row cmd = ProcessOf(db_, "{94F748D5-D211-597D-0000-00109BD2C107}");
  ExpectColumns(cmd, {{"pid", "8392"},
                      {"exe", "C:\\Windows\\SysWOW64\\cmd.exe"},
                      {"cmdline",
                       "C:\\Windows\\system32\\cmd.exe /c C:\\Windows\\TEMP\\update.bat "
                       "C:\\Users\\tony\\AppData\\Local\\Temp\\pytest-of-tony\\pytest-0\\"
                       "test_agent_update_op0\\pathfinder\\pathfinder.exe "
                       "C:\\Windows\\TEMP\\pathfinder_sfx.exe"},
                      {"start_time", "NULL"},
                      {"placeholder", "1"},
                      {"node", kHost}});
  EXPECT_EQ(ping["parent_process_id"], cmd["process_id"]);
}

// Record 1913's parent is record 1903's process, whose own parent
// (svchost, pid 436) ran before the log began: its row is the placeholder
// the first child's record (1758) described.
TEST_F(SysmonReplayTest, AncestryFollowsParentProcessGuid) {
  Row installer = ProcessOf(db_, "{94F748D5-B28E-5A44-0000-0010CF700510}");
  Row launcher = ProcessOf(db_, "{94F748D5-B28A-5A44-0000-0010C11C0410}");
  Row svchost = ProcessOf(db_, "{94F748D5-5A65-5966-0000-00100BF70000}");
  EXPECT_EQ(installer["parent_process_id"], launcher["process_id"]);
  EXPECT_EQ(launcher["parent_process_id"], svchost["process_id"]);
  ExpectColumns(installer,
                {{"exe", "C:\\Windows\\Temp\\opera autoupdate\\installer.exe"},
                 {"cmdline", "\"C:\\Windows\\TEMP\\opera autoupdate\\installer.exe\" --version"},
                 {"argv", R"(["C:\\Windows\\TEMP\\opera autoupdate\\installer.exe","--version"])"},
                 {"ppid", "7580"}});
  ExpectColumns(svchost, {{"pid", "436"},
                          {"exe", "C:\\Windows\\System32\\svchost.exe"},
                          {"cmdline", "C:\\Windows\\system32\\svchost.exe -k netsvcs"},
                          {"placeholder", "1"}});
  // Every create with its parent's create in the log is linked to it
  // (31 such pairs in the sample).
  EXPECT_EQ(Scalar(db_,
                   "SELECT count(*) FROM processes c JOIN processes p ON "
                   "p.process_id = c.parent_process_id WHERE c.placeholder = 0 AND "
                   "p.placeholder = 0 AND p.process_guid = c.parent_process_guid"),
            "31");
  EXPECT_EQ(Scalar(db_,
                   "SELECT count(*) FROM processes WHERE placeholder = 0 AND "
                   "(parent_process_id IS NULL OR parent_process_guid IS NULL)"),
            "0");
}

// Pid 8416 runs two processes (records 1744 and 1821): two rows, never
// one exec'ing into the other.
TEST_F(SysmonReplayTest, ANewCreateOfALivePidIsANewProcess) {
  std::vector<Row> rows = Query(db_,
                                "SELECT process_id, process_guid FROM processes WHERE pid = 8416 "
                                "AND placeholder = 0 ORDER BY start_time");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["process_guid"], "{94F748D5-4A4F-5A42-0000-00102492F20F}");
  EXPECT_EQ(rows[1]["process_guid"], "{94F748D5-4B68-5A42-0000-0010E550F80F}");
  EXPECT_NE(rows[0]["process_id"], rows[1]["process_id"]);
}

TEST_F(SysmonReplayTest, NetworkConnectionIsTheProcesssOutboundRow) {
  std::vector<Row> rows = Query(db_, "SELECT * FROM network_events ORDER BY time");
  ASSERT_EQ(rows.size(), 2u);
  Row installer = ProcessOf(db_, "{94F748D5-4DCB-5A9E-0000-0010B2051110}");
  ExpectColumns(rows[0], {{"time_utc", "2017-12-18T14:51:29.706Z"},
                          {"process_id", installer["process_id"]},
                          {"pid", "4280"},
                          {"exe",
                           "C:\\Windows\\Temp\\opera autoupdate\\CProgram "
                           "FilesOpera\\installing\\installer.exe"},
                          {"user", "NT AUTHORITY\\SYSTEM"},
                          {"direction", "outbound"},
                          {"protocol", "tcp"},
                          {"family", "ipv4"},
                          {"local_address", "192.168.2.128"},
                          {"local_port", "59344"},
                          {"remote_address", "185.26.182.117"},
                          {"remote_port", "443"},
                          {"node", kHost}});
}

TEST_F(SysmonReplayTest, FileCreateIsAFileEventOfItsProcess) {
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM file_events WHERE operation = 'create'"), "34");
  std::vector<Row> rows = Query(db_, "SELECT * FROM file_events ORDER BY time LIMIT 1");
  ASSERT_EQ(rows.size(), 1u);
  ExpectColumns(rows[0],
                {{"time_utc", "2017-12-26T13:11:33.753Z"},
                 {"pid", "436"},
                 {"exe", "C:\\Windows\\System32\\svchost.exe"},  // its process row's
                 {"operation", "create"},
                 {"path", "C:\\Windows\\SoftwareDistribution\\Download\\Install\\AM_Delta.exe"},
                 {"path_unresolved", "0"},
                 {"node", kHost}});
  EXPECT_EQ(rows[0]["process_id"],
            ProcessOf(db_, "{94F748D5-5A65-5966-0000-00100BF70000}")["process_id"]);
}

TEST_F(SysmonReplayTest, RegistryEventsKeepSysmonsValues) {
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM registry_events"), "32");
  std::vector<Row> set = Query(db_, "SELECT * FROM registry_events ORDER BY time LIMIT 1");
  ASSERT_EQ(set.size(), 1u);
  ExpectColumns(set[0],
                {{"time_utc", "2017-12-26T13:11:44.565Z"},
                 {"pid", "592"},
                 {"exe", "C:\\Windows\\system32\\services.exe"},
                 {"event_type", "SetValue"},
                 {"target_object",
                  "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\MpKsle59912eb\\Start"},
                 {"details", "DWORD (0x00000004)"},
                 {"new_name", "NULL"},
                 {"node", kHost}});
  std::vector<Row> deleted =
      Query(db_,
            "SELECT * FROM registry_events WHERE event_type = 'DeleteValue' ORDER BY time, "
            "target_object DESC");
  ASSERT_FALSE(deleted.empty());
  ExpectColumns(
      deleted[0],
      {{"time_utc", "2017-12-26T13:18:08.040Z"},
       {"pid", "8268"},
       {"exe", "C:\\Users\\tony\\AppData\\Local\\Temp\\Procmon64.exe"},
       {"target_object", "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\PROCMON23\\Start"},
       {"details", "NULL"}});
}

// Every stored record whole, under Sysmon's names; the ids not mapped
// (10 process access, 15 stream hash, 16 configuration) are counted.
TEST_F(SysmonReplayTest, RecordsAreKeptWholeAndTheRunCountsThem) {
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM sysmon_events"), "295");
  EXPECT_EQ(Scalar(db_,
                   "SELECT json_extract(data, '$.ParentCommandLine') FROM sysmon_events "
                   "WHERE record_id = 1913"),
            "\"C:\\Program Files\\Opera\\launcher.exe\" --scheduledautoupdate $(Arg0)");
  ExpectColumns(Query(db_, "SELECT * FROM sysmon_events WHERE record_id = 1742")[0],
                {{"event_id", "1"}, {"node", kHost}, {"time_utc", "2017-12-26T13:10:29.134Z"}});
  ExpectColumns(Query(db_, "SELECT * FROM runs")[0], {{"evtx_records", "358"},
                                                      {"evtx_other_channels", "0"},
                                                      {"records", "358"},
                                                      {"ignored_events", "63"},
                                                      {"process_starts", "227"},
                                                      {"network_events", "2"},
                                                      {"file_events", "34"},
                                                      {"registry_events", "32"},
                                                      {"malformed", "0"}});
  EXPECT_THAT(summary_, HasSubstr("Windows event logs: 358 records"));
}

TEST_F(SysmonReplayTest, ReplayingAgainAddsNothing) {
  TempDir temp("recorder-sysmon-again");
  const std::string db = temp.File("monitor.db");
  const std::string replay = "replay --db " + Quote(db) + " " + Quote(kSamples + "sysmon.evtx");
  ASSERT_EQ(RunRecorder(replay).exit_code, 0);
  const std::string counts =
      "SELECT (SELECT count(*) FROM processes) || ' ' || (SELECT count(*) FROM file_events) || "
      "' ' || (SELECT count(*) FROM registry_events) || ' ' || "
      "(SELECT count(*) FROM sysmon_events)";
  const std::string before = Scalar(db, counts);
  RecorderRun again = RunRecorder(replay);
  ASSERT_EQ(again.exit_code, 0) << again.text;
  EXPECT_EQ(Scalar(db, counts), before);
  EXPECT_EQ(Scalar(db, "SELECT duplicates FROM runs ORDER BY run_id DESC LIMIT 1"), "295");
}

// On stdin, plain or gzipped, a Windows event log is known by its content
// as a file is: the same rows as the file's replay.
TEST_F(SysmonReplayTest, StdinIsReadAsTheFileIs) {
  TempDir temp("recorder-sysmon-stdin");
  const std::string counts =
      "SELECT (SELECT count(*) FROM processes) || ' ' || (SELECT count(*) FROM file_events) || "
      "' ' || (SELECT count(*) FROM registry_events) || ' ' || "
      "(SELECT count(*) FROM sysmon_events) || ' ' || (SELECT group_concat(DISTINCT node) "
      "FROM processes)";
  const std::string plain = temp.File("plain.db"), gz = temp.File("gz.db");
  CommandResult run = RunCommand(Quote(RECORDER_BINARY) + " replay --db " + Quote(plain) + " - < " +
                                 Quote(kSamples + "sysmon.evtx"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("Windows event logs: 358 records"));
  EXPECT_EQ(Scalar(plain, counts), Scalar(db_, counts));
  run = RunCommand("gzip -c " + Quote(kSamples + "sysmon.evtx") + " | " + Quote(RECORDER_BINARY) +
                   " replay --db " + Quote(gz) + " -");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(Scalar(gz, counts), Scalar(db_, counts));
}

// The investigation commands on the imported host.
TEST_F(SysmonReplayTest, TreeAndShowWorkOnTheImportedHost) {
  const std::string installer =
      ProcessOf(db_, "{94F748D5-B28E-5A44-0000-0010CF700510}")["process_id"];
  RecorderRun tree = RunRecorderApart("tree " + installer + " --utc --json --db " + Quote(db_),
                                      temp_->File("tree.err"));
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_THAT(tree.text, HasSubstr("launcher.exe"));
  EXPECT_THAT(tree.text, HasSubstr("svchost.exe"));
  const std::string net = ProcessOf(db_, "{94F748D5-4DCB-5A9E-0000-0010B2051110}")["process_id"];
  RecorderRun show =
      RunRecorderApart("show " + net + " --utc --db " + Quote(db_), temp_->File("show.err"));
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.text, HasSubstr("185.26.182.117"));
  RecorderRun search =
      RunRecorderApart("search MpKsle59912eb --utc --db " + Quote(db_), temp_->File("search.err"));
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_THAT(search.text, HasSubstr("SetValue"));
}

// The log cut between chunks (each chunk is self-contained; evtxexport
// reads both halves): the parent's create is in the first file, the
// child's in the second, replayed by a second run.
TEST(SysmonReplay, AncestryCrossesTwoFilesOfOneHost) {
  TempDir temp("recorder-sysmon-split");
  std::ifstream in(kSamples + "sysmon.evtx", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kHeader = 4096, kChunk = 65536;
  ASSERT_EQ(bytes.size(), kHeader + 17 * kChunk);
  const std::string first = temp.File("first.evtx"), second = temp.File("second.evtx");
  // Chunks 0-3 hold records 1742..1904, chunks 4-8 records 1905..2099.
  std::ofstream(first, std::ios::binary) << bytes.substr(0, kHeader + 4 * kChunk);
  std::ofstream(second, std::ios::binary)
      << bytes.substr(0, kHeader) + bytes.substr(kHeader + 4 * kChunk, 5 * kChunk);
  if (RunCommand("command -v evtxexport >/dev/null").exit_code == 0) {
    EXPECT_EQ(RunCommand("evtxexport " + Quote(first) + " | grep -c '^Event number'").output,
              "163\n");
    EXPECT_EQ(RunCommand("evtxexport " + Quote(second) + " | grep -c '^Event number'").output,
              "195\n");
  }
  const std::string db = temp.File("monitor.db");
  ASSERT_EQ(RunRecorder("replay --db " + Quote(db) + " " + Quote(first)).exit_code, 0);
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM sysmon_events WHERE record_id > 1904"), "0");
  ASSERT_EQ(RunRecorder("replay --db " + Quote(db) + " " + Quote(second)).exit_code, 0);
  Row installer = ProcessOf(db, "{94F748D5-B28E-5A44-0000-0010CF700510}");  // record 1913
  Row launcher = ProcessOf(db, "{94F748D5-B28A-5A44-0000-0010C11C0410}");   // record 1903
  EXPECT_EQ(launcher["placeholder"], "0");
  EXPECT_EQ(installer["parent_process_id"], launcher["process_id"]);
  // Same as one replay of the whole log.
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM processes WHERE placeholder = 0"), "227");
}

// A damaged chunk: its records are read back where libevtx can, each
// damaged one named as FILE:record: reason, and the replay goes on. The
// log is an AppXDeployment one: not Sysmon, so counted and skipped.
TEST(SysmonReplay, ADamagedChunkIsReportedAndReadingGoesOn) {
  TempDir temp("recorder-sysmon-damaged");
  const std::string db = temp.File("monitor.db");
  const std::string file = kSamples + "sample_with_a_bad_chunk_magic.evtx";
  RecorderRun run =
      RunRecorderApart("replay --db " + Quote(db) + " " + Quote(file), temp.File("err"));
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  EXPECT_THAT(run.text, HasSubstr(file + ":recovered record 0: "));
  ExpectColumns(Query(db, "SELECT * FROM runs")[0], {{"evtx_records", "348"},
                                                     {"evtx_other_channels", "348"},
                                                     {"malformed", "82"},
                                                     {"events_stored", "0"}});
}

TEST(SysmonReplay, AnotherChannelIsCountedAndSkipped) {
  TempDir temp("recorder-sysmon-security");
  const std::string db = temp.File("monitor.db");
  RecorderRun run = RunRecorder("replay --db " + Quote(db) + " " +
                                Quote(kSamples + "Security_short_selected.evtx"));
  ASSERT_EQ(run.exit_code, 0) << run.text;
  EXPECT_THAT(run.text, HasSubstr("7 records of other channels skipped"));
  ExpectColumns(Query(db, "SELECT * FROM runs")[0],
                {{"evtx_records", "7"}, {"evtx_other_channels", "7"}, {"events_stored", "0"}});
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM processes"), "0");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM sysmon_events"), "0");
}

}  // namespace
