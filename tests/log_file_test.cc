// logMaxSize / logRotations: recorder.log rotates through spdlog's
// rotating sink, keeps at most logRotations older files, and every one of
// them is 0600 even under umask 000.
#include "cli/log_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "temp_dir.h"

namespace recorder::cli {
namespace {

class UmaskZero {
 public:
  UmaskZero() : old_(umask(0)) {}
  ~UmaskZero() { umask(old_); }

 private:
  mode_t old_;
};

unsigned Mode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

// Writes ~`bytes` of log lines through a rotating log at `dir`/recorder.log.
void WriteLog(const TempDir& dir, int64_t max_bytes, int rotations, size_t bytes) {
  Result<std::shared_ptr<spdlog::logger>> log =
      OpenRotatingLog("test", dir.File("recorder.log"), max_bytes, rotations);
  ASSERT_TRUE(log.ok()) << log.status().message();
  const std::string line(100, 'x');
  for (size_t written = 0; written < bytes; written += line.size()) (*log)->info("{}", line);
  (*log)->flush();
}

TEST(LogFileTest, RotatesAtMaxSizeAndKeepsRotationsPrivate) {
  UmaskZero umask_zero;
  TempDir dir;
  WriteLog(dir, 4096, 2, 64 * 1024);
  for (const char* name : {"recorder.log", "recorder.1.log", "recorder.2.log"}) {
    const std::string path = dir.File(name);
    ASSERT_TRUE(std::filesystem::exists(path)) << name;
    EXPECT_LE(std::filesystem::file_size(path), 4096u) << name;
    EXPECT_EQ(Mode(path), 0600u) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("recorder.3.log")));
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 3u);
}

TEST(LogFileTest, ZeroRotationsEmptiesTheFileWhenFull) {
  UmaskZero umask_zero;
  TempDir dir;
  WriteLog(dir, 4096, 0, 64 * 1024);
  EXPECT_LE(std::filesystem::file_size(dir.File("recorder.log")), 4096u);
  EXPECT_EQ(Mode(dir.File("recorder.log")), 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir.File("recorder.1.log")));
}

TEST(LogFileTest, ExistingLooseFileIsTightenedAndSymlinkRefused) {
  TempDir dir;
  const std::string path = dir.Write("recorder.log", "old line\n");
  chmod(path.c_str(), 0644);
  ASSERT_TRUE(OpenRotatingLog("test", path, 4096, 1).ok());
  EXPECT_EQ(Mode(path), 0600u);
  const std::string link = dir.File("link.log");
  ASSERT_EQ(symlink(path.c_str(), link.c_str()), 0);
  EXPECT_FALSE(OpenRotatingLog("test", link, 4096, 1).ok());
}

}  // namespace
}  // namespace recorder::cli
