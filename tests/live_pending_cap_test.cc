// PendingEventCap live: `recorder run --source unicast` with a cap of 5
// while another connection holds monitor.db's write lock (the database
// writer stalls, as on a slow or locked disk) and execs run. The reader
// must keep reading: the events that do not fit are dropped and counted
// by type in `recorder status` and, after the stop, in the run's row;
// recording goes on once the lock is released (and a reload lifted
// the cap).
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "daemon/control_channel.h"
#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-captest";

class LivePendingCap : public UnicastRecorderTest {
 protected:
  LivePendingCap() : UnicastRecorderTest(kTestKey) {}
};

TEST_F(LivePendingCap, AStalledWriterDropsOverTheCapAndCountsByType) {
  pid_t recorder = StartRecorder(R"({"PendingEventCap": 5})");

  // The write lock, taken between two of the store's commits (it commits
  // at least every second): the store's next write waits for it (up to
  // its 5 s busy timeout), and so does everything queued behind it.
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &lock), SQLITE_OK);
  sqlite3_busy_timeout(lock, 5000);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(lock);
  const auto locked_at = std::chrono::steady_clock::now();
  EXPECT_EQ(RunCapture("for i in $(seq 60); do /bin/true; done; echo done"), "done\n");
  // The reader kept reading: status answers, and the cap dropped execs.
  nlohmann::json status;
  EXPECT_TRUE(WaitFor(
      [&] {
        status = RecorderStatus();
        return status["pending_events"].value("dropped", 0) > 0;
      },
      3s))
      << status.dump();
  EXPECT_EQ(status["pending_events"].value("cap", 0), 5);
  EXPECT_TRUE(status.contains("serial_gaps")) << status.dump();
  EXPECT_LE(status["pending_events"].value("in_flight", 99), 5);
  EXPECT_GT(status["pending_events"]["dropped_by_kind"].value("process_start", 0), 0)
      << status.dump();
  // Released well within the store's busy timeout: the writer resumes.
  EXPECT_LT(std::chrono::steady_clock::now() - locked_at, 4s);
  ASSERT_EQ(sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(lock);

  // Recording goes on. A cap of 5 also drops under the host's own load
  // (other processes' events), so a reload (SIGHUP) lifts it first:
  // the new cap applies at once.
  std::ofstream(temp_.path() + "/config/recorder.json") << R"({"PendingEventCap": 100000})";
  ASSERT_EQ(kill(recorder, SIGHUP), 0);
  EXPECT_TRUE(
      WaitFor([&] { return RecorderStatus()["pending_events"].value("cap", 0) == 100000; }, 10s))
      << ReadLog();
  const std::string marker = "/bin/echo recorder-captest-after";
  RunCapture(marker + " >/dev/null");
  Db db(DbPath());
  EXPECT_FALSE(
      db.Await("SELECT 1 FROM processes WHERE cmdline LIKE '%recorder-captest-after%'", 15s)
          .empty())
      << ReadLog();
  StopRecorder(recorder);

  auto run = db.Query(
      "SELECT dropped_cap_process_start, dropped_queue_full, error, serial_gaps, kernel_lost, "
      "dropped_backlog FROM runs ORDER BY run_id DESC LIMIT 1");
  ASSERT_EQ(run.size(), 1u);
  EXPECT_GT(std::stoll(run[0][0]), 0);
  EXPECT_GE(std::stoll(run[0][1]), std::stoll(run[0][0]));
  EXPECT_EQ(run[0][2], "<null>") << "a stalled writer is not a failed run";
  // The reader kept reading through the stall: unless the kernel lost
  // records or our socket overflowed, every audit serial arrived
  // (interleaved events are not gaps).
  if (run[0][4] == "0" && run[0][5] == "0") {
    EXPECT_EQ(run[0][3], "0") << ReadLog();
  }
  EXPECT_NE(ReadLog().find("PendingEventCap 5 reached"), std::string::npos) << ReadLog();
}

}  // namespace
}  // namespace recorder
