// `recorder parse` on BSM audit trails: known by content (plain or .gz),
// one JSON line a record, damage reported on stderr with its offset. The
// sample trail (tests/data/bsm/sample.trail) was encoded with
// bsm_trail_writer.h; its values are the ones checked here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recorder_cli.h"
#include "temp_dir.h"

namespace recorder {
namespace {

const std::string kTrail = std::string(RECORDER_TEST_DATA) + "/bsm/sample.trail";

TEST(BsmParseCli, ATrailPrintsEveryRecord) {
  TempDir temp("bsm-cli");
  RecorderRun run = RunRecorderApart("parse " + ShellQuote(kTrail), temp.path() + "/err");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<nlohmann::json> lines = JsonLines(run.text);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0]["event_name"], "AUE_EXECVE");
  EXPECT_EQ(lines[0]["time"], "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(lines[0]["exec_args"], nlohmann::json::parse(R"(["/bin/ls","-l","/tmp"])"));
  EXPECT_EQ(lines[0]["subject"]["pid"], 4242);
  EXPECT_EQ(lines[2]["event_name"], "AUE_RENAME");
  EXPECT_EQ(lines[2]["paths"], nlohmann::json::parse(R"(["/Users/ann/a","/Users/ann/b"])"));
  EXPECT_EQ(lines[4]["socket"]["local_port"], 22);
  EXPECT_EQ(lines[4]["socket"]["remote"], "127.0.0.2");
  EXPECT_EQ(lines[6]["event_name"], "AUE_openssh");
  EXPECT_EQ(lines[7]["event_name"], "AUE_EXIT");
  EXPECT_NE(run.err.find("8 BSM audit trail records"), std::string::npos) << run.err;
}

TEST(BsmParseCli, AGzippedOrCutTrail) {
  TempDir temp("bsm-cli");
  const std::string gz = temp.path() + "/trail.gz";
  ASSERT_EQ(RunCommand("gzip -c " + ShellQuote(kTrail) + " > " + ShellQuote(gz)).exit_code, 0);
  RecorderRun plain = RunRecorder("parse " + ShellQuote(kTrail) + " 2>/dev/null");
  RecorderRun zipped = RunRecorder("parse " + ShellQuote(gz) + " 2>/dev/null");
  ASSERT_EQ(zipped.exit_code, 0);
  EXPECT_EQ(zipped.text, plain.text);

  // Cut in the middle of its third record: two records, the cut named.
  const std::string cut = temp.path() + "/cut";
  ASSERT_EQ(RunCommand("head -c 300 " + ShellQuote(kTrail) + " > " + ShellQuote(cut)).exit_code, 0);
  RecorderRun run = RunRecorderApart("parse " + ShellQuote(cut), temp.path() + "/err");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(JsonLines(run.text).size(), 2u);
  EXPECT_NE(run.err.find(cut + ":offset 297: no whole record in the last 3 bytes"),
            std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace recorder
