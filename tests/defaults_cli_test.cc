// One rule for where every command finds its configuration and database
// (README "Where the recorder keeps its files"): --config DIR or the
// current directory; --db PATH or that configuration's dbLocation. The
// commands are run as a user would, from a directory holding a
// recorder.json whose dbLocation is not ./monitor.db.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "run_command.h"
#include "temp_dir.h"

namespace recorder {
namespace {

class Defaults : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("data"));
    dir_.Write("recorder.json", R"({"dbLocation": "data/events.db"})");
    const CommandResult replay =
        RunCommand(Recorder() + " replay --db " + ShellQuote(db()) + " " +
                   ShellQuote(std::string(RECORDER_TEST_DATA) + "/capture-raw.log"));
    ASSERT_EQ(replay.exit_code, 0) << replay.output;
  }
  static std::string Recorder() { return ShellQuote(RECORDER_BINARY); }
  std::string db() const { return dir_.File("data/events.db"); }
  // `recorder ARGS` run in `cwd`.
  CommandResult In(const std::string& cwd, const std::string& args) {
    return RunCommand("cd " + ShellQuote(cwd) + " && " + Recorder() + " " + args);
  }

  TempDir dir_;
};

TEST_F(Defaults, QueryReadsTheDatabaseOfTheConfigurationHereOrGiven) {
  CommandResult here = In(dir_.path(), "query --csv 'SELECT count(*) > 0 FROM processes'");
  EXPECT_EQ(here.exit_code, 0) << here.output;
  EXPECT_NE(here.output.find("1"), std::string::npos) << here.output;
  CommandResult given =
      In("/", "query --csv --config " + ShellQuote(dir_.path()) + " 'SELECT count(*) FROM runs'");
  EXPECT_EQ(given.exit_code, 0) << given.output;
  // --db still wins.
  CommandResult db = In("/", "query --db " + ShellQuote(dir_.File("none.db")) + " 'SELECT 1'");
  EXPECT_EQ(db.exit_code, 2) << db.output;
  EXPECT_NE(db.output.find("none.db"), std::string::npos) << db.output;
}

TEST_F(Defaults, ReplayWritesTheDatabaseOfTheConfigurationHere) {
  CommandResult replay =
      In(dir_.path(), "replay " + ShellQuote(std::string(RECORDER_TEST_DATA) + "/capture-raw.log"));
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("monitor.db")));
  CommandResult runs = In(dir_.path(), "query --csv 'SELECT count(*) FROM runs'");
  EXPECT_NE(runs.output.find("\r\n2\r\n"), std::string::npos) << runs.output;
}

TEST_F(Defaults, StatusAndInstallNameTheSameDatabase) {
  CommandResult status = In(dir_.path(), "status --state-dir " + ShellQuote(dir_.File("state")));
  EXPECT_EQ(status.exit_code, 3) << status.output;  // not running
  EXPECT_NE(status.output.find("database: " + db()), std::string::npos) << status.output;

  // install reads the configuration here too (not the binary's directory)
  // and says which; /etc/audit of an empty root is missing, so it stops
  // after that.
  TempDir root;
  CommandResult install = In(dir_.path(), "install --dry-run --root " + ShellQuote(root.path()));
  EXPECT_NE(install.output.find("configuration: " + dir_.path() + " (database " + db() + ")"),
            std::string::npos)
      << install.output;
}

}  // namespace
}  // namespace recorder
