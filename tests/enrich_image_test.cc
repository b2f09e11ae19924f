// Image loads through fanotify. Needs root (CAP_SYS_ADMIN); skipped
// otherwise. Touches no audit state.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "enrich/image_load_monitor.h"
#include "temp_dir.h"
#include "wait_for.h"

extern char** environ;

namespace recorder::enrich {
namespace {

namespace fs = std::filesystem;

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kSystemLib[] = "/usr/lib/x86_64-linux-gnu/libbz2.so.1.0";

// Runs /usr/bin/python3 to dlopen `library`; returns its pid after it exited.
pid_t DlopenInChild(const std::string& library) {
  std::string code = fmt::format("import ctypes; ctypes.CDLL('{}')", library);
  // The system python, by absolute path (a PATH python may be a shim
  // script that execs several programs first).
  const char* argv[] = {kPython, "-S", "-c", code.c_str(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, kPython, nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return -1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? pid : -1;
}

// Collects records until one matches or 20 seconds pass. The monitor
// thread reads asynchronously, and it sees every exec and library open on
// the machine: on a loaded CI host (another sanitizer test starting
// processes next to this one) the match can queue behind many others.
// A match returns at once; the deadline only bounds a failing test.
std::vector<ImageLoad> CollectFor(ImageLoadMonitor* monitor, pid_t pid, const std::string& path) {
  std::vector<ImageLoad> all;
  WaitFor(
      [&] {
        for (ImageLoad& load : monitor->Take()) all.push_back(std::move(load));
        for (const ImageLoad& load : all) {
          if (load.pid == pid && load.path == path) return true;
        }
        return false;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(20));
  return all;
}

bool Has(const std::vector<ImageLoad>& loads, pid_t pid, const std::string& path, ImageKind kind) {
  for (const ImageLoad& load : loads) {
    if (load.pid == pid && load.path == path && load.kind == kind) return true;
  }
  return false;
}

class ImageLoadMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "fanotify needs root";
    if (!ImageLoadMonitor::Available()) GTEST_SKIP() << "fanotify unavailable";
    if (!fs::exists(kSystemLib)) GTEST_SKIP() << kSystemLib << " not installed";
    if (!fs::exists(kPython)) GTEST_SKIP() << kPython << " not installed";
    library_ = (dir_ / "libenrichtest.so").string();
    fs::copy_file(kSystemLib, library_);
  }
  TempDir temp_{"enrich-image"};
  fs::path dir_ = temp_.path();
  std::string library_;
};

TEST_F(ImageLoadMonitorTest, DlopenedLibraryShowsWithItsPid) {
  ImageLoadMonitorOptions options;
  options.enabled = true;
  options.library_dirs = {dir_.string()};
  ImageLoadMonitor monitor(options);
  ASSERT_TRUE(monitor.Start().ok());
  pid_t pid = DlopenInChild(library_);
  ASSERT_GT(pid, 0);
  std::vector<ImageLoad> loads = CollectFor(&monitor, pid, library_);
  EXPECT_TRUE(Has(loads, pid, library_, ImageKind::kLibrary)) << loads.size() << " records";
  // Not a library: the python3 binary itself (exec) unless asked for.
  for (const ImageLoad& load : loads) {
    if (load.pid == pid) {
      EXPECT_NE(load.kind, ImageKind::kExecutable) << load.path;
    }
  }
  monitor.Stop();
  EXPECT_GE(monitor.stats().libraries, 1u);
}

TEST_F(ImageLoadMonitorTest, DefaultDirsSeeSystemLibraryAndInterpreter) {
  ImageLoadMonitorOptions options;
  options.enabled = true;
  options.report_executables = true;
  ImageLoadMonitor monitor(options);
  ASSERT_TRUE(monitor.Start().ok());
  pid_t pid = DlopenInChild("libbz2.so.1.0");
  ASSERT_GT(pid, 0);
  std::vector<ImageLoad> loads = CollectFor(&monitor, pid, fs::canonical(kSystemLib).string());
  EXPECT_TRUE(Has(loads, pid, fs::canonical(kSystemLib).string(), ImageKind::kLibrary));
  // execve reported the program and its ELF interpreter.
  std::string python = fs::canonical("/usr/bin/python3").string();
  std::string interpreter = fs::canonical("/lib64/ld-linux-x86-64.so.2").string();
  EXPECT_TRUE(Has(loads, pid, python, ImageKind::kExecutable)) << python;
  EXPECT_TRUE(Has(loads, pid, interpreter, ImageKind::kLibrary)) << interpreter;
}

TEST_F(ImageLoadMonitorTest, OffRecordsNothing) {
  ImageLoadMonitorOptions options;
  options.enabled = false;  // MonitorImageLoad = 0
  options.library_dirs = {dir_.string()};
  ImageLoadMonitor monitor(options);
  ASSERT_TRUE(monitor.Start().ok());
  EXPECT_FALSE(monitor.running());
  pid_t pid = DlopenInChild(library_);
  ASSERT_GT(pid, 0);
  // No wait: the child has ended, and a monitor that is not running has no
  // thread that could still deliver its loads.
  EXPECT_TRUE(monitor.Take().empty());
  EXPECT_EQ(monitor.stats().events, 0u);
}

TEST_F(ImageLoadMonitorTest, NonLibraryFilesInLibraryDirsAreIgnored) {
  ImageLoadMonitorOptions options;
  options.enabled = true;
  options.exec_filesystems.clear();
  options.library_dirs = {dir_.string()};
  ImageLoadMonitor monitor(options);
  ASSERT_TRUE(monitor.Start().ok());
  std::string text = (dir_ / "notes.txt").string();
  { std::ofstream(text) << "not elf"; }
  const char* argv[] = {"grep", "-q", "x", text.c_str(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawnp(&pid, "grep", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  // Then a real load, so we know the monitor has caught up.
  pid_t loader = DlopenInChild(library_);
  std::vector<ImageLoad> loads = CollectFor(&monitor, loader, library_);
  EXPECT_TRUE(Has(loads, loader, library_, ImageKind::kLibrary));
  for (const ImageLoad& load : loads) EXPECT_NE(load.path, text);
  EXPECT_GE(monitor.stats().not_library, 1u);
}

}  // namespace
}  // namespace recorder::enrich
