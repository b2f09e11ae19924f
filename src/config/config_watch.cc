#include "config/config_watch.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace recorder::config {
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<FileStamp> Stamp(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  FileStamp stamp;
  stamp.path = path;
  stamp.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
  stamp.size = static_cast<int64_t>(info.st_size);
  stamp.inode = static_cast<uint64_t>(info.st_ino);
  return stamp;
}

}  // namespace

bool IsWatchedConfigName(std::string_view name) {
  return name == kMainConfigName || name == "filters.json" || name == "watchlist.json" ||
         (name.size() > std::string_view(kProductConfigSuffix).size() &&
          EndsWith(name, kProductConfigSuffix)) ||
         (name.size() > std::string_view("_filters.json").size() &&
          EndsWith(name, "_filters.json"));
}

std::vector<std::string> WatchedFilterPaths(const RecorderConfig& config) {
  std::vector<std::string> paths;
  if (!config.filter_location.empty()) paths.push_back(config.filter_location);
  if (!config.watchlist_location.empty()) paths.push_back(config.watchlist_location);
  return paths;
}

std::vector<FileStamp> StampConfigFiles(const std::string& config_dir,
                                        const std::vector<std::string>& extra_paths) {
  std::vector<std::string> paths = extra_paths;
  if (DIR* dir = opendir(config_dir.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      if (IsWatchedConfigName(entry->d_name)) paths.push_back(config_dir + "/" + entry->d_name);
    }
    closedir(dir);
  }
  std::vector<FileStamp> stamps;
  for (const std::string& path : paths)
    if (std::optional<FileStamp> stamp = Stamp(path)) stamps.push_back(std::move(*stamp));
  // One file may be named twice (filters.json found in the directory and
  // as filterLocation, spelled differently): one stamp per inode.
  std::sort(stamps.begin(), stamps.end(),
            [](const FileStamp& a, const FileStamp& b) { return a.path < b.path; });
  std::vector<FileStamp> unique;
  for (FileStamp& stamp : stamps) {
    const bool seen = std::any_of(unique.begin(), unique.end(), [&](const FileStamp& u) {
      return u.inode == stamp.inode && u.mtime_ns == stamp.mtime_ns && u.size == stamp.size;
    });
    if (!seen) unique.push_back(std::move(stamp));
  }
  return unique;
}

void AppendRuleFileStamps(const std::string& signals_dir, std::vector<FileStamp>* stamps) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (signals_dir.empty() || !fs::is_directory(signals_dir, ec)) return;
  std::vector<std::string> paths;
  for (fs::recursive_directory_iterator
           it(signals_dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if (ext == ".yml" || ext == ".yaml") paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());
  for (const std::string& path : paths)
    if (std::optional<FileStamp> stamp = Stamp(path)) stamps->push_back(std::move(*stamp));
}

bool ConfigChangeDetector::Observe(const std::vector<FileStamp>& stamps) {
  if (stamps == baseline_) {
    settling_.reset();
    return false;
  }
  if (settling_ && *settling_ == stamps) {
    baseline_ = stamps;
    settling_.reset();
    return true;
  }
  settling_ = stamps;
  return false;
}

void ConfigChangeDetector::Rebase(std::vector<FileStamp> stamps) {
  baseline_ = std::move(stamps);
  settling_.reset();
}

}  // namespace recorder::config
