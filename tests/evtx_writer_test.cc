// The Sysmon ids the public samples lack (5, 6, 7, 14, 22, 23, 26), end to
// end through a real .evtx file: written by tests/evtx_writer.h, read by
// `evtxexport` (libevtx's own tool: the writer's files are valid EVTX),
// read alike by our decoder and by libevtx, then `recorder replay` into
// the views, each row checked.
#include "evtx_writer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "db_query.h"
#include "evtx/evtx_reader.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace recorder {
namespace {

using evtx_test::EvtxWriter;
using evtx_test::FileTimeOf;
using evtx_test::WrittenRecord;
constexpr auto Quote = &ShellQuote;

constexpr char kGuid[] = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}";
constexpr int64_t kWrittenMs = 1704164645000;  // 2024-01-02 03:04:05 UTC

WrittenRecord Sysmon(uint16_t id, std::vector<std::pair<std::string, std::string>> data) {
  WrittenRecord record;
  record.event_id = id;
  record.filetime = FileTimeOf(kWrittenMs);
  record.data = std::move(data);
  return record;
}

std::vector<WrittenRecord> Records() {
  const std::string guid(kGuid);
  const std::string image = "C:\\Windows\\System32\\cmd.exe";
  return {
      Sysmon(1, {{"UtcTime", "2024-01-02 03:04:05.000"},
                 {"ProcessGuid", guid},
                 {"ProcessId", "200"},
                 {"Image", image},
                 {"CommandLine", "cmd.exe /c whoami"},
                 {"CurrentDirectory", "C:\\Users\\u\\"},
                 {"User", "HOST\\u"},
                 {"LogonId", "0x3e7"},
                 {"IntegrityLevel", "High"},
                 {"Hashes", "MD5=AA,SHA256=BB,IMPHASH=CC"},
                 {"ParentProcessGuid", "{00000000-0000-0000-0000-000000000001}"},
                 {"ParentProcessId", "100"},
                 {"ParentImage", "C:\\Windows\\explorer.exe"},
                 {"ParentCommandLine", "C:\\Windows\\Explorer.EXE"}}),
      Sysmon(7, {{"UtcTime", "2024-01-02 03:04:05.100"},
                 {"ProcessGuid", guid},
                 {"ProcessId", "200"},
                 {"Image", image},
                 {"ImageLoaded", "C:\\Windows\\System32\\ntdll.dll"},
                 {"Hashes", "SHA256=ABCDEF"},
                 {"Signed", "true"},
                 {"Signature", "Microsoft Windows"}}),
      Sysmon(22, {{"UtcTime", "2024-01-02 03:04:05.200"},
                  {"ProcessGuid", guid},
                  {"ProcessId", "200"},
                  {"QueryName", "example.com"},
                  {"QueryStatus", "0"},
                  {"QueryResults", "::ffff:93.184.216.34;"},
                  {"Image", image}}),
      Sysmon(23, {{"UtcTime", "2024-01-02 03:04:05.300"},
                  {"ProcessGuid", guid},
                  {"ProcessId", "200"},
                  {"Image", image},
                  {"TargetFilename", "C:\\Users\\u\\a.txt"},
                  {"Hashes", "SHA256=00"},
                  {"IsExecutable", "false"},
                  {"Archived", "true"}}),
      Sysmon(26, {{"UtcTime", "2024-01-02 03:04:05.400"},
                  {"ProcessGuid", guid},
                  {"ProcessId", "200"},
                  {"Image", image},
                  {"TargetFilename", "C:\\Users\\u\\b.txt"}}),
      Sysmon(14, {{"EventType", "RenameKey"},
                  {"UtcTime", "2024-01-02 03:04:05.500"},
                  {"ProcessGuid", guid},
                  {"ProcessId", "200"},
                  {"Image", image},
                  {"TargetObject", "HKLM\\SOFTWARE\\Old"},
                  {"NewName", "HKLM\\SOFTWARE\\New"}}),
      Sysmon(6, {{"UtcTime", "2024-01-02 03:04:05.600"},
                 {"ImageLoaded", "C:\\Windows\\System32\\drivers\\evil.sys"},
                 {"Hashes", "SHA256=FF"},
                 {"Signed", "false"},
                 {"Signature", ""}}),
      Sysmon(5, {{"UtcTime", "2024-01-02 03:04:06.000"},
                 {"ProcessGuid", guid},
                 {"ProcessId", "200"},
                 {"Image", image}}),
  };
}

class EvtxWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_.File("written.evtx");
    std::ofstream(path_, std::ios::binary) << EvtxWriter::Write(Records());
  }
  TempDir temp_{"recorder-evtx-writer"};
  std::string path_;
};

TEST_F(EvtxWriterTest, EvtxexportReadsTheWrittenFile) {
  if (RunCommand("command -v evtxexport >/dev/null").exit_code != 0)
    GTEST_SKIP() << "evtxexport (libevtx-utils, installed by scripts/install-deps) is missing";
  const CommandResult xml = RunCommand("evtxexport -f xml " + Quote(path_));
  ASSERT_EQ(xml.exit_code, 0) << xml.output;
  size_t events = 0;
  for (size_t at = xml.output.find("</Event>"); at != std::string::npos;
       at = xml.output.find("</Event>", at + 1))
    ++events;
  EXPECT_EQ(events, Records().size()) << xml.output;
  EXPECT_NE(xml.output.find("<Data Name=\"QueryName\">example.com</Data>"), std::string::npos)
      << xml.output;
  EXPECT_NE(xml.output.find("<EventID>26</EventID>"), std::string::npos) << xml.output;
  EXPECT_NE(xml.output.find("<Computer>WIN-HOST</Computer>"), std::string::npos) << xml.output;
}

TEST_F(EvtxWriterTest, OurDecoderAndLibevtxReadEveryValue) {
  for (const bool own : {true, false}) {
    SCOPED_TRACE(own ? "our decoder" : "libevtx");
    auto reader = evtx::EvtxReader::OpenFile(path_);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    (*reader)->set_own_decoder(own);
    std::vector<evtx::EvtxProblem> problems;
    size_t index = 0;
    const std::vector<WrittenRecord> written = Records();
    (*reader)->ReadAll(
        [&](const evtx::EvtxRecord& record) {
          ASSERT_LT(index, written.size());
          const WrittenRecord& expected = written[index++];
          EXPECT_EQ(record.record_id, index);
          EXPECT_EQ(record.event_id, expected.event_id);
          EXPECT_EQ(record.written_ms, kWrittenMs);
          EXPECT_EQ(record.provider, "Microsoft-Windows-Sysmon");
          EXPECT_EQ(record.computer, "WIN-HOST");
          ASSERT_EQ(record.fields.size(), expected.data.size());
          for (size_t i = 0; i < expected.data.size(); ++i) {
            EXPECT_EQ(record.fields[i].name, expected.data[i].first);
            EXPECT_EQ(record.fields[i].value, expected.data[i].second);
          }
        },
        [&](const evtx::EvtxProblem& problem) { problems.push_back(problem); });
    EXPECT_EQ(index, Records().size());
    EXPECT_TRUE(problems.empty()) << problems[0].where << ": " << problems[0].reason;
    EXPECT_EQ((*reader)->stats().own_decoder, own);
    EXPECT_EQ((*reader)->stats().by_libevtx, 0u);
  }
}

TEST_F(EvtxWriterTest, ReplayFillsAViewForEveryId) {
  const std::string db = temp_.File("monitor.db");
  RecorderRun run =
      RunRecorderApart("replay --db " + Quote(db) + " " + Quote(path_), temp_.File("err"));
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  std::vector<Row> processes =
      Query(db, "SELECT * FROM processes WHERE process_guid = '" + std::string(kGuid) + "'");
  ASSERT_EQ(processes.size(), 1u);
  const std::string id = processes[0]["process_id"];
  ExpectColumns(processes[0], {{"pid", "200"},
                               {"cmdline", "cmd.exe /c whoami"},
                               {"sha256", "bb"},
                               {"integrity_level", "High"},
                               {"end_time_utc", "2024-01-02T03:04:06.000Z"},
                               {"node", "WIN-HOST"}});
  std::vector<Row> images = Query(db, "SELECT * FROM image_events");
  ASSERT_EQ(images.size(), 1u);
  ExpectColumns(images[0], {{"process_id", id}, {"path", "C:\\Windows\\System32\\ntdll.dll"}});
  std::vector<Row> dns = Query(db, "SELECT * FROM dns_events");
  ASSERT_EQ(dns.size(), 1u);
  ExpectColumns(dns[0],
                {{"process_id", id}, {"query", "example.com"}, {"response", "93.184.216.34"}});
  std::vector<Row> files = Query(db, "SELECT * FROM file_events ORDER BY time");
  ASSERT_EQ(files.size(), 2u);
  ExpectColumns(files[0],
                {{"process_id", id}, {"operation", "delete"}, {"path", "C:\\Users\\u\\a.txt"}});
  ExpectColumns(files[1], {{"operation", "delete"}, {"path", "C:\\Users\\u\\b.txt"}});
  std::vector<Row> registry = Query(db, "SELECT * FROM registry_events");
  ASSERT_EQ(registry.size(), 1u);
  ExpectColumns(
      registry[0],
      {{"process_id", id}, {"event_type", "RenameKey"}, {"new_name", "HKLM\\SOFTWARE\\New"}});
  std::vector<Row> modules = Query(db, "SELECT * FROM module_events");
  ASSERT_EQ(modules.size(), 1u);
  ExpectColumns(modules[0],
                {{"operation", "load"}, {"module", "C:\\Windows\\System32\\drivers\\evil.sys"}});
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM sysmon_events"), "8");
}

}  // namespace
}  // namespace recorder
