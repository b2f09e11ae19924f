// Makes file events' relative names absolute: the names the kernel logs
// relative to a directory descriptor (unlinkat(dirfd, "secret.txt"), the
// way rm -r, find -delete, shutil.rmtree, git and systemd work), whose
// directory it identifies only by device and inode.
//
// Three ways, in this order:
//  1. The DirectoryMap: directory paths earlier events revealed (a PARENT
//     item of an absolute name, a created, removed, renamed or chmod'ed
//     directory), chained through names ("secret.txt" under inode X; X is
//     "deeper" under Y; Y is /var/tmp/rmtest).
//  2. Live only: /proc/PID/fd/DIRFD of the process, while it still holds
//     the descriptor (LiveDirectories, src/enrich/proc_dirfds.h).
//  3. Waiting: the event is held until a later event reveals the
//     directory (rm -r removes a tree bottom-up, so the directory's own
//     rmdir comes last), within a bounded window; afterwards it goes on
//     unresolved: the name relative to the directory's (dev, inode).
//
// Why events wait here rather than being stored and completed later: the
// store appends rows in arrival order in batches and knows nothing of
// paths; an UPDATE of stored rows would need their row ids back from it,
// an index or a scan to find them, and the JSON output (already written)
// could never be corrected. Holding keeps every output right the first
// time, at the cost of a delay bounded by count and time. Held events keep
// their order: whatever follows a waiting event waits behind it, so the
// store sees the stream as it came (the process rows depend on that).
//
// A path is stored only if it is the one the file had at the event's
// time. Renames are what could break that: a directory renamed between the
// event and the one that reveals it. The rename's own event gives the old
// location (events waiting on that directory are completed with it), and
// every other waiting event remembers the renames it lived through and
// checks its final path against them. A /proc answer read after the event
// counts only once the stream has passed the read; a directory rename in
// between takes it back to the old name, or drops it when the rename's
// paths are not known. What cannot be told stays unresolved.
//
// Pure but for the LiveDirectories it is given: time is passed in (event
// time drives the window in replay, wall time too when live). Not
// thread-safe: the enrich stage's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enrich/directory_map.h"
#include "normalize/event_batch.h"

namespace recorder::enrich {

// A name relative to a process's directory descriptor, and what the event
// says the file is (for checking an answer).
struct LiveQuery {
  int32_t pid = 0;
  int32_t dirfd = -1;
  std::string_view name;  // relative to dirfd, "." and empty parts removed
  DirKey dir;             // the directory holding the last component, if known
  DirKey file;            // the file itself, if known
};

// The live part: what a descriptor names now.
class LiveDirectories {
 public:
  struct Answer {
    std::string path;     // absolute path of the query's name
    int64_t read_ms = 0;  // wall time of the /proc read it rests on
  };
  virtual ~LiveDirectories() = default;
  // The query's name made absolute through the descriptor, checked
  // against the query's inodes; nullopt when it cannot be (descriptor
  // closed or reused, nothing to check against).
  virtual std::optional<Answer> Lookup(const LiveQuery& query, int64_t now_ms) = 0;
  // The process is gone: its descriptors are.
  virtual void ProcessEnded(int32_t pid) = 0;
  // A directory was renamed: paths read before may be stale.
  virtual void DirectoryMoved() = 0;
};

struct PathResolverOptions {
  // How long an event may wait for a later one to reveal its directory:
  // event time, and wall time as well when live.
  int64_t window_ms = 5000;
  size_t max_held = 8192;          // events held at once; past it the oldest goes on
  size_t max_directories = 65536;  // DirectoryMap entries
  // A /proc answer read after its event holds once an event that started
  // this long after the read has been seen (audit's clock is coarse)...
  int64_t clock_margin_ms = 50;
  // ...or this much wall time has passed since the read.
  int64_t live_settle_ms = 1000;
  size_t max_renames = 256;  // directory renames remembered for the checks
};

struct PathResolverStats {
  uint64_t resolved_at_once = 0;  // paths resolved by the map on arrival
  uint64_t resolved_later = 0;    // by an event that came after
  uint64_t resolved_live = 0;     // through /proc
  uint64_t unresolved = 0;        // went on unresolved
  uint64_t expired = 0;           // of those: waited the whole window
  uint64_t evicted = 0;           // of those: pushed out by max_held
  uint64_t live_revoked = 0;      // /proc answers dropped (directory renamed)
  uint64_t held = 0;              // events held now
};

class PathResolver {
 public:
  // `live` is borrowed (nullptr: replay, the map only).
  explicit PathResolver(PathResolverOptions options = {}, LiveDirectories* live = nullptr);

  // Resolves the events in order, in place, learning directories from
  // them. From the first event that must wait on, events move into the
  // resolver; `events` keeps those before it, then gets what is released
  // (in order). Returns how many events stayed in place (the rest of
  // `events` was held before). `now_ms` is wall time.
  size_t Process(EventBatch* events, int64_t now_ms);
  // Appends held events whose wait is over (window, or a /proc answer
  // that now holds), in order.
  void Release(int64_t now_ms, EventBatch* out);
  // Appends every held event; what still waits goes on unresolved.
  void Flush(EventBatch* out);

  size_t held() const { return held_.size(); }
  const PathResolverStats& stats() const { return stats_; }
  const DirectoryMap& directories() const { return dirs_; }

 private:
  enum class SlotState : uint8_t { kDone, kWaiting, kLive };
  // One name of a held event (path or new_path) still open.
  struct Slot {
    SlotState state = SlotState::kDone;
    DirKey waiting_on;      // kWaiting: the name is relative to this directory
    std::string live_path;  // kLive: the /proc answer
    int64_t read_ms = 0;    // kLive: when it was read
    // Directory renames (numbers in renames_) the slot lived through
    // without being moved by them; more than fit: it cannot be checked.
    uint64_t crossed[4] = {0, 0, 0, 0};
    uint8_t crossed_count = 0;
    bool unsure = false;
  };
  struct Held {
    TypedEvent event;
    uint64_t seq = 0;
    int64_t arrival_ms = 0;  // wall time
    Slot slots[2];
    bool open() const {
      return slots[0].state != SlotState::kDone || slots[1].state != SlotState::kDone;
    }
  };
  struct WaitRef {
    uint64_t seq;
    uint8_t slot;
  };
  struct Waiters {
    std::vector<WaitRef> refs;  // may hold stale refs (moved or released)
    size_t live = 0;
  };
  struct Rename {
    uint64_t number;
    std::string old_path;  // "" when not known
    std::string new_path;
  };

  // Learns from `event` and resolves what it can; fills `slots` for what
  // stays open. Returns true when the event must wait.
  bool Handle(TypedEvent& event, int64_t now_ms, Slot slots[2]);
  // Tries the map, then /proc, for one unresolved name.
  SlotState ResolveName(const TypedEvent& event, uint32_t node, std::string* path,
                        PathOrigin* origin, Slot* slot, int64_t now_ms);
  // The directory `key` is revealed (its state at the current event):
  // completes or moves on the slots waiting on it. `woken` collects them.
  void Wake(const DirKey& key, std::vector<WaitRef>* woken);
  // Re-resolves a waiting slot against the map.
  void Retry(Held& held, uint8_t index, std::vector<WaitRef>* woken);
  void AddWaiter(const DirKey& key, uint64_t seq, uint8_t slot);
  void DropWaiter(const DirKey& key);
  // A directory rename at event time `time_ms`, from `old_path` to
  // `new_path` ("" when not known): /proc answers read after it (or too
  // close to tell) are taken back to the old path, or dropped when the
  // paths are not known (their slots wait again).
  void Revoke(int64_t time_ms, std::string_view old_path, std::string_view new_path);
  // A name's absolute path from the event or the map as it is ("" when
  // not known).
  std::string PathBefore(const std::string& path, const PathOrigin& origin, uint32_t node) const;
  // The rename numbered `number` happened: every waiting slot lived
  // through it but those it moved (`moved`) and those waiting on a
  // directory above the moved one (above_): it cannot be above them.
  void CrossRename(uint64_t number, const std::vector<WaitRef>& moved);
  // `self` (a directory) is the last component of `path`, in `parent`:
  // learned as it was at the event, waking what waits on it.
  void Learn(const DirKey& self, const DirKey& parent, std::string_view path);
  // The same for a directory the event created: nothing waited on it.
  void Place(const DirKey& self, const DirKey& parent, std::string_view path, bool relative);
  // Checks a path found after waiting against the renames lived through:
  // may rewrite it to the old path; false when it cannot be trusted.
  bool CheckRenames(const Slot& slot, std::string* path) const;
  // Makes a slot final: resolved to `path`, or unresolved relative to its
  // directory.
  void Finish(Held& held, uint8_t index, bool resolved);
  // Why the first held event must go whatever it waits for.
  enum class Push : uint8_t { kNone, kBound, kFlush };
  // Releases the first held event if nothing keeps it (or it is pushed).
  void ReleaseHead(EventBatch* out, Push push, int64_t now_ms);
  Held* Find(uint64_t seq);
  uint32_t NodeId(std::string_view node);
  std::string* PathOfSlot(TypedEvent& event, uint8_t index);
  PathOrigin* OriginOfSlot(TypedEvent& event, uint8_t index);

  const PathResolverOptions options_;
  LiveDirectories* const live_;
  DirectoryMap dirs_;
  std::deque<Held> held_;
  uint64_t next_seq_ = 1;
  std::unordered_map<DirKey, Waiters, DirKeyHash> waiters_;
  std::deque<Rename> renames_;
  uint64_t rename_count_ = 0;
  int64_t stream_ms_ = INT64_MIN;  // latest event time seen
  std::unordered_map<std::string, uint32_t> nodes_;
  uint64_t current_seq_ = 0;      // the held event being handled (0: none)
  std::vector<WaitRef> woken_;    // slots the current event's facts moved
  std::vector<WaitRef> revoked_;  // scratch for Revoke
  std::vector<DirKey> above_;     // a moved directory's ancestors, for CrossRename
  PathResolverStats stats_;
};

}  // namespace recorder::enrich
