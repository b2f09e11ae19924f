// Aho-Corasick over bytes: every occurrence of many literal patterns in
// one pass over the text, whatever the number of patterns. The substring
// family of filter operators (contains, starts with, ends with) of one
// field is one automaton; the caller checks the anchoring from the
// match's end offset and length.
//
// A full DFA (no failure links at match time: one table load per byte)
// over byte classes: only the bytes that occur in some pattern get a
// column of their own, the rest share one, so a table for 1,000 path
// patterns has ~40 columns instead of 256.
//
// Written here rather than taken from Hyperscan: Debian packages
// Hyperscan for amd64 only (the recorder also runs on arm64), and the
// fields scanned are short (paths, command lines), where a scan call's
// fixed cost matters more than bulk throughput.
//
// Immutable after Build; Scan is const and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace recorder::filter {

class AhoCorasick {
 public:
  struct PatternInput {
    std::string text;  // not empty
    uint32_t id;
  };

  AhoCorasick() = default;

  // `fold_case`: ASCII letters match either case. An automaton whose
  // table would exceed `max_bytes` is an error (too many patterns).
  static Result<AhoCorasick> Build(const std::vector<PatternInput>& patterns, bool fold_case,
                                   size_t max_bytes = 64u << 20);

  bool empty() const { return states_ == 0; }
  size_t states() const { return states_; }
  size_t table_bytes() const { return delta_.size() * sizeof(uint32_t); }

  // Calls on_match(id, length, end) for every occurrence of every pattern
  // in `text`; `end` is the offset one past the occurrence's last byte.
  template <typename OnMatch>
  void Scan(std::string_view text, OnMatch&& on_match) const {
    if (states_ == 0) return;
    uint32_t state = 0;
    const uint32_t* delta = delta_.data();
    for (size_t i = 0; i < text.size(); ++i) {
      state = delta[state * classes_ + class_of_[static_cast<uint8_t>(text[i])]];
      for (uint32_t t = first_output_[state]; t != kNone; t = next_output_[t])
        for (uint32_t o = out_begin_[t]; o < out_begin_[t + 1]; ++o)
          on_match(outputs_[o].id, outputs_[o].length, i + 1);
    }
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Output {
    uint32_t id;
    uint32_t length;
  };

  uint32_t classes_ = 0;
  size_t states_ = 0;
  uint8_t class_of_[256] = {};
  std::vector<uint32_t> delta_;         // states_ x classes_
  std::vector<uint32_t> out_begin_;     // state -> its own outputs [out_begin_[s], out_begin_[s+1])
  std::vector<Output> outputs_;
  std::vector<uint32_t> first_output_;  // state -> itself if it has outputs, else nearest suffix that has
  std::vector<uint32_t> next_output_;   // state -> next proper suffix state with outputs
};

}  // namespace recorder::filter
