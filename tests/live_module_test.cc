// Driver (kernel module) loads live: `recorder run --source unicast`, then
// this process calls finit_module(2) and delete_module(2), and the attempts
// must appear in module_events with this pid and their outcome. A real
// load and unload (`modprobe dummy`) is tried too where the kernel has
// module support and the module exists; otherwise that part is skipped
// with the reason (this CI kernel is built without loadable modules, so
// the calls fail with ENOSYS — audit records them all the same).
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-moduletest";

class LiveModules : public UnicastRecorderTest {
 protected:
  LiveModules() : UnicastRecorderTest(kTestKey) {}
  void SetUp() override {
    UnicastRecorderTest::SetUp();
    if (IsSkipped()) return;
    recorder_ = StartRecorder();
  }
  void TearDown() override {
    if (recorder_ > 0) StopRecorder(recorder_);
  }

  // module_events rows of this process: operation, module, success. Two
  // calls in a row often share a millisecond; "load" sorts before
  // "unload", the order in which both tests make them.
  std::vector<std::vector<std::string>> WaitForRows(size_t at_least) {
    return Db(DbPath()).Await(
        fmt::format("SELECT operation, module, success FROM module_events WHERE pid = {} "
                    "ORDER BY time, operation",
                    getpid()),
        15s, at_least);
  }

  pid_t recorder_ = 0;
};

TEST_F(LiveModules, LoadAndUnloadAttemptsAreRecordedWithTheirOutcome) {
  // Not a module: the kernel refuses it (ENOEXEC, or ENOSYS without module
  // support) after audit saw the call.
  int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  long loaded = syscall(SYS_finit_module, fd, "", 0);
  int load_errno = errno;
  close(fd);
  ASSERT_EQ(loaded, -1) << "/bin/true was accepted as a kernel module";
  long unloaded = syscall(SYS_delete_module, "recorder_no_such_module", O_NONBLOCK);
  int unload_errno = errno;
  ASSERT_EQ(unloaded, -1);

  std::vector<std::vector<std::string>> rows = WaitForRows(2);
  ASSERT_EQ(rows.size(), 2u) << "finit_module: " << std::strerror(load_errno)
                             << ", delete_module: " << std::strerror(unload_errno) << "\n"
                             << ReadLog();
  EXPECT_EQ(rows[0][0], "load");
  EXPECT_EQ(rows[0][2], "0");
  EXPECT_EQ(rows[1][0], "unload");
  EXPECT_EQ(rows[1][2], "0");
  // delete_module names its module in an argument audit does not decode
  // into a KERN_MODULE record when the call fails: no name is invented.
  EXPECT_EQ(rows[1][1], "<null>");
}

TEST_F(LiveModules, RealLoadAndUnloadWhereTheKernelAllows) {
  if (!fs::exists("/proc/modules"))
    GTEST_SKIP() << "this kernel has no loadable-module support (/proc/modules is missing): "
                    "a real driver load cannot happen here; the failing calls are covered above";
  if (RunCapture("modinfo dummy 2>/dev/null").empty())
    GTEST_SKIP() << "the 'dummy' network driver module is not installed";
  if (RunCapture("grep -w '^dummy' /proc/modules").size() > 0)
    GTEST_SKIP() << "the 'dummy' module is already loaded; not touching it";
  ASSERT_EQ(RunProgram({"modprobe", "dummy"}), 0);
  ASSERT_EQ(RunProgram({"modprobe", "-r", "dummy"}), 0);
  std::vector<std::vector<std::string>> rows = Db(DbPath()).Await(
      "SELECT operation, success FROM module_events WHERE module = 'dummy' "
      "ORDER BY time, operation",
      15s, 2);
  ASSERT_GE(rows.size(), 2u) << ReadLog();
  EXPECT_EQ(rows[0][0], "load");
  EXPECT_EQ(rows[0][1], "1");
  EXPECT_EQ(rows.back()[0], "unload");
  EXPECT_EQ(rows.back()[1], "1");
}

}  // namespace
}  // namespace recorder
