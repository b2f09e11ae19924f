// Reload when a configuration or filter file changes on disk.
//
// The daemon samples the files' stamps (mtime, size, inode) on its
// periodic tick and asks a ConfigChangeDetector whether to reload. Polling,
// not inotify: the files are few and a stat each per second costs nothing;
// it sees a file replaced by rename (how editors and config management
// write), a file that appears, and a filter or watchlist file that lives
// outside the configuration directory, with no watch to re-arm and no
// extra descriptor in the event loop; a reload a second late is fine.
//
// The detector reloads only once the stamps have stayed the same over two
// samples, so a file still being written is not read half-way. It takes
// the new stamps as its baseline whether the reload succeeds or not: a bad
// file is reported once, not every second, and the next edit is seen.
//
// Pure except StampConfigFiles (stat, readdir). Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace recorder::config {

struct FileStamp {
  std::string path;
  int64_t mtime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};

// recorder.json, *_recorder.json, filters.json, *_filters.json,
// watchlist.json: the names a reload reads in the configuration directory.
bool IsWatchedConfigName(std::string_view file_name);

// The stamps of the watched files in `config_dir` and of `extra_paths`
// (the configured filter and watchlist files, wherever they are), sorted
// by path, each path once; a file that does not exist has no stamp. A
// directory that cannot be read gives no stamps (a change when it comes back).
std::vector<FileStamp> StampConfigFiles(const std::string& config_dir,
                                        const std::vector<std::string>& extra_paths);

// Adds the stamps of the Sigma rule files (*.yml, *.yaml) under
// `signals_dir`, searched recursively as the loader searches it, in path
// order; nothing when the directory does not exist. A rule edited, added
// or removed changes the stamps, and so reloads the signals.
void AppendRuleFileStamps(const std::string& signals_dir, std::vector<FileStamp>* stamps);

// The extra paths for `config`: its filter file and watchlist file.
std::vector<std::string> WatchedFilterPaths(const RecorderConfig& config);

class ConfigChangeDetector {
 public:
  explicit ConfigChangeDetector(std::vector<FileStamp> baseline = {})
      : baseline_(std::move(baseline)) {}

  // One sample. True: reload now (the files differ from the baseline and
  // have settled); `stamps` is then the new baseline.
  bool Observe(const std::vector<FileStamp>& stamps);
  // A reload by other means (SIGHUP) read the files as they are now.
  void Rebase(std::vector<FileStamp> stamps);

  const std::vector<FileStamp>& baseline() const { return baseline_; }

 private:
  std::vector<FileStamp> baseline_;
  std::optional<std::vector<FileStamp>> settling_;  // a change seen once
};

}  // namespace recorder::config
