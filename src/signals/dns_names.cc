#include "signals/dns_names.h"

#include <algorithm>

namespace recorder::signals {
namespace {

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeAaaa = 28;

}  // namespace

void DnsNames::Add(std::string_view address, std::string_view name, int64_t time_ms,
                   int64_t process) {
  if (address.empty() || name.empty()) return;
  auto [it, added] = by_address_.try_emplace(std::string(address));
  std::vector<Answer>& answers = it->second;
  // Mostly in time order; a late one is put in its place.
  auto at = std::upper_bound(answers.begin(), answers.end(), time_ms,
                             [](int64_t t, const Answer& a) { return t < a.time_ms; });
  answers.insert(at, Answer{time_ms, process, std::string(name)});
  if (answers.size() > kPerAddress) answers.erase(answers.begin());
  newest_ms_ = std::max(newest_ms_, time_ms);
  if (added && by_address_.size() > kMaxAddresses) Prune();
}

void DnsNames::AddEvent(const DnsEvent& dns, int64_t time_ms, int64_t process) {
  if (!dns.response_seen) return;
  for (const DnsAnswerRecord& answer : dns.answers) {
    if (answer.type != kTypeA && answer.type != kTypeAaaa) continue;
    // The name the program asked for, not the CNAME target the address
    // record carries: that is what the program connected to.
    Add(answer.data, dns.query, time_ms, process);
  }
}

void DnsNames::Prune() {
  const int64_t horizon = newest_ms_ - kProcessWindowMs;
  for (auto it = by_address_.begin(); it != by_address_.end();) {
    if (it->second.empty() || it->second.back().time_ms < horizon) {
      it = by_address_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string_view DnsNames::Lookup(std::string_view address, int64_t time_ms,
                                  int64_t process) const {
  if (address.empty() || by_address_.empty()) return {};
  auto it = by_address_.find(std::string(address));
  if (it == by_address_.end()) return {};
  const std::vector<Answer>& answers = it->second;
  auto end = std::upper_bound(answers.begin(), answers.end(), time_ms,
                              [](int64_t t, const Answer& a) { return t < a.time_ms; });
  const Answer* host_wide = nullptr;
  for (auto a = end; a != answers.begin();) {
    --a;
    const int64_t age = time_ms - a->time_ms;
    if (age > kProcessWindowMs) break;
    if (a->process == process) return a->name;
    if (host_wide == nullptr && age <= kHostWindowMs) host_wide = &*a;
  }
  return host_wide != nullptr ? std::string_view(host_wide->name) : std::string_view();
}

int64_t LiveProcessKey(const TypedEvent& event) {
  // The pid alone would join a reused pid's answers to a new process; the
  // start time makes it the instance.
  return (event.enrichment.process_start_ms << 22) ^ event.subject.pid;
}

}  // namespace recorder::signals
