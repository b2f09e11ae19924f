#include "normalize/path_search.h"

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

bool PathSearches::HasMiss(const EventBatch& out, size_t first) {
  for (size_t i = first; i < out.size(); ++i)
    if (Miss(out[i]) != nullptr) return true;
  return false;
}

void PathSearches::ApplyHeld(EventBatch* out, size_t first, std::string_view exec_name,
                             int64_t time_ms) {
  scratch_.clear();
  for (size_t i = first; i < out->size(); ++i) scratch_.push_back(std::move((*out)[i]));
  out->Truncate(first);
  Age(time_ms, out);
  for (TypedEvent& event : scratch_) Place(std::move(event), exec_name, out);
  scratch_.clear();
}

void PathSearches::Place(TypedEvent&& event, std::string_view exec_name, EventBatch* out) {
  const ExecFailure* miss = Miss(event);
  if (held_.empty() && miss == nullptr) {
    out->push_back(std::move(event));
    return;
  }
  if (held_.empty()) first_ms_ = event.header.time_ms;
  const size_t index = held_.size();
  Search* search = nullptr;
  for (Search& s : searches_)
    if (s.open && s.pid == event.subject.pid && s.node == event.header.node) search = &s;

  if (miss != nullptr) {
    const std::string_view name = LastPathComponent(miss->path);
    if (search == nullptr || search->name != name) {
      if (search != nullptr) {
        search->open = false;  // another name: its misses were failures
        --open_searches_;
      }
      search = &searches_.emplace_back();
      search->node = event.header.node;
      search->pid = event.subject.pid;
      search->name.assign(name);
      ++open_searches_;
    }
    search->misses.push_back(index);
    ++held_misses_;
  } else if (search != nullptr) {
    auto* start = std::get_if<ProcessStart>(&event.body);
    if (start != nullptr && event.header.success && !exec_name.empty() &&
        exec_name == search->name) {
      for (size_t m : search->misses) dropped_[m] = true;
      start->path_search_attempts += static_cast<int32_t>(search->misses.size());
      folded_ += search->misses.size();
    }
    search->open = false;
    --open_searches_;
  }
  held_.push_back(std::move(event));
  dropped_.push_back(false);
  if (open_searches_ == 0 || held_misses_ >= kMaxMisses || held_.size() - held_misses_ > kMaxOthers)
    Release(out);
}

void PathSearches::Release(EventBatch* out) {
  for (size_t i = 0; i < held_.size(); ++i)
    if (!dropped_[i]) out->push_back(std::move(held_[i]));
  held_.clear();
  dropped_.clear();
  searches_.clear();
  open_searches_ = 0;
  held_misses_ = 0;
}

void PathSearches::Age(int64_t now_ms, EventBatch* out) {
  if (!held_.empty() && now_ms - first_ms_ > kWindowMs) Release(out);
}

void PathSearches::Flush(EventBatch* out) {
  if (!held_.empty()) Release(out);
}

}  // namespace recorder
