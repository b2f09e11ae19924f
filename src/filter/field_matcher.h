// All the patterns of one field of one event type, compiled together:
// a hash lookup for equals, one Aho-Corasick automaton per case mode for
// contains / starts with / ends with, one RE2::Set for globs and regexes,
// segment tables for numbers, prefix tables for CIDR blocks. A value is
// examined once whatever the number of rules; each matching pattern
// reports its condition id.
//
// Immutable after Finish(); the Match* calls are const and thread-safe
// given a MatchBuffers per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "filter/aho_corasick.h"
#include "filter/filter_rules.h"
#include "util/status.h"
#include "util/string_map.h"

namespace recorder::filter {

struct RegexSet;  // RE2::Set and the same regexes one by one (field_matcher.cc)

// Per-thread scratch the matchers write into instead of allocating.
struct MatchBuffers {
  std::string lower;
  std::vector<int> regex_hits;
};

using StringIndex = StringMap<std::vector<uint32_t>>;

class FieldMatcher {
 public:
  FieldMatcher(Field field, FieldKind kind);
  ~FieldMatcher();
  FieldMatcher(FieldMatcher&&) noexcept;
  FieldMatcher& operator=(FieldMatcher&&) noexcept;

  Field field() const { return field_; }
  FieldKind kind() const { return kind_; }
  // Some pattern is a wildcard or a regex: a string is also run through
  // the RE2 set (the dearest part of a match).
  bool has_regexes() const { return regex_set_ != nullptr; }

  // Adds one pattern for condition `condition`. Patterns were validated
  // by the parser; an error here is an internal limit (automaton size).
  void Add(const Pattern& pattern, uint32_t condition);
  Status Finish();

  // Each calls hit(condition) for every pattern the value matches (a
  // condition may be reported more than once).
  template <typename Hit>
  void MatchString(std::string_view value, MatchBuffers* buffers, Hit&& hit) const;
  template <typename Hit>
  void MatchInteger(int64_t value, Hit&& hit) const;
  template <typename Hit>
  void MatchAddress(std::string_view text, Hit&& hit) const;
  template <typename Hit>
  void MatchBool(bool value, Hit&& hit) const {
    for (uint32_t c : value ? bool_true_ : bool_false_) hit(c);
  }

 private:
  struct NetKey {
    std::array<uint8_t, 16> bytes;
    uint8_t prefix;
    bool v6;
    bool operator==(const NetKey&) const = default;
  };
  struct NetKeyHash {
    size_t operator()(const NetKey& k) const;
  };

  // Fills buffers->regex_hits; false when no regex matches.
  bool RegexHits(std::string_view value, MatchBuffers* buffers) const;

  Field field_;
  FieldKind kind_;

  // Strings.
  StringIndex equals_;     // case-sensitive
  StringIndex equals_ci_;  // keys lower-case
  // [n]: some equals key is n bytes long. A value of no such length (a
  // command line against "/bin/sh") is neither copied to lower case nor
  // hashed.
  std::vector<uint8_t> equals_length_;
  // [contains, starts with, ends with][case-insensitive]
  std::vector<AhoCorasick::PatternInput> pending_[3][2];
  AhoCorasick substrings_[3][2];
  std::vector<uint32_t> literal_condition_;  // automaton output id -> condition
  std::vector<std::string> regex_sources_;
  std::vector<uint32_t> regex_condition_;  // set index -> condition
  std::unique_ptr<RegexSet> regex_set_;
  // When every glob and regex is anchored with a literal start ("/home/*"
  // starts with "/home/"), a value that starts with none of those skips
  // the set: [case-insensitive].
  std::vector<AhoCorasick::PatternInput> regex_prefixes_[2];
  AhoCorasick regex_prefilter_[2];
  bool regex_prefilter_usable_ = true;

  // Integers: [starts_[i], starts_[i+1]) -> segment_conditions_[i].
  std::vector<std::array<int64_t, 3>> ranges_;  // lo, hi, condition (until Finish)
  std::vector<int64_t> starts_;
  std::vector<std::vector<uint32_t>> segment_conditions_;

  // Addresses: distinct prefix lengths, longest first, per family.
  std::vector<uint8_t> prefixes_[2];  // [v6]
  std::unordered_map<NetKey, std::vector<uint32_t>, NetKeyHash> nets_;

  // Booleans.
  std::vector<uint32_t> bool_true_, bool_false_;
};

// --- Template bodies.

template <typename Hit>
void FieldMatcher::MatchString(std::string_view value, MatchBuffers* buffers, Hit&& hit) const {
  const bool equals_length = value.size() < equals_length_.size() && equals_length_[value.size()];
  if (equals_length && !equals_.empty()) {
    auto it = equals_.find(value);
    if (it != equals_.end())
      for (uint32_t c : it->second) hit(c);
  }
  if (equals_length && !equals_ci_.empty()) {
    std::string& lower = buffers->lower;
    lower.assign(value);
    for (char& ch : lower)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    auto it = equals_ci_.find(std::string_view(lower));
    if (it != equals_ci_.end())
      for (uint32_t c : it->second) hit(c);
  }
  for (const auto& by_case : substrings_)
    for (const AhoCorasick& ac : by_case)
      ac.Scan(value, [&](uint32_t id, uint32_t, size_t) { hit(literal_condition_[id]); });
  if (regex_set_ != nullptr && RegexHits(value, buffers))
    for (int i : buffers->regex_hits) hit(regex_condition_[static_cast<size_t>(i)]);
}

template <typename Hit>
void FieldMatcher::MatchInteger(int64_t value, Hit&& hit) const {
  if (starts_.empty() || value < starts_.front()) return;
  size_t lo = 0, hi = starts_.size();  // last start <= value
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    (starts_[mid] <= value ? lo : hi) = mid;
  }
  for (uint32_t c : segment_conditions_[lo]) hit(c);
}

bool ParseAddress(std::string_view text, std::array<uint8_t, 16>* bytes, bool* v6);

template <typename Hit>
void FieldMatcher::MatchAddress(std::string_view text, Hit&& hit) const {
  if (nets_.empty() || text.empty()) return;
  NetKey key{};
  if (!ParseAddress(text, &key.bytes, &key.v6)) return;
  const std::array<uint8_t, 16> address = key.bytes;
  for (uint8_t prefix : prefixes_[key.v6]) {
    key.bytes = address;
    const int width = key.v6 ? 16 : 4;
    for (int i = 0; i < width; ++i) {
      const int keep = prefix - i * 8;
      if (keep >= 8) continue;
      key.bytes[i] &= static_cast<uint8_t>(keep <= 0 ? 0 : 0xff << (8 - keep));
    }
    key.prefix = prefix;
    auto it = nets_.find(key);
    if (it != nets_.end())
      for (uint32_t c : it->second) hit(c);
  }
}

}  // namespace recorder::filter
