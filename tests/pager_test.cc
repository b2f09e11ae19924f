// The choice of pager and characters for the investigation commands'
// output (cli/pager.h), and the piped path as users run it: no pager,
// plain ASCII, whatever $PAGER says.
#include "cli/pager.h"

#include <gtest/gtest.h>

#include "recorder_cli.h"
#include "run_command.h"
#include "temp_dir.h"

namespace {

using recorder::cli::ChooseOutput;
using recorder::cli::OutputChoice;

TEST(PagerTest, OnlyATerminalGetsAPagerAndBoxCharacters) {
  struct Case {
    bool terminal, no_pager;
    const char* pager;
    const char* term;
    bool unicode;
    std::string chosen;
  };
  const Case cases[] = {
      {false, false, nullptr, "xterm", false, ""},         // piped: plain, direct
      {false, false, "less", "xterm", false, ""},          // piped, whatever PAGER says
      {true, false, nullptr, "xterm", true, "less -FRX"},  // the default pager
      {true, false, "most -s", "xterm", true, "most -s"},  // $PAGER
      {true, true, "most", "xterm", true, ""},             // --no-pager
      {true, false, "", "xterm", true, ""},                // PAGER= (empty)
      {true, false, "cat", "xterm", true, ""},             // PAGER=cat
      {true, false, nullptr, "dumb", true, ""},            // TERM=dumb
      {true, false, nullptr, nullptr, true, "less -FRX"},  // TERM unset
  };
  for (const Case& c : cases) {
    OutputChoice choice = ChooseOutput(c.terminal, c.no_pager, c.pager, c.term);
    EXPECT_EQ(choice.unicode, c.unicode) << c.terminal << c.no_pager << (c.pager ? c.pager : "-");
    EXPECT_EQ(choice.pager, c.chosen) << c.terminal << c.no_pager << (c.pager ? c.pager : "-");
  }
}

// The commands on one database replayed from the captured log.
class PagerCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { recorder::ReplayCaptureOnce("recorder-pager-test", &temp_, &db_); }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }
  static recorder::TempDir* temp_;
  static std::string db_;
};
recorder::TempDir* PagerCliTest::temp_ = nullptr;
std::string PagerCliTest::db_;

// A PAGER that would mark every line: piped output never goes through it
// and stays ASCII; --no-pager is accepted by every command.
TEST_F(PagerCliTest, PipedOutputIsPlainAndNeverPaged) {
  const std::string& db = db_;
  for (const std::string command : {"tree 53", "show 53", "timeline --limit 3", "search 127.0.0.1",
                                    "timeline --histogram", "tree 53 --no-pager"}) {
    recorder::CommandResult r = recorder::RunCommand(
        "PAGER='sed s/^/PAGED:/' " + recorder::ShellQuote(RECORDER_BINARY) + " " + command +
        " --utc --db " + recorder::ShellQuote(db) + " 2>&1 | cat");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.output, "") << command;
    EXPECT_EQ(r.output.find("PAGED:"), std::string::npos) << command << ": " << r.output;
    for (unsigned char c : r.output) ASSERT_LT(c, 0x80) << command << ": " << r.output;
  }
}

// On a terminal (script(1) gives the command one): the pager gets the
// output, drawn with box characters; --no-pager prints it directly.
TEST_F(PagerCliTest, ATerminalGetsThePagerAndBoxCharacters) {
  if (recorder::RunCommand("command -v script >/dev/null").exit_code != 0)
    GTEST_SKIP() << "script(1) is not installed";
  const std::string& db = db_;
  const std::string tree =
      recorder::ShellQuote(RECORDER_BINARY) + " tree 53 --utc --db " + recorder::ShellQuote(db);
  auto on_terminal = [&](const std::string& command) {
    return recorder::RunCommand("TERM=xterm PAGER='sed s/^/PAGED:/' script -qec " +
                                recorder::ShellQuote(command) + " /dev/null </dev/null")
        .output;
  };
  const std::string paged = on_terminal(tree);
  EXPECT_EQ(paged.rfind("PAGED:#16 ", 0), 0u) << paged;
  EXPECT_NE(paged.find("▶ #53"), std::string::npos) << paged;
  EXPECT_NE(paged.find("└─ #55"), std::string::npos) << paged;
  const std::string direct = on_terminal(tree + " --no-pager");
  EXPECT_EQ(direct.find("PAGED:"), std::string::npos) << direct;
  EXPECT_NE(direct.find("▶ #53"), std::string::npos) << direct;
}

}  // namespace
