#include "signals/signal_sink.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "normalize/typed_event_json.h"

namespace recorder::signals {

uint64_t SignalStats::total() const {
  uint64_t sum = 0;
  for (uint64_t n : matches) sum += n;
  return sum;
}

SignalSink::SignalSink(EventSink* next, std::shared_ptr<const SignalMatcher> matcher,
                       const filter::ProcessLineage* lineage, std::FILE* json_out)
    : next_(next), lineage_(lineage), json_out_(json_out), matcher_(std::move(matcher)) {
  rules_ = matcher_ != nullptr ? matcher_->rules().size() : 0;
}

void SignalSink::Replace(std::shared_ptr<const SignalMatcher> matcher) {
  std::lock_guard<std::mutex> lock(pending_mutex_);
  rules_ = matcher != nullptr ? matcher->rules().size() : 0;
  pending_ = std::move(matcher);
  has_pending_ = true;
}

SignalStats SignalSink::stats() const {
  SignalStats stats;
  for (size_t i = 0; i < kLevelCount; ++i) stats.matches[i] = counts_[i].load();
  stats.rules = rules_.load();
  {
    std::lock_guard<std::mutex> lock(by_rule_mutex_);
    for (const auto& [id, count] : by_rule_) stats.by_rule.push_back(count);
  }
  std::stable_sort(
      stats.by_rule.begin(), stats.by_rule.end(),
      [](const RuleMatchCount& a, const RuleMatchCount& b) { return a.matches > b.matches; });
  return stats;
}

void SignalSink::Count(const SigmaRule& rule) {
  counts_[static_cast<size_t>(rule.level)].fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(by_rule_mutex_);
  auto it = by_rule_.find(rule.id);
  if (it == by_rule_.end())
    it = by_rule_.emplace(rule.id, RuleMatchCount{rule.id, rule.title, rule.level, 0}).first;
  ++it->second.matches;
}

std::string MatchJson(const TypedEvent& event, const SignalHit& hit) {
  nlohmann::json line = {{"rule_id", hit.rule_id},     {"title", hit.title},
                         {"level", hit.level},         {"author", hit.author},
                         {"selection", hit.selection}, {"event", ToJson(event)}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status SignalSink::Consume(EventBatch* events) {
  if (has_pending_.exchange(false)) {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    matcher_ = std::move(pending_);
  }
  if (matcher_ != nullptr && !matcher_->empty()) {
    bool wrote = false;
    const bool hostnames = matcher_->needs_hostnames();
    for (TypedEvent& event : *events) {
      matches_.clear();
      state_.scratch.destination_hostname = {};
      if (hostnames) {
        if (const auto* dns = std::get_if<DnsEvent>(&event.body)) {
          names_.AddEvent(*dns, event.header.time_ms, LiveProcessKey(event));
        } else if (const auto* net = std::get_if<NetworkEvent>(&event.body);
                   net != nullptr && net->direction == NetworkDirection::kOutbound) {
          state_.scratch.destination_hostname =
              names_.Lookup(net->remote_address, event.header.time_ms, LiveProcessKey(event));
        }
      }
      matcher_->Match(event, lineage_, &state_, &matches_);
      for (SignalMatch& match : matches_) {
        const SigmaRule& rule = matcher_->rules()[match.rule];
        event.signals.push_back(SignalHit{rule.id, rule.title, std::string(LevelName(rule.level)),
                                          rule.author, std::move(match.selection)});
        Count(rule);
        if (json_out_ != nullptr) {
          const std::string line = MatchJson(event, event.signals.back());
          std::fprintf(json_out_, "%s\n", line.c_str());
          wrote = true;
        }
      }
    }
    // A SIEM tailing the file sees a match when it happens, not at exit.
    if (wrote) std::fflush(json_out_);
  }
  return next_->Consume(events);
}

Status SignalSink::Flush() {
  if (json_out_ != nullptr) std::fflush(json_out_);
  return next_->Flush();
}

}  // namespace recorder::signals
