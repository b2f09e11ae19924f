#include "enrich/proc_dirfds.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>
#include <utility>

namespace recorder::enrich {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

bool HasDotDot(std::string_view name) {
  size_t i = 0;
  while (i <= name.size()) {
    size_t end = name.find('/', i);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(i, end - i) == "..") return true;
    i = end + 1;
  }
  return false;
}

bool IsInode(const std::string& path, const DirKey& key) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == key.dev &&
         static_cast<uint64_t>(st.st_ino) == key.inode;
}

}  // namespace

ProcDirfds::ProcDirfds(std::string proc, size_t max_entries)
    : proc_(std::move(proc)), max_entries_(max_entries > 0 ? max_entries : 1) {}

std::optional<ProcDirfds::Descriptor> ProcDirfds::Read(int32_t pid, int32_t fd, int64_t now_ms) {
  ++stats_.reads;
  const std::string link = proc_ + "/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  struct stat st {};
  if (stat(link.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  char buffer[PATH_MAX];
  const ssize_t n = readlink(link.c_str(), buffer, sizeof(buffer));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buffer) || buffer[0] != '/') return std::nullopt;
  Descriptor d;
  d.fd = fd;
  d.dev = static_cast<uint64_t>(st.st_dev);
  d.inode = static_cast<uint64_t>(st.st_ino);
  d.path.assign(buffer, static_cast<size_t>(n));
  d.read_ms = now_ms;
  if (d.path.ends_with(kDeleted)) return std::nullopt;
  // The descriptor may have been closed and reused between the two calls,
  // and a process in another mount namespace shows paths of its own: the
  // path must lead to the same directory here and now.
  if (!IsInode(d.path, DirKey{0, d.dev, d.inode})) return std::nullopt;
  return d;
}

std::optional<std::string> ProcDirfds::Through(const Descriptor& d, const LiveQuery& query) {
  const std::string_view name = query.name;
  const std::string full = JoinPath(d.path, name);
  const size_t slash = name.rfind('/');
  DirKey dir = query.dir;
  DirKey file = query.file;
  dir.node = file.node = 0;
  if (slash == std::string_view::npos && dir.known())
    return d.dev == dir.dev && d.inode == dir.inode ? std::optional(full) : std::nullopt;
  if (dir.known()) {
    if (IsInode(JoinPath(d.path, name.substr(0, slash)), dir)) return full;
    return std::nullopt;
  }
  if (file.known() && IsInode(full, file)) return full;
  return std::nullopt;
}

std::optional<LiveDirectories::Answer> ProcDirfds::Lookup(const LiveQuery& query, int64_t now_ms) {
  ++stats_.lookups;
  if (query.pid <= 0 || query.dirfd < 0 || query.name.empty() || HasDotDot(query.name))
    return std::nullopt;
  // Only a plain name checked against the descriptor's own inode rests on
  // the old read alone; anything that looked at the file system now is as
  // recent as now.
  const bool plain = query.name.find('/') == std::string_view::npos && query.dir.known();
  auto it = by_pid_.find(query.pid);
  if (it != by_pid_.end()) {
    std::vector<Descriptor>& fds = it->second;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd != query.dirfd) continue;
      if (std::optional<std::string> path = Through(fds[i], query)) {
        ++stats_.cache_hits;
        return Answer{std::move(*path), plain ? fds[i].read_ms : now_ms};
      }
      // Reused for another directory, or the name is not below it.
      fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
      --entries_;
      break;
    }
  }
  std::optional<Descriptor> fresh = Read(query.pid, query.dirfd, now_ms);
  if (!fresh) return std::nullopt;
  std::optional<std::string> path = Through(*fresh, query);
  if (!path) {
    ++stats_.mismatches;
    return std::nullopt;
  }
  if (entries_ >= max_entries_) {
    by_pid_.clear();
    entries_ = 0;
  }
  by_pid_[query.pid].push_back(std::move(*fresh));
  ++entries_;
  return Answer{std::move(*path), now_ms};
}

void ProcDirfds::ProcessEnded(int32_t pid) {
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) return;
  entries_ -= it->second.size();
  by_pid_.erase(it);
}

void ProcDirfds::DirectoryMoved() {
  by_pid_.clear();
  entries_ = 0;
}

}  // namespace recorder::enrich
