// Crash safety, live: `recorder run --source unicast` is killed with
// SIGKILL at random moments during an exec and file flood, again and
// again. After every kill the database must pass PRAGMA integrity_check,
// every marker the test saw committed before the kill must still be there,
// and the next start must record again; the rules a killed run left in
// the kernel are taken over (not doubled), and the last, clean stop
// removes them all.
//
// 20 kills by default; RECORDER_CRASH_KILLS=100 for a soak run. Needs root
// and kernel audit; skips (saying why) otherwise. The guard restores the
// audit state even when an assertion fails.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-crashtest";

int KillCount() {
  const char* text = std::getenv("RECORDER_CRASH_KILLS");
  const int count = text != nullptr ? std::atoi(text) : 0;
  return count > 0 ? count : 20;
}

class LiveCrash : public UnicastRecorderTest {
 protected:
  LiveCrash() : UnicastRecorderTest(kTestKey) {}

  // Starts a recorder and waits until it says it is the one running (the
  // rules of a killed predecessor may still be in the kernel, so their
  // presence proves nothing).
  pid_t StartAndWaitRunning() {
    const std::vector<std::string> argv = {
        RECORDER_BINARY, "run",        "--db", DbPath(),   "--state-dir",
        StateDir(),      "--rule-key", key_,   "--config", temp_.path() + "/config",
        "--source",      "unicast"};
    const pid_t recorder = Spawn(argv, temp_.path() + "/recorder.log");
    guard_->Adopt(recorder);
    const bool running = WaitFor(
        [&] {
          nlohmann::json status = nlohmann::json::parse(
              RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " + StateDir() +
                         " --rule-key " + key_),
              nullptr, false);
          return !status.is_discarded() && status.value("state", "") == "running" &&
                 status.value("pid", 0) == recorder && status["rules"].value("missing", 1) == 0;
        },
        20s);
    EXPECT_TRUE(running) << ReadLog();
    return recorder;
  }
};

TEST_F(LiveCrash, KillNineDuringAFloodNeverDamagesTheDatabaseOrLosesCommittedEvents) {
  const int kills = KillCount();
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> flood_ms(50, 1500);
  const std::string work = temp_.path() + "/work";
  fs::create_directories(work);
  int rules_of_one_run = -1;

  for (int i = 0; i < kills; ++i) {
    SCOPED_TRACE(fmt::format("kill {} of {}", i + 1, kills));
    const pid_t recorder = StartAndWaitRunning();
    const int rules = CountRulesWithKey(kTestKey);
    if (rules_of_one_run < 0) rules_of_one_run = rules;
    EXPECT_EQ(rules, rules_of_one_run) << "a restart after a kill must not double the rules";

    // A marker the test waits to see committed: it must survive the kill.
    const std::string marker = fmt::format("crash-marker-{}", i);
    RunProgram({"/bin/sh", "-c", "exec /bin/true " + marker});
    Db db(DbPath());
    ASSERT_FALSE(
        db.Await("SELECT 1 FROM processes WHERE cmdline LIKE " + Quote("%" + marker + "%"), 15s)
            .empty())
        << ReadLog();

    // The flood: execs and file writes, renames and deletes; the kill
    // lands somewhere inside it.
    const pid_t flood = Spawn(
        {"/bin/bash", "-c",
         fmt::format("cd {} && for n in $(seq 1 100000); do echo $n > f$n; mv f$n g$n; rm g$n; "
                     "/bin/true; done",
                     work)});
    guard_->Adopt(flood);
    std::this_thread::sleep_for(std::chrono::milliseconds(flood_ms(random)));
    ASSERT_EQ(kill(recorder, SIGKILL), 0);
    EXPECT_EQ(WaitExit(recorder, 10s), 128 + SIGKILL);
    guard_->Forget(recorder);
    kill(flood, SIGKILL);
    WaitExit(flood, 10s);
    guard_->Forget(flood);

    Db after(DbPath());
    auto check = after.Query("PRAGMA integrity_check");
    ASSERT_EQ(check.size(), 1u);
    EXPECT_EQ(check[0][0], "ok");
    for (int seen = 0; seen <= i; ++seen) {
      const std::string earlier = fmt::format("crash-marker-{}", seen);
      // The shell and the program it became both carry the marker.
      EXPECT_NE(after
                    .Query("SELECT count(*) FROM processes WHERE cmdline LIKE " +
                           Quote("%" + earlier + "%"))
                    .at(0)
                    .at(0),
                "0")
          << earlier << " was committed before a kill and must stay";
    }
  }

  // A last run records and stops cleanly: no rule of ours is left.
  const pid_t recorder = StartAndWaitRunning();
  RunProgram({"/bin/sh", "-c", "exec /bin/true crash-marker-final"});
  Db db(DbPath());
  EXPECT_FALSE(
      db.Await("SELECT 1 FROM processes WHERE cmdline LIKE '%crash-marker-final%'", 15s).empty());
  StopRecorder(recorder);
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0);
}

}  // namespace
}  // namespace recorder
