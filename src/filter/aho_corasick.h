// Aho-Corasick over bytes: every occurrence of many literal patterns in
// one pass over the text, whatever the number of patterns. The substring
// family of filter operators (contains, starts with, ends with) of one
// field is one automaton per operator and case mode; starts-with and
// ends-with automata are anchored tries (walked from the first or from
// the last byte, stopping where no pattern continues), so their cost is
// the length of the longest common prefix, not of the text.
//
// A full DFA (no failure links at match time: one table load per byte)
// over byte classes: only the bytes that occur in some pattern get a
// column of their own, the rest share one, so a table for 1,000 path
// patterns has ~40 columns instead of 256. Table entries are row offsets
// with a flag bit for "some pattern ends here".
//
// Written here rather than taken from Hyperscan: Debian packages
// Hyperscan for amd64 only (the recorder also runs on arm64), and the
// fields scanned are short (paths, command lines), where a scan call's
// fixed cost matters more than bulk throughput.
//
// Immutable after Build; the scans are const and thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
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
  enum class Mode : uint8_t {
    kAnywhere,  // every occurrence (contains)
    kPrefix,    // occurrences that start at the text's first byte
    kSuffix,    // occurrences that end at the text's last byte
  };

  AhoCorasick() = default;

  // `fold_case`: ASCII letters match either case. An automaton whose
  // table would exceed `max_bytes` is an error (too many patterns).
  static Result<AhoCorasick> Build(const std::vector<PatternInput>& patterns, bool fold_case,
                                   Mode mode = Mode::kAnywhere, size_t max_bytes = 64u << 20);

  bool empty() const { return states_ == 0; }
  size_t states() const { return states_; }

  // Calls on_match(id, length, end) for every occurrence the mode asks
  // for; `end` is the offset one past the occurrence's last byte.
  template <typename OnMatch>
  void Scan(std::string_view text, OnMatch&& on_match) const {
    if (states_ == 0) return;
    const uint32_t* delta = delta_.data();
    uint32_t row = 0;  // state * classes_
    if (mode_ == Mode::kAnywhere) {
      for (size_t i = 0; i < text.size(); ++i) {
        if (row == 0) {
          // At the root, skip bytes that start no pattern without the
          // table's dependent loads (memchr when only one byte can).
          if (single_start_ >= 0) {
            const void* at = std::memchr(text.data() + i, single_start_, text.size() - i);
            if (at == nullptr) return;
            i = static_cast<size_t>(static_cast<const char*>(at) - text.data());
          } else {
            while (i < text.size() && !starts_[static_cast<uint8_t>(text[i])]) ++i;
            if (i == text.size()) return;
          }
        }
        row = delta[row + class_of_[static_cast<uint8_t>(text[i])]];
        if (row & kReports) {
          row &= ~kReports;
          Report(row / classes_, i + 1, on_match);
        }
      }
    } else if (mode_ == Mode::kPrefix) {
      for (size_t i = 0; i < text.size(); ++i) {
        row = delta[row + class_of_[static_cast<uint8_t>(text[i])]];
        if (row == kDead) return;
        if (row & kReports) {
          row &= ~kReports;
          Report(row / classes_, i + 1, on_match);
        }
      }
    } else {
      // Patterns were stored reversed: walk from the end.
      for (size_t i = text.size(); i-- > 0;) {
        row = delta[row + class_of_[static_cast<uint8_t>(text[i])]];
        if (row == kDead) return;
        if (row & kReports) {
          row &= ~kReports;
          Report(row / classes_, text.size(), on_match);
        }
      }
    }
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kDead = UINT32_MAX;            // anchored: no pattern continues
  static constexpr uint32_t kReports = uint32_t{1} << 31;  // the target state has outputs
  struct Output {
    uint32_t id;
    uint32_t length;
  };

  template <typename OnMatch>
  void Report(uint32_t state, size_t end, OnMatch& on_match) const {
    for (uint32_t t = first_output_[state]; t != kNone; t = next_output_[t])
      for (uint32_t o = out_begin_[t]; o < out_begin_[t + 1]; ++o)
        on_match(outputs_[o].id, outputs_[o].length, end);
  }

  Mode mode_ = Mode::kAnywhere;
  uint32_t classes_ = 1;
  size_t states_ = 0;
  uint8_t class_of_[256] = {};
  bool starts_[256] = {};            // bytes that begin some pattern (either case when folding)
  int single_start_ = -1;            // the only such byte, when there is one
  std::vector<uint32_t> delta_;      // states_ x classes_: target row | kReports
  std::vector<uint32_t> out_begin_;  // state -> its own outputs [out_begin_[s], out_begin_[s+1])
  std::vector<Output> outputs_;
  std::vector<uint32_t>
      first_output_;  // state -> itself if it has outputs, else nearest suffix that has
  std::vector<uint32_t> next_output_;  // state -> next proper suffix state with outputs
};

}  // namespace recorder::filter
