// `recorder parse` on Windows event logs: known by content (plain or
// .gz), one JSON line a record, damage reported on stderr.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "recorder_cli.h"
#include "temp_dir.h"

namespace recorder {
namespace {

const std::string kSamples = std::string(RECORDER_TEST_DATA) + "/evtx/";

TEST(EvtxParseCli, ASysmonLogPrintsEveryRecordWithNamedValues) {
  TempDir temp("evtx-cli");
  RecorderRun run =
      RunRecorderApart("parse " + ShellQuote(kSamples + "sysmon.evtx"), temp.path() + "/err");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<nlohmann::json> lines = JsonLines(run.text);
  ASSERT_EQ(lines.size(), 358u);
  const nlohmann::json& first = lines[0];
  EXPECT_EQ(first["event_id"], 1);
  EXPECT_EQ(first["record_id"], 1742);
  EXPECT_EQ(first["time"], "2017-12-26T13:10:29.136Z");
  EXPECT_EQ(first["computer"], "DESKTOP-2KGM189");
  EXPECT_EQ(first["data"]["Image"], "C:\\Windows\\SysWOW64\\PING.EXE");
  EXPECT_EQ(first["data"]["ParentProcessId"], "8392");
  EXPECT_NE(run.err.find("358 Windows event log records"), std::string::npos) << run.err;
}

TEST(EvtxParseCli, AGzippedLogWithAnyNameReadsTheSame) {
  TempDir temp("evtx-cli");
  const std::string gz = temp.path() + "/log-without-extension.gz";
  ASSERT_EQ(RunCommand("gzip -c " + ShellQuote(kSamples + "sysmon.evtx") + " > " + ShellQuote(gz))
                .exit_code,
            0);
  RecorderRun plain = RunRecorder("parse " + ShellQuote(kSamples + "sysmon.evtx") + " 2>/dev/null");
  RecorderRun zipped = RunRecorder("parse " + ShellQuote(gz) + " 2>/dev/null");
  ASSERT_EQ(zipped.exit_code, 0);
  EXPECT_EQ(zipped.text, plain.text);
}

// The content decides: a gzipped audit log (or a plain one named .evtx)
// is still read as audit text.
TEST(EvtxParseCli, AuditTextIsNotTakenForEvtxWhateverItsName) {
  TempDir temp("evtx-cli");
  const std::string log = std::string(RECORDER_TEST_DATA) + "/capture-raw.log";
  const std::string gz = temp.path() + "/audit.log.gz";
  const std::string named = temp.path() + "/audit.evtx";
  ASSERT_EQ(RunCommand("gzip -c " + ShellQuote(log) + " > " + ShellQuote(gz) + " && cp " +
                       ShellQuote(log) + " " + ShellQuote(named))
                .exit_code,
            0);
  RecorderRun plain = RunRecorder("parse " + ShellQuote(log) + " 2>/dev/null");
  ASSERT_EQ(plain.exit_code, 0);
  ASSERT_FALSE(plain.text.empty());
  EXPECT_EQ(RunRecorder("parse " + ShellQuote(gz) + " 2>/dev/null").text, plain.text);
  EXPECT_EQ(RunRecorder("parse " + ShellQuote(named) + " 2>/dev/null").text, plain.text);
}

TEST(EvtxParseCli, DamagedRecordsAreNamedAndTheRestIsRead) {
  TempDir temp("evtx-cli");
  const std::string file = kSamples + "sample_with_a_bad_chunk_magic.evtx";
  RecorderRun run = RunRecorderApart("parse " + ShellQuote(file), temp.path() + "/err");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(JsonLines(run.text).size(), 348u);
  EXPECT_NE(run.err.find(file + ":recovered record 0: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("82 damaged records in all"), std::string::npos) << run.err;
}

TEST(EvtxParseCli, AnotherChannelIsReadToo) {
  RecorderRun run = RunRecorder("parse " + ShellQuote(kSamples + "Security_short_selected.evtx") +
                                " 2>/dev/null");
  ASSERT_EQ(run.exit_code, 0);
  std::vector<nlohmann::json> lines = JsonLines(run.text);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0]["provider"], "Microsoft-Windows-Security-Auditing");
}

}  // namespace
}  // namespace recorder
