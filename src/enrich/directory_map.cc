#include "enrich/directory_map.h"

#include <utility>

namespace recorder::enrich {

std::string JoinPath(std::string_view base, std::string_view relative) {
  std::string out;
  out.reserve(base.size() + 1 + relative.size());
  out.append(base);
  if (relative.empty()) return out;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(relative);
  return out;
}

DirectoryMap::DirectoryMap(size_t max_entries) : max_entries_(max_entries > 0 ? max_entries : 1) {}

DirectoryMap::Entry& DirectoryMap::Touch(const DirKey& key) {
  auto [it, inserted] = entries_.try_emplace(key);
  it->second.stamp = next_stamp_++;
  order_.emplace_back(key, it->second.stamp);
  if (inserted && entries_.size() > max_entries_) Evict();
  // Stale stamps pile up when keys are set again and again: compact.
  if (order_.size() > 2 * entries_.size() + 64) {
    std::deque<std::pair<DirKey, uint64_t>> live;
    for (const auto& [k, stamp] : order_) {
      auto e = entries_.find(k);
      if (e != entries_.end() && e->second.stamp == stamp) live.emplace_back(k, stamp);
    }
    order_.swap(live);
  }
  return entries_.find(key)->second;
}

void DirectoryMap::Evict() {
  while (entries_.size() > max_entries_ && !order_.empty()) {
    auto [key, stamp] = order_.front();
    order_.pop_front();
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.stamp != stamp) continue;
    entries_.erase(it);
    ++stats_.evicted;
  }
}

bool DirectoryMap::SetPath(const DirKey& key, std::string_view path) {
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.parent.known() && it->second.path == path) return false;
  Entry& e = Touch(key);
  e.path.assign(path);
  e.parent = DirKey();
  e.name.clear();
  return true;
}

bool DirectoryMap::SetChild(const DirKey& key, const DirKey& parent, std::string_view name) {
  if (key == parent) return false;  // a directory is not its own child
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.parent == parent && it->second.name == name) return false;
  Entry& e = Touch(key);
  e.path.clear();
  e.parent = parent;
  e.name.assign(name);
  return true;
}

void DirectoryMap::Forget(const DirKey& key) { entries_.erase(key); }

bool DirectoryMap::Resolve(DirKey* key, std::string* relative) const {
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    auto it = entries_.find(*key);
    if (it == entries_.end()) return false;
    const Entry& e = it->second;
    if (!e.parent.known()) {
      *relative = JoinPath(e.path, *relative);
      return true;
    }
    *relative = JoinPath(e.name, *relative);
    *key = e.parent;
  }
  return false;
}

std::string DirectoryMap::PathOf(const DirKey& key) const {
  DirKey k = key;
  std::string relative;
  return Resolve(&k, &relative) ? relative : std::string();
}

void DirectoryMap::Ancestors(const DirKey& key, std::vector<DirKey>* out) const {
  out->clear();
  DirKey k = key;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    auto it = entries_.find(k);
    if (it == entries_.end() || !it->second.parent.known()) return;
    k = it->second.parent;
    out->push_back(k);
  }
}

void DirectoryMap::Move(const DirKey& key, std::string_view new_path, const DirKey& new_parent,
                        std::string_view new_name, std::string* old_path, std::string* moved_to) {
  *old_path = PathOf(key);
  if (!new_path.empty()) {
    SetPath(key, new_path);
  } else if (new_parent.known() && !new_name.empty()) {
    SetChild(key, new_parent, new_name);
  } else {
    Forget(key);
  }
  *moved_to = PathOf(key);
  if (old_path->empty()) {
    // Any absolute entry may lie below the moved directory.
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (!it->second.parent.known() && !(it->first == key)) {
        it = entries_.erase(it);
        ++stats_.absolute_dropped;
      } else {
        ++it;
      }
    }
    return;
  }
  const std::string& from = *old_path;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    const bool below = !e.parent.known() && !(it->first == key) && e.path.size() > from.size() &&
                       e.path.compare(0, from.size(), from) == 0 &&
                       (from == "/" || e.path[from.size()] == '/');
    if (!below) {
      ++it;
      continue;
    }
    if (moved_to->empty()) {
      it = entries_.erase(it);
      ++stats_.absolute_dropped;
      continue;
    }
    std::string rest = e.path.substr(from == "/" ? 1 : from.size() + 1);
    e.path = JoinPath(*moved_to, rest);
    ++it;
  }
}

}  // namespace recorder::enrich
