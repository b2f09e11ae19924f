// watchlist.json compiled: which file events the Integrity Monitor wants
// recorded whatever the other filters say. A path is selected when it is
// a watched path or under one, is not under an exclusion (of its entry or
// of the whole list), and the operation is one its entry records.
//
// Lookups walk the path's own ancestors through hash tables (one lookup
// per path component), so the cost does not grow with the list.
// Immutable after Compile; const calls are thread-safe given a
// MatchBuffers per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "filter/field_matcher.h"
#include "filter/filter_rules.h"
#include "normalize/typed_event.h"
#include "util/status.h"

namespace recorder::filter {

class WatchlistMatcher {
 public:
  static Result<std::unique_ptr<WatchlistMatcher>> Compile(const Watchlist& watchlist);
  ~WatchlistMatcher();

  // A file event the watchlist asks for: its path or new path selected,
  // for its operation.
  bool Selects(const FileEvent& event, MatchBuffers* buffers) const;
  bool SelectsPath(std::string_view path, OperationMask operation, MatchBuffers* buffers) const;

  // The watched paths (for the audit rules: they must be watched even
  // where watchedPaths would not).
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  WatchlistMatcher() = default;
  // Index of the deepest watched entry at or above `path`, or -1.
  int Entry(std::string_view path) const;
  bool Excluded(std::string_view path, int entry, MatchBuffers* buffers) const;

  std::vector<std::string> paths_;
  std::vector<OperationMask> operations_;  // per entry
  StringIndex watched_;                    // path -> {entry}
  StringIndex excluded_;                   // path -> entries it applies to (kAll = every one)
  std::unique_ptr<FieldMatcher> excluded_globs_;  // condition = entry, or kAll
  std::vector<uint32_t> glob_entry_;
};

}  // namespace recorder::filter
