#include "enrich/socket_owners.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <functional>

namespace recorder::enrich {
namespace {

constexpr size_t kMaxOwners = 4096;

bool Wildcard(std::string_view address) {
  return address.empty() || address == "0.0.0.0" || address == "::";
}

int32_t PidOfName(const char* name) {
  int32_t pid = 0;
  const char* end = name + std::char_traits<char>::length(name);
  auto [at, error] = std::from_chars(name, end, pid);
  return error == std::errc() && at == end ? pid : 0;
}

}  // namespace

SocketOwners::SocketOwners(std::string proc, int64_t walk_interval_ms, int walk_burst)
    : proc_(std::move(proc)),
      walk_interval_ms_(walk_interval_ms),
      walk_burst_(std::max(walk_burst, 1)),
      sockets_(proc_),
      walks_left_(walk_burst_) {}

bool SocketOwners::TakeWalk(int64_t now_ms) {
  if (budget_earned_ms_ == INT64_MIN) budget_earned_ms_ = now_ms;
  if (walk_interval_ms_ <= 0) {
    walks_left_ = walk_burst_;
  } else if (now_ms > budget_earned_ms_) {
    const int64_t earned = (now_ms - budget_earned_ms_) / walk_interval_ms_;
    if (earned > 0) {
      walks_left_ = static_cast<int>(std::min<int64_t>(walk_burst_, walks_left_ + earned));
      budget_earned_ms_ += earned * walk_interval_ms_;
    }
  }
  if (walks_left_ == 0) return false;
  // A full budget earns from now: time spent full is not saved up.
  if (walks_left_ == walk_burst_) budget_earned_ms_ = now_ms;
  --walks_left_;
  return true;
}

int32_t SocketOwners::PidOf(AddressFamily family, NetworkProtocol protocol,
                            std::string_view address, uint16_t port,
                            std::string_view remote_address, uint16_t remote_port, int64_t now_ms) {
  ++stats_.lookups;
  DiagQuery query;
  query.family = family;
  query.protocol = protocol;
  query.local_port = port;
  found_.clear();
  if (!sockets_.List(query, &found_).ok()) {
    ++stats_.no_socket;
    return 0;
  }
  // The socket that sent it: bound to the port on this address (or all),
  // connected to the packet's peer or to nothing (a plain sendto).
  const InetSocket* socket = nullptr;
  for (const InetSocket& s : found_) {
    if (s.local_port != port) continue;
    if (!Wildcard(s.local_address) && s.local_address != address) continue;
    const bool connected_to_peer =
        s.remote_address == remote_address && s.remote_port == remote_port;
    const bool unconnected = s.remote_port == 0 && Wildcard(s.remote_address);
    if (!connected_to_peer && !unconnected) continue;
    if (socket == nullptr || connected_to_peer) socket = &s;
  }
  if (socket == nullptr) {
    ++stats_.no_socket;
    return 0;
  }
  const uint64_t inode = socket->inode;
  if (auto it = owners_.find(inode); it != owners_.end()) {
    // Still the holder? (It may have passed the socket on, or exited.)
    if (Holds(it->second, inode)) {
      ++stats_.found;
      return it->second;
    }
    owners_.erase(it);
  }
  if (!TakeWalk(now_ms)) {
    ++stats_.throttled;
    return 0;
  }
  const int32_t pid = Walk(inode);
  if (pid == 0) {
    ++stats_.no_process;
    return 0;
  }
  if (owners_.size() >= kMaxOwners) owners_.clear();
  owners_[inode] = pid;
  ++stats_.found;
  return pid;
}

int32_t SocketOwners::Walk(uint64_t inode) {
  ++stats_.proc_walks;
  std::vector<int32_t> pids;
  if (DIR* dir = opendir(proc_.c_str())) {
    while (dirent* entry = readdir(dir))
      if (int32_t pid = PidOfName(entry->d_name); pid > 0) pids.push_back(pid);
    closedir(dir);
  }
  // Newest first: the short-lived client that just sent is most likely
  // among the last pids handed out.
  std::sort(pids.begin(), pids.end(), std::greater<>());
  for (int32_t pid : pids)
    if (Holds(pid, inode)) return pid;
  return 0;
}

bool SocketOwners::Holds(int32_t pid, uint64_t inode) const {
  const std::string fd_dir = proc_ + "/" + std::to_string(pid) + "/fd";
  const int dir_fd = open(fd_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return false;
  DIR* fds = fdopendir(dir_fd);
  if (fds == nullptr) {
    close(dir_fd);
    return false;
  }
  bool holds = false;
  while (dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    char link[64];
    const ssize_t n = readlinkat(dir_fd, entry->d_name, link, sizeof(link));
    if (n <= 0 || static_cast<size_t>(n) >= sizeof(link)) continue;
    if (ParseSocketLink(std::string_view(link, static_cast<size_t>(n))) == inode) {
      holds = true;
      break;
    }
  }
  closedir(fds);  // closes dir_fd
  return holds;
}

}  // namespace recorder::enrich
