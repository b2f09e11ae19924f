#include "config/config_watch.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "temp_dir.h"

namespace recorder::config {
namespace {

FileStamp At(const std::string& path, int64_t mtime_ns, int64_t size = 10, uint64_t inode = 1) {
  return FileStamp{path, mtime_ns, size, inode};
}

TEST(ConfigChangeDetector, NothingChangedIsNoReload) {
  ConfigChangeDetector watch({At("/c/filters.json", 1)});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(watch.Observe({At("/c/filters.json", 1)}));
}

TEST(ConfigChangeDetector, AChangeReloadsOnceItHasSettled) {
  ConfigChangeDetector watch({At("/c/filters.json", 1)});
  // Seen once: maybe still being written.
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 2)}));
  // The same again: settled, reload, and only once.
  EXPECT_TRUE(watch.Observe({At("/c/filters.json", 2)}));
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 2)}));
  EXPECT_EQ(watch.baseline(), std::vector<FileStamp>{At("/c/filters.json", 2)});
}

TEST(ConfigChangeDetector, AFileStillChangingWaits) {
  ConfigChangeDetector watch({At("/c/recorder.json", 1, 10)});
  EXPECT_FALSE(watch.Observe({At("/c/recorder.json", 2, 20)}));
  EXPECT_FALSE(watch.Observe({At("/c/recorder.json", 3, 30)}));
  EXPECT_TRUE(watch.Observe({At("/c/recorder.json", 3, 30)}));
}

TEST(ConfigChangeDetector, EachStampFieldIsAChange) {
  const std::vector<FileStamp> base = {At("/c/filters.json", 1, 10, 1)};
  for (const FileStamp& changed : {At("/c/filters.json", 2, 10, 1), At("/c/filters.json", 1, 11, 1),
                                   At("/c/filters.json", 1, 10, 2)}) {
    ConfigChangeDetector watch(base);
    EXPECT_FALSE(watch.Observe({changed}));
    EXPECT_TRUE(watch.Observe({changed}));
  }
}

TEST(ConfigChangeDetector, AFileAddedOrRemovedIsAChange) {
  ConfigChangeDetector added({At("/c/recorder.json", 1)});
  const std::vector<FileStamp> two = {At("/c/acme_filters.json", 5, 3, 7),
                                      At("/c/recorder.json", 1)};
  EXPECT_FALSE(added.Observe(two));
  EXPECT_TRUE(added.Observe(two));

  ConfigChangeDetector removed(two);
  EXPECT_FALSE(removed.Observe({At("/c/recorder.json", 1)}));
  EXPECT_TRUE(removed.Observe({At("/c/recorder.json", 1)}));
}

TEST(ConfigChangeDetector, AChangeBackBeforeItSettledIsNoReload) {
  ConfigChangeDetector watch({At("/c/filters.json", 1)});
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 2)}));
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 1)}));
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 1)}));
}

TEST(ConfigChangeDetector, RebaseAfterSighupForgetsTheChangeItRead) {
  ConfigChangeDetector watch({At("/c/filters.json", 1)});
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 2)}));
  watch.Rebase({At("/c/filters.json", 2)});
  EXPECT_FALSE(watch.Observe({At("/c/filters.json", 2)}));
}

TEST(ConfigWatchNames, TheFilesAReloadReads) {
  for (const char* name : {"recorder.json", "acme_recorder.json", "filters.json",
                           "acme_filters.json", "watchlist.json"})
    EXPECT_TRUE(IsWatchedConfigName(name)) << name;
  for (const char* name : {"monitor.db", "recorder.log", "_filters.json", "_recorder.json",
                           "filters.json.swp", "recorder.json~", "notes.json"})
    EXPECT_FALSE(IsWatchedConfigName(name)) << name;
}

TEST(StampConfigFiles, StampsTheWatchedFilesAndTheConfiguredOnes) {
  TempDir dir("config-watch");
  TempDir elsewhere("config-watch-extra");
  dir.Write("recorder.json", "{}");
  dir.Write("acme_filters.json", "{}");
  dir.Write("monitor.db", "x");
  const std::string extra = elsewhere.Write("site-filters.json", "{\"x\":1}");
  std::vector<FileStamp> stamps =
      StampConfigFiles(dir.path(), {extra, dir.File("missing.json"), dir.File("recorder.json")});
  ASSERT_EQ(stamps.size(), 3u);
  std::vector<std::string> paths;
  for (const FileStamp& s : stamps) paths.push_back(s.path);
  // Sorted by path, each once (recorder.json was named twice).
  std::vector<std::string> expected = {dir.File("acme_filters.json"), dir.File("recorder.json"),
                                       extra};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(paths, expected);
  for (const FileStamp& s : stamps) {
    if (s.path == extra) {
      EXPECT_EQ(s.size, 7);
    }
  }

  // Replaced by rename, as editors do: a new inode, a change.
  ConfigChangeDetector watch(stamps);
  dir.Write("acme_filters.json.tmp", "{}");
  ASSERT_EQ(
      rename(dir.File("acme_filters.json.tmp").c_str(), dir.File("acme_filters.json").c_str()), 0);
  std::vector<FileStamp> after = StampConfigFiles(dir.path(), {extra});
  EXPECT_FALSE(watch.Observe(after));
  EXPECT_TRUE(watch.Observe(after));
}

TEST(StampConfigFiles, AMissingDirectoryHasNoStamps) {
  EXPECT_TRUE(StampConfigFiles("/nonexistent/recorder-config", {}).empty());
  std::vector<FileStamp> stamps;
  AppendRuleFileStamps("/nonexistent/recorder-signals", &stamps);
  EXPECT_TRUE(stamps.empty());
}

// The Sigma rules of signalsLocation, found as the loader finds them: an
// added, edited or removed rule is a change; other files are not.
TEST(AppendRuleFileStamps, StampsEveryRuleFileUnderTheDirectory) {
  TempDir dir("rule-watch");
  dir.Write("a.yml", "title: a");
  std::filesystem::create_directories(dir.File("linux/process"));
  dir.Write("linux/process/b.yaml", "title: b");
  dir.Write("README.md", "rules");
  auto stamp = [&] {
    std::vector<FileStamp> stamps;
    AppendRuleFileStamps(dir.path(), &stamps);
    return stamps;
  };
  std::vector<FileStamp> before = stamp();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[0].path, dir.File("a.yml"));
  EXPECT_EQ(before[1].path, dir.File("linux/process/b.yaml"));
  ConfigChangeDetector watch(before);
  dir.Write("README.md", "other text");
  EXPECT_FALSE(watch.Observe(stamp()));
  EXPECT_FALSE(watch.Observe(stamp()));
  dir.Write("linux/process/c.yml", "title: c");
  EXPECT_FALSE(watch.Observe(stamp()));  // settling
  EXPECT_TRUE(watch.Observe(stamp()));
  ASSERT_EQ(std::remove(dir.File("a.yml").c_str()), 0);
  EXPECT_FALSE(watch.Observe(stamp()));
  EXPECT_TRUE(watch.Observe(stamp()));
  EXPECT_EQ(watch.baseline().size(), 2u);
}

}  // namespace
}  // namespace recorder::config
