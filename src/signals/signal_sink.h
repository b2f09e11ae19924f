// The signal stage as an EventSink decorator: matches each event against
// the compiled Sigma rules, records the matches on the event
// (TypedEvent::signals, which the store writes as signal_matches rows
// pointing at the event's row), optionally writes each match as a JSON
// line (--signals-out), counts them by level and by rule, and forwards
// every event. When a rule tests DestinationHostname, the DNS events it
// sees name the addresses of later connections (dns_names.h).
//
// Where it goes: after the filter stage and before the store,
//
//   EnrichingSink(next = FilteringSink(next = SignalSink(next = store)))
//
// so that the parent fields are answered by the process table (which
// has applied the batch) and only stored events are matched.
//
// Consume and Flush run on one thread; Replace and stats() may be called
// from any thread (a replacement takes effect at the next batch). An
// event no rule matches costs the matcher's scan and no allocation.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "filter/process_lineage.h"
#include "normalize/event_sink.h"
#include "signals/dns_names.h"
#include "signals/signal_matcher.h"

namespace recorder::signals {

// Matches of one rule since the sink was made (kept across reloads, by id).
struct RuleMatchCount {
  std::string rule_id;
  std::string title;
  Level level = Level::kMedium;
  uint64_t matches = 0;
};

struct SignalStats {
  std::array<uint64_t, kLevelCount> matches{};  // by Level
  uint64_t rules = 0;                           // loaded now
  std::vector<RuleMatchCount> by_rule;          // rules that matched, most matches first
  uint64_t total() const;
};

class SignalSink : public EventSink {
 public:
  // `next` and `lineage` are borrowed (lineage may be null); `matcher`
  // may be null (nothing matches). `json_out`, when not null, receives a
  // JSON line per match and is borrowed.
  SignalSink(EventSink* next, std::shared_ptr<const SignalMatcher> matcher,
             const filter::ProcessLineage* lineage, std::FILE* json_out = nullptr);

  Status Consume(EventBatch* events) override;
  Status Flush() override;

  void Replace(std::shared_ptr<const SignalMatcher> matcher);
  SignalStats stats() const;

 private:
  void Count(const SigmaRule& rule);

  EventSink* const next_;
  const filter::ProcessLineage* const lineage_;
  std::FILE* const json_out_;
  std::shared_ptr<const SignalMatcher> matcher_;  // the consuming thread's
  MatchState state_;
  DnsNames names_;
  std::vector<SignalMatch> matches_;

  mutable std::mutex pending_mutex_;
  std::shared_ptr<const SignalMatcher> pending_;  // GUARDED_BY(pending_mutex_)
  std::atomic<bool> has_pending_{false};
  std::array<std::atomic<uint64_t>, kLevelCount> counts_{};
  std::atomic<uint64_t> rules_{0};
  // Per rule id; touched only on a match, which is rare.
  mutable std::mutex by_rule_mutex_;
  std::map<std::string, RuleMatchCount, std::less<>> by_rule_;  // GUARDED_BY(by_rule_mutex_)
};

// The JSON line of one match (--signals-out): rule_id, title, level,
// author, selection and the whole event.
std::string MatchJson(const TypedEvent& event, const SignalHit& hit);

}  // namespace recorder::signals
