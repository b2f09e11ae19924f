#include "normalize/path_search.h"

#include <algorithm>
#include <utility>

#include "normalize/event_codes.h"

namespace recorder {
namespace {

// An ENOENT exec of a named program: a possible PATH search miss.
const ExecFailure* Miss(const TypedEvent& event) {
  const auto* failure = std::get_if<ExecFailure>(&event.body);
  if (failure == nullptr || failure->error != kEnoent) return nullptr;
  return LastPathComponent(failure->path).empty() ? nullptr : failure;
}

}  // namespace

std::string_view LastPathComponent(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

size_t PathSearches::held() const {
  size_t count = 0;
  for (const Search& s : searches_) count += s.misses.size();
  return count;
}

bool PathSearches::Concerns(const EventBatch& out, size_t first, int64_t time_ms) const {
  if (!searches_.empty() && time_ms - oldest_ms_ > kWindowMs) return true;
  for (size_t i = first; i < out.size(); ++i) {
    const TypedEvent& e = out[i];
    if (Miss(e) != nullptr) return true;
    for (const Search& s : searches_)
      if (s.pid == e.subject.pid && s.node == e.header.node) return true;
  }
  return false;
}

PathSearches::Search* PathSearches::Find(const std::string& node, int32_t pid) {
  for (Search& s : searches_)
    if (s.pid == pid && s.node == node) return &s;
  return nullptr;
}

void PathSearches::Release(size_t index, EventBatch* out) {
  for (TypedEvent& miss : searches_[index].misses) out->push_back(std::move(miss));
  searches_.erase(searches_.begin() + static_cast<std::ptrdiff_t>(index));
  oldest_ms_ = 0;
  if (!searches_.empty()) {
    oldest_ms_ = searches_.front().last_ms;
    for (const Search& s : searches_) oldest_ms_ = std::min(oldest_ms_, s.last_ms);
  }
}

void PathSearches::Place(TypedEvent&& event, std::string_view exec_name, EventBatch* out) {
  Search* search = Find(event.header.node, event.subject.pid);
  if (const ExecFailure* miss = Miss(event)) {
    const std::string_view name = LastPathComponent(miss->path);
    if (search != nullptr && search->name == name && search->misses.size() < kMaxAttempts) {
      search->last_ms = std::max(search->last_ms, event.header.time_ms);
      search->misses.push_back(std::move(event));
      return;
    }
    if (search != nullptr) Release(static_cast<size_t>(search - searches_.data()), out);
    if (searches_.size() >= kMaxProcesses) {
      auto oldest = std::min_element(
          searches_.begin(), searches_.end(),
          [](const Search& a, const Search& b) { return a.last_ms < b.last_ms; });
      Release(static_cast<size_t>(oldest - searches_.begin()), out);
    }
    Search& added = searches_.emplace_back();
    added.node = event.header.node;
    added.pid = event.subject.pid;
    added.name.assign(name);
    added.last_ms = event.header.time_ms;
    added.misses.push_back(std::move(event));
    oldest_ms_ = searches_.size() == 1 ? added.last_ms : std::min(oldest_ms_, added.last_ms);
    return;
  }
  if (search != nullptr) {
    auto* start = std::get_if<ProcessStart>(&event.body);
    const auto index = static_cast<size_t>(search - searches_.data());
    if (start != nullptr && event.header.success && !exec_name.empty() &&
        exec_name == search->name) {
      const size_t misses = search->misses.size();
      start->path_search_attempts += static_cast<int32_t>(misses);
      folded_ += misses;
      search->misses.clear();  // dropped: Release moves nothing
      Release(index, out);
    } else {
      Release(index, out);
    }
  }
  out->push_back(std::move(event));
}

void PathSearches::Apply(EventBatch* out, size_t first, std::string_view exec_name,
                         int64_t time_ms) {
  if (!Concerns(*out, first, time_ms)) return;
  scratch_.clear();
  for (size_t i = first; i < out->size(); ++i) scratch_.push_back(std::move((*out)[i]));
  out->Truncate(first);
  Age(time_ms, out);
  for (TypedEvent& event : scratch_) Place(std::move(event), exec_name, out);
  scratch_.clear();
}

void PathSearches::Age(int64_t now_ms, EventBatch* out) {
  while (!searches_.empty() && now_ms - oldest_ms_ > kWindowMs) {
    for (size_t i = 0; i < searches_.size(); ++i) {
      if (searches_[i].last_ms == oldest_ms_) {
        Release(i, out);
        break;
      }
    }
  }
}

void PathSearches::Flush(EventBatch* out) {
  while (!searches_.empty()) Release(0, out);
}

}  // namespace recorder
