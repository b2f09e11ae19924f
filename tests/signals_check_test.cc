// `recorder signals check`: each rule of a directory loaded, skipped or
// malformed with its reason, a summary, exit 1 only for a malformed rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "recorder_cli.h"
#include "temp_dir.h"

namespace {

using recorder::RecorderRun;
using recorder::RunRecorder;
using recorder::ShellQuote;

const std::string kRules = std::string(RECORDER_TEST_DATA) + "/signals";

TEST(SignalsCheck, ReportsEachRuleAndFailsOnlyOnAMalformedOne) {
  recorder::TempDir dir;
  RecorderRun run =
      RunRecorder("signals check --config " + ShellQuote(dir.path()) + " " + ShellQuote(kRules));
  EXPECT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("loaded     " + kRules + "/marker_exec.yml (Golden marker command)"),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("skipped    " + kRules +
                          "/windows_only.yml (A Windows Security-log rule, which is skipped): "
                          "log source not recorded: windows service \"security\""),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("4 rule file(s) in " + kRules + ": 3 loaded, 1 skipped, 0 malformed"),
            std::string::npos)
      << run.text;

  // A malformed rule under the default signalsLocation: exit 1, the
  // others still reported.
  std::filesystem::create_directories(dir.File("signals"));
  std::ofstream(dir.File("signals/broken.yml")) << "title: x\ndetection: [\n";
  std::filesystem::copy_file(kRules + "/marker_exec.yml", dir.File("signals/marker_exec.yml"));
  run = RunRecorder("signals check --config " + ShellQuote(dir.path()));
  EXPECT_EQ(run.exit_code, 1) << run.text;
  EXPECT_NE(run.text.find("broken.yml: YAML: line"), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("1 loaded, 0 skipped, 1 malformed"), std::string::npos) << run.text;

  // signalsLocation names another directory; DisableSignalsTrie skips the
  // substring rules, saying so.
  std::ofstream(dir.File("recorder.json"))
      << "{\"signalsLocation\": \"" << kRules << "\", \"DisableSignalsTrie\": true}";
  run = RunRecorder("signals check --quiet --config " + ShellQuote(dir.path()));
  EXPECT_EQ(run.exit_code, 0) << run.text;
  EXPECT_EQ(run.text.find("loaded     "), std::string::npos) << run.text;  // --quiet
  EXPECT_NE(run.text.find("DisableSignalsTrie"), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("1 loaded, 3 skipped, 0 malformed"), std::string::npos) << run.text;

  // No directory at the default location: no rules, not an error.
  recorder::TempDir empty;
  run = RunRecorder("signals check --config " + ShellQuote(empty.path()));
  EXPECT_EQ(run.exit_code, 0) << run.text;
  EXPECT_NE(run.text.find("no signals directory"), std::string::npos) << run.text;
}

}  // namespace
