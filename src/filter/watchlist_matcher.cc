#include "filter/watchlist_matcher.h"

#include <algorithm>

namespace recorder::filter {
namespace {

constexpr uint32_t kAll = UINT32_MAX;

bool IsGlob(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

// Calls visit(prefix) for `path` and each of its ancestors, deepest first
// ("/a/b/c", "/a/b", "/a", "/"); stops when visit returns true.
template <typename Visit>
bool ForEachAncestor(std::string_view path, Visit&& visit) {
  if (path.empty() || path[0] != '/') return false;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::string_view current = path;
  while (true) {
    if (visit(current)) return true;
    if (current == "/") return false;
    const size_t slash = current.rfind('/');
    current = slash == 0 ? std::string_view("/") : current.substr(0, slash);
  }
}

}  // namespace

WatchlistMatcher::~WatchlistMatcher() = default;

Result<std::unique_ptr<WatchlistMatcher>> WatchlistMatcher::Compile(const Watchlist& watchlist) {
  std::unique_ptr<WatchlistMatcher> m(new WatchlistMatcher());
  m->excluded_globs_ = std::make_unique<FieldMatcher>(Field::kPath, FieldKind::kPath);
  auto add_exclusion = [&](const std::string& path, uint32_t entry) {
    if (IsGlob(path)) {
      Pattern p;
      p.op = Operator::kGlob;
      p.text = path;
      m->excluded_globs_->Add(p, entry);
    } else {
      m->excluded_[path].push_back(entry);
    }
  };
  for (const std::string& path : watchlist.exclude) add_exclusion(path, kAll);
  for (const WatchEntry& entry : watchlist.entries) {
    const auto index = static_cast<uint32_t>(m->paths_.size());
    m->paths_.push_back(entry.path);
    m->operations_.push_back(entry.operations);
    // A path listed twice: the later entry's operations and exclusions
    // join the earlier one's.
    auto it = m->watched_.find(entry.path);
    const uint32_t target = it == m->watched_.end() ? index : it->second.front();
    if (it == m->watched_.end())
      m->watched_[entry.path].push_back(index);
    else
      m->operations_[target] |= entry.operations;
    for (const std::string& path : entry.exclude) add_exclusion(path, target);
  }
  if (Status s = m->excluded_globs_->Finish(); !s.ok())
    return Status::Errorf("{}: {}", watchlist.file, s.message());
  return m;
}

int WatchlistMatcher::Entry(std::string_view path) const {
  int found = -1;
  ForEachAncestor(path, [&](std::string_view prefix) {
    auto it = watched_.find(prefix);
    if (it == watched_.end()) return false;
    found = static_cast<int>(it->second.front());
    return true;
  });
  return found;
}

bool WatchlistMatcher::Excluded(std::string_view path, int entry, MatchBuffers* buffers) const {
  auto applies = [&](uint32_t e) { return e == kAll || e == static_cast<uint32_t>(entry); };
  if (!excluded_.empty() && ForEachAncestor(path, [&](std::string_view prefix) {
        auto it = excluded_.find(prefix);
        return it != excluded_.end() && std::any_of(it->second.begin(), it->second.end(), applies);
      }))
    return true;
  bool excluded = false;
  excluded_globs_->MatchString(path, buffers, [&](uint32_t e) { excluded |= applies(e); });
  return excluded;
}

bool WatchlistMatcher::SelectsPath(std::string_view path, OperationMask operation,
                                   MatchBuffers* buffers) const {
  const int entry = Entry(path);
  if (entry < 0 || (operations_[static_cast<size_t>(entry)] & operation) == 0) return false;
  return !Excluded(path, entry, buffers);
}

bool WatchlistMatcher::Selects(const FileEvent& event, MatchBuffers* buffers) const {
  const auto operation = static_cast<OperationMask>(1u << static_cast<unsigned>(event.operation));
  return SelectsPath(event.path, operation, buffers) ||
         (!event.new_path.empty() && SelectsPath(event.new_path, operation, buffers));
}

}  // namespace recorder::filter
