// PATH searches folded into the exec that ends them.
//
// execvp() (env, runuser, xargs, most interpreters) runs a bare program
// name by trying each PATH directory in turn: every directory without it
// is a failed execve (ENOENT) of the same name by the same process, then
// one exec succeeds. Those misses are how the search works, not failures;
// a real failure (EACCES, a name that no directory had) must still stand
// out. So the normalizer holds back an ENOENT ExecFailure, and the next
// typed event of the same process (node, pid) decides:
// - a successful exec of the same program name (last path component):
//   the held misses are dropped and counted in its
//   ProcessStart::path_search_attempts;
// - anything else of that process (another error, another name, any other
//   event): the held failures go on first, in order, then the event.
// Held failures also go on once kWindowMs passed after the latest of them
// (by the time of the events that follow, or Age's `now_ms`), and at Flush.
// A held failure is late, never lost.
//
// Bounded: at most kMaxProcesses processes hold misses (the longest held
// goes on to make room), each at most kMaxAttempts. Pure: time comes in as
// arguments; events of other processes pass untouched and in order. Not
// thread-safe: the normalizer's owner calls it.
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
  // Execvp tries the directories back to back (microseconds apart); an
  // exec that follows its misses by more than this is not their search.
  static constexpr int64_t kWindowMs = 500;
  static constexpr size_t kMaxProcesses = 64;
  static constexpr size_t kMaxAttempts = 64;

  // Takes the typed events (*out)[first, size) that one audit event at
  // `time_ms` gave and leaves in their place what goes on now: failures
  // released by them (or by time) first, then the events not held back.
  // `exec_name` is the last path component of the program a successful
  // exec among them asked for (its first PATH item); empty when none.
  void Apply(EventBatch* out, size_t first, std::string_view exec_name, int64_t time_ms);
  // Appends the failures held since before `now_ms` - kWindowMs.
  void Age(int64_t now_ms, EventBatch* out);
  // Appends every held failure (end of input).
  void Flush(EventBatch* out);

  // Failures held back now.
  size_t held() const;
  // Misses folded into a successful exec so far.
  uint64_t folded() const { return folded_; }

 private:
  struct Search {
    std::string node;
    int32_t pid = 0;
    std::string name;  // the program name tried
    int64_t last_ms = 0;
    std::vector<TypedEvent> misses;
  };

  // Whether Apply has anything to do for these events.
  bool Concerns(const EventBatch& out, size_t first, int64_t time_ms) const;
  Search* Find(const std::string& node, int32_t pid);
  // Moves search `index`'s misses to *out and forgets it.
  void Release(size_t index, EventBatch* out);
  void Place(TypedEvent&& event, std::string_view exec_name, EventBatch* out);

  std::vector<Search> searches_;  // few: linear scans
  int64_t oldest_ms_ = 0;         // min last_ms over searches_
  std::vector<TypedEvent> scratch_;
  uint64_t folded_ = 0;
};

// The last component of a path ("su" for "/usr/bin/su").
std::string_view LastPathComponent(std::string_view path);

}  // namespace recorder
