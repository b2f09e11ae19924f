// Library loads live (MonitorImageLoad): `recorder run --source unicast`
// with the setting on, a python3 that dlopen()s a system library, and the
// row in image_events: the library's path and sha256, the loading
// process's process_id (the same row its exec made in `processes`), its
// exe and user. With the setting off (the default) nothing is recorded and
// the recorder holds no fanotify descriptor at all.
//
// Needs root, kernel audit and fanotify; skips (saying why) otherwise. The
// guard restores the audit state even when an assertion fails.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "enrich/image_load_monitor.h"
#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-imagetest";
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kLibrary[] = "/usr/lib/x86_64-linux-gnu/libbz2.so.1.0";

std::string Digest(const std::string& tool, const std::string& file) {
  std::string out = RunCapture(tool + " " + file);
  return out.substr(0, out.find(' '));
}

// Whether `pid` holds a fanotify descriptor (its fd links name the inode).
bool HoldsFanotify(pid_t pid) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(fmt::format("/proc/{}/fd", pid), error)) {
    std::error_code link_error;
    fs::path target = fs::read_symlink(entry.path(), link_error);
    if (!link_error && target.string().find("fanotify") != std::string::npos) return true;
  }
  return false;
}

class LiveImageLoads : public UnicastRecorderTest {
 protected:
  LiveImageLoads() : UnicastRecorderTest(kTestKey) {}
  void SetUp() override {
    UnicastRecorderTest::SetUp();
    if (IsSkipped()) return;
    if (!enrich::ImageLoadMonitor::Available()) GTEST_SKIP() << "fanotify is not available";
    if (!fs::exists(kPython) || !fs::exists(kLibrary))
      GTEST_SKIP() << kPython << " or " << kLibrary << " is not installed";
  }

  // Starts the recorder with MonitorImageLoad = `images`.
  pid_t StartRecorder(bool images) {
    return UnicastRecorderTest::StartRecorder(
        fmt::format(R"({{"MonitorImageLoad": {}}})", images ? "true" : "false"));
  }

  // python3 dlopen()s the library; its argv carries `marker`.
  pid_t DlopenWorkload(const std::string& marker) {
    std::string code = fmt::format("import ctypes; ctypes.CDLL('libbz2.so.1.0')  # {}", marker);
    pid_t pid = Spawn({kPython, "-S", "-c", code});
    EXPECT_EQ(WaitExit(pid, 20s), 0);
    return pid;
  }
};

TEST_F(LiveImageLoads, DlopenedLibraryIsStoredWithItsProcess) {
  pid_t recorder = StartRecorder(/*images=*/true);
  const std::string marker = fmt::format("imagemarker-{}-{}", getpid(), time(nullptr));
  pid_t python = DlopenWorkload(marker);
  const std::string library = fs::canonical(kLibrary).string();

  Db db(DbPath());
  std::vector<std::vector<std::string>> loads;
  const std::string query = fmt::format(
      "SELECT process_id, pid, exe, user, path, sha256, uid FROM image_events "
      "WHERE pid = {} AND path = {}",
      python, Quote(library));
  // Loads are held a second before they are stored (their exec first).
  ASSERT_TRUE(WaitFor([&] { return !(loads = db.Query(query)).empty(); }, 20s))
      << ReadLog() << "\nimage_events: " << db.Query("SELECT count(*) FROM image_events")[0][0];
  ASSERT_EQ(loads.size(), 1u);
  EXPECT_EQ(loads[0][2], fs::canonical(kPython).string());
  EXPECT_EQ(loads[0][3], "root");
  EXPECT_EQ(loads[0][5], Digest("sha256sum", library));
  EXPECT_EQ(loads[0][6], "0");

  // The same process row as the exec that started the python.
  std::vector<std::vector<std::string>> exec;
  ASSERT_TRUE(WaitFor(
      [&] {
        exec = db.Query(fmt::format(
            "SELECT process_id, placeholder FROM processes WHERE pid = {} AND cmdline LIKE {}",
            python, Quote("%" + marker + "%")));
        return !exec.empty();
      },
      10s));
  EXPECT_EQ(loads[0][0], exec[0][0]) << "the load belongs to the exec's row";
  EXPECT_EQ(exec[0][1], "0");
  // ld.so's own loads (libc at least) come with it.
  EXPECT_GE(std::stoi(db.Query(fmt::format("SELECT count(*) FROM image_events WHERE pid = {} AND "
                                           "path LIKE '%/libc.so%'",
                                           python))[0][0]),
            1);

  // status reports the monitor.
  std::string status =
      RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " + StateDir());
  nlohmann::json json = nlohmann::json::parse(status, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << status;
  EXPECT_EQ(json["image_loads"]["running"], true) << status;
  EXPECT_GE(json["image_loads"]["libraries"].get<int64_t>(), 1) << status;
  EXPECT_TRUE(HoldsFanotify(recorder));

  StopRecorder(recorder);
}

TEST_F(LiveImageLoads, OffRecordsNothingAndWatchesNothing) {
  pid_t recorder = StartRecorder(/*images=*/false);
  EXPECT_FALSE(HoldsFanotify(recorder)) << "MonitorImageLoad off must not place any mark";
  const std::string marker = fmt::format("noimagemarker-{}-{}", getpid(), time(nullptr));
  pid_t python = DlopenWorkload(marker);

  Db db(DbPath());
  // The exec is recorded (so the recorder was listening), the loads not.
  ASSERT_TRUE(WaitFor(
      [&] {
        return !db.Query(fmt::format("SELECT 1 FROM processes WHERE pid = {} AND cmdline LIKE {}",
                                     python, Quote("%" + marker + "%")))
                    .empty();
      },
      20s))
      << ReadLog();
  // A clean stop writes every load still held back (no wait for the hold).
  StopRecorder(recorder);
  EXPECT_EQ(db.Query("SELECT count(*) FROM image_events")[0][0], "0");
}

}  // namespace
}  // namespace recorder
