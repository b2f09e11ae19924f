// DestinationHostname for network_connection rules: the names DNS
// answers resolved to addresses, so that a connection to an address can
// be named by the query that produced it. The answer must be the
// connecting process's own and at most kProcessWindowMs old, or any
// process's (a local resolver cache, a browser's helper) at most
// kHostWindowMs old; the process's own answer wins, then the latest.
//
// Pure: times are passed in. `process` is any number that names a
// process instance to the caller (live: the instance's start time mixed
// with its pid; a hunt: the process_id). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "normalize/typed_event.h"

namespace recorder::signals {

class DnsNames {
 public:
  static constexpr int64_t kProcessWindowMs = int64_t{60} * 60 * 1000;
  static constexpr int64_t kHostWindowMs = int64_t{5} * 60 * 1000;
  // Answers kept per address (the latest) and addresses kept in all:
  // past the latter, addresses with no answer inside kProcessWindowMs
  // of the newest one go.
  static constexpr size_t kPerAddress = 32;
  static constexpr size_t kMaxAddresses = 100000;

  // `name` (the query) resolved to `address` at `time_ms` for `process`.
  void Add(std::string_view address, std::string_view name, int64_t time_ms, int64_t process);
  // Every A/AAAA answer of a DNS event.
  void AddEvent(const DnsEvent& dns, int64_t time_ms, int64_t process);
  // The name `address` had for `process` at `time_ms`; empty when none.
  // Valid until the next Add.
  std::string_view Lookup(std::string_view address, int64_t time_ms, int64_t process) const;

  size_t addresses() const { return by_address_.size(); }

 private:
  struct Answer {
    int64_t time_ms;
    int64_t process;
    std::string name;
  };
  void Prune();

  // Per address, in time order.
  std::unordered_map<std::string, std::vector<Answer>> by_address_;
  int64_t newest_ms_ = 0;
};

// The key DnsNames takes for a live event's process instance.
int64_t LiveProcessKey(const TypedEvent& event);

}  // namespace recorder::signals
