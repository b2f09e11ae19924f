#include "enrich/path_resolver.h"

#include <algorithm>
#include <utility>
#include <variant>

namespace recorder::enrich {
namespace {

// The last component of a path ("" for "" and "/").
std::string_view Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The directory an absolute path's last component is in. A path ending in
// '/' names a directory itself (a failed call's PARENT): that one.
std::string_view DirName(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
    return path;
  }
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

bool Below(std::string_view path, std::string_view dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

PathResolver::PathResolver(PathResolverOptions options, LiveDirectories* live)
    : options_(options), live_(live), dirs_(options.max_directories) {}

uint32_t PathResolver::NodeId(std::string_view node) {
  if (node.empty()) return 0;
  if (auto it = nodes_.find(std::string(node)); it != nodes_.end()) return it->second;
  // A log names a handful of nodes; a hostile one gets one shared number
  // past the bound, which only costs resolutions.
  if (nodes_.size() >= 4096) return UINT32_MAX;
  const uint32_t id = static_cast<uint32_t>(nodes_.size() + 1);
  nodes_.emplace(std::string(node), id);
  return id;
}

std::string* PathResolver::PathOfSlot(TypedEvent& event, uint8_t index) {
  FileEvent& f = std::get<FileEvent>(event.body);
  return index == 0 ? &f.path : &f.new_path;
}

PathOrigin* PathResolver::OriginOfSlot(TypedEvent& event, uint8_t index) {
  FileEvent& f = std::get<FileEvent>(event.body);
  return index == 0 ? &f.path_origin : &f.new_path_origin;
}

PathResolver::Held* PathResolver::Find(uint64_t seq) {
  if (held_.empty() || seq < held_.front().seq) return nullptr;
  const uint64_t index = seq - held_.front().seq;
  if (index >= held_.size()) return nullptr;
  Held& h = held_[index];
  return h.seq == seq ? &h : nullptr;
}

void PathResolver::AddWaiter(const DirKey& key, uint64_t seq, uint8_t slot) {
  Waiters& w = waiters_[key];
  w.refs.push_back({seq, slot});
  ++w.live;
  // Released slots leave their refs behind until the entry goes; a
  // directory that always has a waiter would keep them all: compact.
  if (w.refs.size() > 2 * w.live + 16) {
    std::erase_if(w.refs, [&](const WaitRef& r) {
      const Held* h = Find(r.seq);
      return h == nullptr || h->slots[r.slot].state != SlotState::kWaiting ||
             !(h->slots[r.slot].waiting_on == key);
    });
  }
}

void PathResolver::DropWaiter(const DirKey& key) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return;
  if (--it->second.live == 0) waiters_.erase(it);
}

size_t PathResolver::Process(EventBatch* events, int64_t now_ms) {
  const size_t count = events->size();
  size_t kept = held_.empty() ? count : 0;
  for (size_t i = 0; i < count; ++i) {
    TypedEvent& event = (*events)[i];
    stream_ms_ = std::max(stream_ms_, event.header.time_ms);
    Held* held = nullptr;
    if (kept == count) {
      // Nothing held: the event is handled where it is, and only moves
      // when it has to wait.
      Slot slots[2];
      current_seq_ = 0;
      if (!Handle(event, now_ms, slots)) continue;
      kept = i;
      held = &held_.emplace_back();
      held->event = std::move(event);
      held->slots[0] = std::move(slots[0]);
      held->slots[1] = std::move(slots[1]);
      held->seq = next_seq_++;
    } else {
      held = &held_.emplace_back();
      held->event = std::move(event);
      held->seq = next_seq_++;
      current_seq_ = held->seq;
      Handle(held->event, now_ms, held->slots);
    }
    held->arrival_ms = now_ms;
    for (uint8_t s = 0; s < 2; ++s)
      if (held->slots[s].state == SlotState::kWaiting)
        AddWaiter(held->slots[s].waiting_on, held->seq, s);
  }
  current_seq_ = 0;
  events->Truncate(kept);
  while (held_.size() > options_.max_held) ReleaseHead(events, Push::kBound, now_ms);
  Release(now_ms, events);
  return kept;
}

void PathResolver::Release(int64_t now_ms, EventBatch* out) {
  while (!held_.empty()) {
    const size_t before = held_.size();
    ReleaseHead(out, Push::kNone, now_ms);
    if (held_.size() == before) break;
  }
  stats_.held = held_.size();
}

void PathResolver::Flush(EventBatch* out) {
  // The stream is over: a /proc answer has seen every rename it could.
  for (Held& h : held_)
    for (uint8_t s = 0; s < 2; ++s)
      if (h.slots[s].state == SlotState::kLive) Finish(h, s, /*resolved=*/true);
  while (!held_.empty()) ReleaseHead(out, Push::kFlush, INT64_MAX);
  stats_.held = 0;
}

void PathResolver::ReleaseHead(EventBatch* out, Push push, int64_t now_ms) {
  Held& h = held_.front();
  const bool force = push != Push::kNone;
  const int64_t waited_stream = stream_ms_ - h.event.header.time_ms;
  const bool window_over =
      waited_stream >= options_.window_ms ||
      (live_ != nullptr && now_ms != INT64_MAX && now_ms - h.arrival_ms >= options_.window_ms);
  for (uint8_t s = 0; s < 2; ++s) {
    Slot& slot = h.slots[s];
    if (slot.state == SlotState::kLive) {
      const bool holds = stream_ms_ > slot.read_ms + options_.clock_margin_ms ||
                         now_ms >= slot.read_ms + options_.live_settle_ms;
      if (holds) {
        Finish(h, s, /*resolved=*/true);
        continue;
      }
    }
    if (slot.state == SlotState::kDone || !(force || window_over)) continue;
    if (window_over) {
      ++stats_.expired;
    } else if (push == Push::kBound) {
      ++stats_.evicted;
    }
    Finish(h, s, /*resolved=*/false);
  }
  if (h.open()) return;
  out->push_back(std::move(h.event));
  held_.pop_front();
}

void PathResolver::Finish(Held& held, uint8_t index, bool resolved) {
  Slot& slot = held.slots[index];
  std::string* path = PathOfSlot(held.event, index);
  PathOrigin* origin = OriginOfSlot(held.event, index);
  if (slot.state == SlotState::kWaiting) DropWaiter(slot.waiting_on);
  if (resolved && slot.state == SlotState::kLive) {
    *path = std::move(slot.live_path);
    origin->unresolved = false;
    ++stats_.resolved_live;
  } else if (!resolved) {
    // Relative to the directory it last waited on: the highest one known.
    origin->unresolved = true;
    origin->dir_dev = slot.waiting_on.dev;
    origin->dir_inode = slot.waiting_on.inode;
    ++stats_.unresolved;
  }
  slot = Slot();
}

PathResolver::SlotState PathResolver::ResolveName(const TypedEvent& event, uint32_t node,
                                                  std::string* path, PathOrigin* origin, Slot* slot,
                                                  int64_t now_ms) {
  // The name relative to the directory its last component is in.
  DirKey key{node, origin->dir_dev, origin->dir_inode};
  std::string relative(key.known() ? Basename(*path) : std::string_view());
  const bool names_directory = path->empty();
  if (key.known() && dirs_.Resolve(&key, &relative)) {
    if (names_directory && relative.back() != '/') relative.push_back('/');
    *path = std::move(relative);
    origin->unresolved = false;
    ++stats_.resolved_at_once;
    return SlotState::kDone;
  }
  if (live_ != nullptr && event.subject.pid > 0 && origin->dirfd >= 0 && !names_directory) {
    LiveQuery query;
    query.pid = event.subject.pid;
    query.dirfd = origin->dirfd;
    query.name = *path;
    query.dir = DirKey{node, origin->dir_dev, origin->dir_inode};
    if (origin->inode != 0) query.file = DirKey{node, origin->dev, origin->inode};
    if (std::optional<LiveDirectories::Answer> answer = live_->Lookup(query, now_ms)) {
      if (answer->read_ms + options_.clock_margin_ms < event.header.time_ms) {
        // Read before the event, and no directory was renamed since (the
        // live part forgets its answers then): it holds now.
        *path = std::move(answer->path);
        origin->unresolved = false;
        ++stats_.resolved_live;
        return SlotState::kDone;
      }
      slot->live_path = std::move(answer->path);
      slot->read_ms = answer->read_ms;
      if (key.known()) *path = std::move(relative);
      slot->waiting_on = key;
      return SlotState::kLive;
    }
  }
  if (!key.known()) {
    // Nothing to wait for: no directory inode to be revealed later.
    ++stats_.unresolved;
    return SlotState::kDone;
  }
  *path = std::move(relative);
  origin->dir_dev = key.dev;
  origin->dir_inode = key.inode;
  slot->waiting_on = key;
  return SlotState::kWaiting;
}

void PathResolver::Wake(const DirKey& key, std::vector<WaitRef>* woken) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return;
  std::vector<WaitRef> refs = std::move(it->second.refs);
  waiters_.erase(it);
  for (const WaitRef& ref : refs) {
    Held* held = Find(ref.seq);
    if (held == nullptr) continue;
    Slot& slot = held->slots[ref.slot];
    if (slot.state != SlotState::kWaiting || !(slot.waiting_on == key)) continue;
    Retry(*held, ref.slot, woken);
  }
}

void PathResolver::Retry(Held& held, uint8_t index, std::vector<WaitRef>* woken) {
  Slot& slot = held.slots[index];
  std::string* path = PathOfSlot(held.event, index);
  PathOrigin* origin = OriginOfSlot(held.event, index);
  woken->push_back({held.seq, index});
  DirKey key = slot.waiting_on;
  std::string relative = *path;
  if (!dirs_.Resolve(&key, &relative)) {
    *path = std::move(relative);
    origin->dir_dev = key.dev;
    origin->dir_inode = key.inode;
    slot.waiting_on = key;
    AddWaiter(key, held.seq, index);
    return;
  }
  if (path->empty() && relative.back() != '/') relative.push_back('/');
  if (!CheckRenames(slot, &relative)) {
    // The directory moved after the event in a way that cannot be undone:
    // the name stays relative to the directory it waited on.
    origin->unresolved = true;
    origin->dir_dev = slot.waiting_on.dev;
    origin->dir_inode = slot.waiting_on.inode;
    ++stats_.unresolved;
    slot = Slot();
    return;
  }
  *path = std::move(relative);
  origin->unresolved = false;
  ++stats_.resolved_later;
  slot = Slot();
}

bool PathResolver::CheckRenames(const Slot& slot, std::string* path) const {
  if (slot.unsure) return false;
  for (int i = slot.crossed_count - 1; i >= 0; --i) {
    const uint64_t number = slot.crossed[i];
    if (renames_.empty() || number < renames_.front().number) return false;
    const Rename& r = renames_[number - renames_.front().number];
    if (r.new_path.empty()) return false;
    if (!Below(*path, r.new_path)) continue;
    if (r.old_path.empty()) return false;
    *path = r.old_path + path->substr(r.new_path == "/" ? 0 : r.new_path.size());
  }
  return true;
}

void PathResolver::Revoke(int64_t time_ms, std::string_view old_path, std::string_view new_path) {
  for (Held& h : held_) {
    if (h.seq == current_seq_) continue;
    for (uint8_t s = 0; s < 2; ++s) {
      Slot& slot = h.slots[s];
      if (slot.state != SlotState::kLive || slot.read_ms + options_.clock_margin_ms < time_ms)
        continue;
      // Read after the rename (or too close to tell): the answer may show
      // the new name. Where the rename's two paths are known, an answer
      // below the new one is taken back to the old one, and any other is
      // not concerned.
      if (!old_path.empty() && !new_path.empty()) {
        if (Below(slot.live_path, new_path))
          slot.live_path = std::string(old_path) + slot.live_path.substr(new_path.size());
        continue;
      }
      // Otherwise the map, still as it was before the rename, is tried, or
      // the name waits on its directory's inode again.
      ++stats_.live_revoked;
      slot.live_path.clear();
      if (!slot.waiting_on.known()) {
        slot.state = SlotState::kDone;
        OriginOfSlot(h.event, s)->unresolved = true;
        ++stats_.unresolved;
        continue;
      }
      slot.state = SlotState::kWaiting;
      Retry(h, s, &revoked_);
    }
  }
  revoked_.clear();
}

void PathResolver::CrossRename(uint64_t number, const std::vector<WaitRef>& moved) {
  for (Held& h : held_) {
    if (h.seq == current_seq_) continue;
    for (uint8_t s = 0; s < 2; ++s) {
      Slot& slot = h.slots[s];
      if (slot.state != SlotState::kWaiting) continue;
      const bool was_moved = std::any_of(moved.begin(), moved.end(), [&](const WaitRef& r) {
        return r.seq == h.seq && r.slot == s;
      });
      if (was_moved || std::find(above_.begin(), above_.end(), slot.waiting_on) != above_.end())
        continue;
      if (slot.crossed_count == std::size(slot.crossed)) {
        slot.unsure = true;
      } else {
        slot.crossed[slot.crossed_count++] = number;
      }
    }
  }
}

bool PathResolver::Handle(TypedEvent& event, int64_t now_ms, Slot slots[2]) {
  // A Windows record's paths are the record's, and its directories are
  // not this resolver's to learn.
  if (event.windows != nullptr) return false;
  if (live_ != nullptr && std::holds_alternative<ProcessEnd>(event.body))
    live_->ProcessEnded(event.subject.pid);
  FileEvent* f = std::get_if<FileEvent>(&event.body);
  if (f == nullptr) return false;
  const uint32_t node = NodeId(event.header.node);
  const FileOperation op = f->operation;
  const uint8_t names = op == FileOperation::kRename || op == FileOperation::kLink ? 2 : 1;
  auto dir_of = [&](const PathOrigin& o) { return DirKey{node, o.dir_dev, o.dir_inode}; };
  auto self_of = [&](const PathOrigin& o) {
    return o.directory ? DirKey{node, o.dev, o.inode} : DirKey();
  };
  const bool dir_rename = op == FileOperation::kRename && self_of(f->new_path_origin).known();
  woken_.clear();
  if (dir_rename && live_ != nullptr) {
    // Cached /proc answers are stale for later events; those read after
    // this rename are doubtful for earlier ones.
    live_->DirectoryMoved();
    Revoke(event.header.time_ms, PathBefore(f->path, f->path_origin, node),
           PathBefore(f->new_path, f->new_path_origin, node));
  }

  // 1. What the event shows of the file system as it was: the directory
  // of an absolute name, and a directory named by the call (but for one
  // it creates, or a rename's destination: those are after it).
  for (uint8_t i = 0; i < names; ++i) {
    const std::string& path = i == 0 ? f->path : f->new_path;
    const PathOrigin& o = i == 0 ? f->path_origin : f->new_path_origin;
    const DirKey parent = dir_of(o);
    const DirKey self = self_of(o);
    const bool after = op == FileOperation::kMkdir || (op == FileOperation::kRename && i == 1);
    if (!o.unresolved) {
      if (path.empty() || path[0] != '/') continue;
      if (parent.known()) {
        const std::string_view dir = DirName(path);
        if (!dir.empty() && dirs_.SetPath(parent, dir)) Wake(parent, &woken_);
      }
      if (self.known() && !after) Learn(self, parent, path);
    } else if (self.known() && parent.known() && !after) {
      Learn(self, parent, path);
    }
  }

  // 2. The event's own names. Resolving rewrites a waiting name's
  // directory to the highest one its chain reached: step 3 needs the
  // directories as the event gave them.
  const DirKey given_parent[2] = {dir_of(f->path_origin), dir_of(f->new_path_origin)};
  bool open = false;
  for (uint8_t i = 0; i < names; ++i) {
    PathOrigin& o = i == 0 ? f->path_origin : f->new_path_origin;
    if (!o.unresolved) continue;
    std::string& path = i == 0 ? f->path : f->new_path;
    slots[i] = Slot();
    slots[i].state = ResolveName(event, node, &path, &o, &slots[i], now_ms);
    if (slots[i].state != SlotState::kDone) open = true;
  }

  // 3. What the event changed: a new directory, one removed, one moved.
  const PathOrigin& first = f->path_origin;
  if (op == FileOperation::kMkdir && self_of(first).known()) {
    const DirKey self = self_of(first);
    // Events still waiting on this inode meant a directory that is gone
    // (its removal was not seen): the number is another's now.
    if (auto it = waiters_.find(self); it != waiters_.end()) {
      std::vector<WaitRef> refs = std::move(it->second.refs);
      waiters_.erase(it);
      for (const WaitRef& ref : refs) {
        Held* held = Find(ref.seq);
        if (held == nullptr || held->slots[ref.slot].state != SlotState::kWaiting ||
            !(held->slots[ref.slot].waiting_on == self))
          continue;
        held->slots[ref.slot].waiting_on = DirKey();  // already dropped with the entry
        Finish(*held, ref.slot, /*resolved=*/false);
        OriginOfSlot(held->event, ref.slot)->dir_dev = self.dev;
        OriginOfSlot(held->event, ref.slot)->dir_inode = self.inode;
      }
    }
    Place(self, given_parent[0], f->path, first.unresolved);
  } else if (op == FileOperation::kRmdir && self_of(first).known()) {
    dirs_.Forget(self_of(first));
  } else if (dir_rename) {
    const PathOrigin& to = f->new_path_origin;
    const DirKey self = self_of(to);
    const DirKey parent = given_parent[1];
    const bool absolute = !to.unresolved && !f->new_path.empty() && f->new_path[0] == '/';
    // Names waiting on a directory above this one were not moved by it.
    dirs_.Ancestors(self, &above_);
    std::string old_path, new_path;
    dirs_.Move(self, parent.known() || !absolute ? std::string_view() : f->new_path, parent,
               parent.known() ? Basename(f->new_path) : std::string_view(), &old_path, &new_path);
    const uint64_t number = ++rename_count_;
    renames_.push_back({number, std::move(old_path), std::move(new_path)});
    while (renames_.size() > options_.max_renames) renames_.pop_front();
    CrossRename(number, woken_);
  }
  return open;
}

std::string PathResolver::PathBefore(const std::string& path, const PathOrigin& origin,
                                     uint32_t node) const {
  if (!origin.unresolved) return !path.empty() && path[0] == '/' ? path : std::string();
  const DirKey parent{node, origin.dir_dev, origin.dir_inode};
  if (!parent.known()) return {};
  const std::string dir = dirs_.PathOf(parent);
  return dir.empty() ? std::string() : JoinPath(dir, Basename(path));
}

void PathResolver::Learn(const DirKey& self, const DirKey& parent, std::string_view path) {
  const std::string_view name = Basename(path);
  if (parent.known() && !name.empty() && name != "..") {
    // A name under a directory whose path is not known must not hide a
    // path that is; it may reveal the parent's instead.
    const std::string self_path = dirs_.PathOf(self);
    const std::string parent_path = dirs_.PathOf(parent);
    if (!self_path.empty() && parent_path.empty()) {
      if (Basename(self_path) == name) {
        const std::string_view dir = DirName(self_path);
        if (!dir.empty() && dirs_.SetPath(parent, dir)) Wake(parent, &woken_);
      }
      return;
    }
    if (dirs_.SetChild(self, parent, name)) Wake(self, &woken_);
    return;
  }
  if (!path.empty() && path[0] == '/' && dirs_.SetPath(self, path)) Wake(self, &woken_);
}

void PathResolver::Place(const DirKey& self, const DirKey& parent, std::string_view path,
                         bool relative) {
  const std::string_view name = Basename(path);
  if (parent.known() && !name.empty() && name != "..") {
    dirs_.SetChild(self, parent, name);
  } else if (!relative && !path.empty() && path[0] == '/') {
    dirs_.SetPath(self, path);
  }
}

}  // namespace recorder::enrich
