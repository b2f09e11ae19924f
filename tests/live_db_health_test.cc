// The database file under a live recorder, on the real kernel:
// `recorder recreate-db` switches files while execs stream in and no event
// is lost (each is in the archive or the fresh file); a database deleted
// under the recorder is noticed and a fresh one created and reported.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "db_files.h"
#include "live_support.h"
#include "store/db_archive.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-dbhealthtest";
constexpr int kExecs = 300;

class LiveDbHealth : public UnicastRecorderTest {
 protected:
  LiveDbHealth() : UnicastRecorderTest(kTestKey) {}

  std::string Recorder(const std::string& args) {
    return std::string(RECORDER_BINARY) + " " + args + " --state-dir " + StateDir();
  }
};

// The numbers N of the `echo dbhealth-N` execs stored in `db_path`.
std::set<int> Markers(const std::string& db_path) {
  std::set<int> found;
  Db db(db_path);
  for (const auto& row : db.Query("SELECT cmdline FROM processes WHERE exe LIKE '%/echo' AND "
                                  "cmdline LIKE '%dbhealth-%'")) {
    const size_t at = row[0].rfind("dbhealth-");
    found.insert(std::stoi(row[0].substr(at + 9)));
  }
  return found;
}

TEST_F(LiveDbHealth, RecreateDbWhileRecordingLosesNoEvent) {
  pid_t recorder = StartRecorder();
  // A stream of execs, with the switch in its middle.
  pid_t workload = Spawn({"/bin/sh", "-c",
                          "i=0; while [ $i -lt " + std::to_string(kExecs) +
                              " ]; do i=$((i+1)); /bin/echo dbhealth-$i >/dev/null; "
                              "sleep 0.01; done"});
  std::this_thread::sleep_for(1500ms);
  CommandResult recreated = RunCommand(Recorder("recreate-db"));
  EXPECT_EQ(recreated.exit_code, 0) << recreated.output;
  EXPECT_NE(recreated.output.find("archived to"), std::string::npos) << recreated.output;
  EXPECT_EQ(WaitExit(workload, 60s), 0);
  // The events of the last execs reach the fresh file within a commit.
  EXPECT_TRUE(WaitFor([&] { return Markers(DbPath()).count(kExecs) == 1; }, 10s)) << ReadLog();
  StopRecorder(recorder);

  const std::vector<std::string> archives = store::ListArchives(DbPath());
  ASSERT_EQ(archives.size(), 1u);
  Gunzip(archives[0], temp_.path() + "/old.db");
  const std::set<int> before = Markers(temp_.path() + "/old.db");
  const std::set<int> after = Markers(DbPath());
  EXPECT_FALSE(before.empty()) << "the switch came before the first exec";
  EXPECT_FALSE(after.empty()) << "the switch came after the last exec";
  std::set<int> all = before;
  all.insert(after.begin(), after.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kExecs))
      << before.size() << " in the archive, " << after.size() << " in the fresh file";
  for (int n : before) EXPECT_EQ(after.count(n), 0u) << n << " stored twice";

  Db fresh(DbPath());
  auto notes = fresh.Query("SELECT note FROM runs");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0][0].find("fresh database: recorder recreate-db: archived to"),
            std::string::npos)
      << notes[0][0];
  Db old(temp_.path() + "/old.db");
  EXPECT_EQ(old.Query("SELECT note FROM runs")[0][0], "database switched: recorder recreate-db");
  // The same run goes on in the fresh file: its start, and counts that
  // carry on from those in the archive (not from zero).
  auto old_run = old.Query("SELECT start_time, lines, process_starts FROM runs");
  auto new_run = fresh.Query("SELECT start_time, lines, process_starts FROM runs");
  ASSERT_EQ(old_run.size(), 1u);
  ASSERT_EQ(new_run.size(), 1u);
  EXPECT_EQ(new_run[0][0], old_run[0][0]);
  EXPECT_GT(std::stoll(new_run[0][1]), std::stoll(old_run[0][1]));
  EXPECT_GE(std::stoll(new_run[0][2]),
            std::stoll(old_run[0][2]) + static_cast<int64_t>(after.size()));
}

TEST_F(LiveDbHealth, ADatabaseDeletedUnderTheRecorderIsRecreatedAndReported) {
  pid_t recorder = StartRecorder("", {"--limits-check-interval", "0.5"});
  ASSERT_EQ(unlink(DbPath().c_str()), 0);
  EXPECT_TRUE(WaitFor([&] { return fs::exists(DbPath()); }, 10s)) << ReadLog();
  CommandResult status = RunCommand(Recorder("status --json"));
  EXPECT_NE(status.output.find("deleted or replaced under the recorder"), std::string::npos)
      << status.output;
  // Recording goes on into the fresh file.
  EXPECT_EQ(RunCommand("/bin/echo dbhealth-1 >/dev/null").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Markers(DbPath()).count(1) == 1; }, 10s)) << ReadLog();
  StopRecorder(recorder);
  Db db(DbPath());
  auto notes = db.Query("SELECT note FROM runs");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0][0].find("deleted or replaced"), std::string::npos) << notes[0][0];
}

// The daemon's wiring of MaxCleanTries: command lines (which cleanup keeps)
// push the file over maxSizeMB; the first cleanup run that cannot get it
// under archives it, and recording goes on in a fresh file.
TEST_F(LiveDbHealth, MaxCleanTriesArchivesTheLiveDatabase) {
  pid_t recorder = StartRecorder(
      R"({"maxSizeMB": 1, "MaxCleanTries": 1, "DatabaseArchiveLimit": 1,
          "AbsoluteMaxStorageSizeMB": 0, "MaxRuntimeStorageSizeMB": 0})",
      {"--limits-check-interval", "0.5"});
  pid_t workload = Spawn({"/bin/sh", "-c",
                          "i=0; while [ $i -lt 1500 ]; do i=$((i+1)); /bin/true dbhealth-$i-" +
                              std::string(600, 'x') + "; done"});
  EXPECT_TRUE(WaitFor([&] { return !store::ListArchives(DbPath()).empty(); }, 60s)) << ReadLog();
  EXPECT_EQ(WaitExit(workload, 60s), 0);
  // The workload's last command lines may fill the fresh file too and
  // archive it again: the marker below must come after the last switch,
  // so wait until no cleanup run (every 0.5 s) has archived for 2 s.
  std::vector<std::string> archives = store::ListArchives(DbPath());
  for (int quiet = 0, tries = 0; quiet < 4 && tries < 60; ++tries) {
    std::this_thread::sleep_for(500ms);
    std::vector<std::string> now = store::ListArchives(DbPath());
    quiet = now == archives ? quiet + 1 : 0;
    archives = std::move(now);
  }
  CommandResult status = RunCommand(Recorder("status --json"));
  EXPECT_NE(status.output.find("MaxCleanTries 1"), std::string::npos) << status.output;
  EXPECT_EQ(RunCommand("/bin/echo dbhealth-1 >/dev/null").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Markers(DbPath()).count(1) == 1; }, 10s)) << ReadLog();
  StopRecorder(recorder);
  Db db(DbPath());
  auto notes = db.Query("SELECT note FROM runs ORDER BY run_id");
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0][0].find("MaxCleanTries 1"), std::string::npos) << notes[0][0];
}

}  // namespace
}  // namespace recorder
