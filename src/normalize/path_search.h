// PATH searches folded into the exec that ends them.
//
// execvp() (env, runuser, xargs, most interpreters) runs a bare program
// name by trying each PATH directory in turn: every directory without it
// is a failed execve (ENOENT) of the same name by the same process, then
// one exec succeeds. Those misses are how the search works, not failures;
// a real failure (EACCES, a name that no directory had) must still stand
// out. So when an ENOENT ExecFailure comes, the stream of typed events
// pauses: it and the events after it are held, in order, until every
// search under way is decided by the next event of its process (node,
// pid):
// - a successful exec of the same program name (last path component):
//   the search's misses are dropped and counted in its
//   ProcessStart::path_search_attempts;
// - anything else of that process (another error, another name, any other
//   event): the misses stay, as failed execs.
// Then the held events go on, in their order, so the store sees audit
// events in the order they came (what it writes fastest). The held events
// also go on, searches under way left as failures, once kMaxMisses misses
// or more than kMaxOthers other events are held, once kWindowMs passed
// since the first (by the time of the audit events that follow, or Age's
// `now_ms`), and at Flush. Late, never lost.
//
// Pure: time comes in as arguments. Not thread-safe: the normalizer's
// owner calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/event_batch.h"
#include "normalize/typed_event.h"

namespace recorder {

class PathSearches {
 public:
  // Execvp tries the directories back to back (microseconds apart): a
  // search is over long before this.
  static constexpr int64_t kWindowMs = 500;
  // A PATH longer than this is not searched in one go.
  static constexpr size_t kMaxMisses = 64;
  // A busy machine's other processes add a few events between the tries;
  // a process that does not decide within these is not searching PATH
  // (and every held event costs a move).
  static constexpr size_t kMaxOthers = 8;

  // Takes the typed events (*out)[first, size) that one audit event at
  // `time_ms` gave and leaves in their place what goes on now: the events
  // held before them, once decided, then those of them not held.
  // `exec_name` is the last path component of the program a successful
  // exec among them asked for (its first PATH item); empty when none.
  void Apply(EventBatch* out, size_t first, std::string_view exec_name, int64_t time_ms) {
    if (held_.empty() && !HasMiss(*out, first)) return;  // the usual case: nothing to do
    ApplyHeld(out, first, exec_name, time_ms);
  }
  // Lets the held events go on if the first came before `now_ms` - kWindowMs.
  void Age(int64_t now_ms, EventBatch* out);
  // Lets every held event go on (end of input).
  void Flush(EventBatch* out);

  // Typed events held now; 0 when no search is under way.
  size_t held() const { return held_.size(); }
  // Misses folded into a successful exec so far.
  uint64_t folded() const { return folded_; }

 private:
  struct Search {
    std::string node;
    int32_t pid = 0;
    std::string name;            // the program name tried
    std::vector<size_t> misses;  // indexes into held_
    bool open = true;            // not decided yet
  };

  static bool HasMiss(const EventBatch& out, size_t first);
  void ApplyHeld(EventBatch* out, size_t first, std::string_view exec_name, int64_t time_ms);
  // Holds `event` (or lets it pass when nothing is held), deciding the
  // search of its process.
  void Place(TypedEvent&& event, std::string_view exec_name, EventBatch* out);
  // Moves the held events (but dropped misses) to *out, in order.
  void Release(EventBatch* out);

  std::vector<TypedEvent> held_;
  std::vector<bool> dropped_;  // by held_ index: a miss folded into its exec
  std::vector<Search> searches_;
  size_t open_searches_ = 0;
  size_t held_misses_ = 0;
  int64_t first_ms_ = 0;  // time of held_.front()
  std::vector<TypedEvent> scratch_;
  uint64_t folded_ = 0;
};

// The last component of a path ("su" for "/usr/bin/su").
std::string_view LastPathComponent(std::string_view path);

}  // namespace recorder
