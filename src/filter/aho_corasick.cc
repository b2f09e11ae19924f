#include "filter/aho_corasick.h"

#include <algorithm>
#include <deque>

namespace recorder::filter {
namespace {

uint8_t Fold(uint8_t c, bool fold_case) {
  return fold_case && c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c - 'A' + 'a') : c;
}

}  // namespace

Result<AhoCorasick> AhoCorasick::Build(const std::vector<PatternInput>& patterns, bool fold_case,
                                       Mode mode, size_t max_bytes) {
  AhoCorasick ac;
  ac.mode_ = mode;
  if (patterns.empty()) return ac;

  // Byte classes: 0 for bytes in no pattern, one class per byte that is
  // (with both cases of a letter sharing one when folding).
  bool used[256] = {};
  for (const PatternInput& p : patterns) {
    if (p.text.empty()) return Status::Error("empty pattern in a substring automaton");
    for (char c : p.text) used[Fold(static_cast<uint8_t>(c), fold_case)] = true;
  }
  uint32_t classes = 1;
  for (int c = 0; c < 256; ++c)
    if (used[c]) ac.class_of_[c] = static_cast<uint8_t>(classes++);
  if (fold_case)
    for (int c = 'A'; c <= 'Z'; ++c) ac.class_of_[c] = ac.class_of_[c - 'A' + 'a'];
  ac.classes_ = classes;
  int distinct_starts = 0;
  for (const PatternInput& p : patterns) {
    const auto first = static_cast<uint8_t>(p.text[0]);
    for (int c = 0; c < 256; ++c) {
      if (ac.starts_[c] || Fold(static_cast<uint8_t>(c), fold_case) != Fold(first, fold_case))
        continue;
      ac.starts_[c] = true;
      ++distinct_starts;
      ac.single_start_ = c;
    }
  }
  if (distinct_starts != 1) ac.single_start_ = -1;

  size_t total_length = 1;
  for (const PatternInput& p : patterns) total_length += p.text.size();
  if (total_length * classes * sizeof(uint32_t) > max_bytes * 2 ||
      total_length * classes >= (size_t{1} << 31))
    return Status::Errorf("{} substring patterns ({} bytes) are too many for one field's automaton",
                          patterns.size(), total_length);

  // The trie, in the table itself (kNone = no child yet).
  std::vector<uint32_t>& delta = ac.delta_;
  delta.assign(classes, kNone);
  std::vector<std::vector<Output>> own(1);
  for (const PatternInput& p : patterns) {
    std::string text = p.text;
    if (mode == Mode::kSuffix) std::reverse(text.begin(), text.end());
    uint32_t state = 0;
    for (char c : text) {
      const size_t slot = state * classes + ac.class_of_[static_cast<uint8_t>(c)];
      if (delta[slot] == kNone) {
        delta[slot] = static_cast<uint32_t>(own.size());
        own.emplace_back();
        delta.resize(delta.size() + classes, kNone);
      }
      state = delta[slot];
    }
    own[state].push_back(Output{p.id, static_cast<uint32_t>(p.text.size())});
  }
  const size_t states = own.size();
  if (states * classes * sizeof(uint32_t) > max_bytes)
    return Status::Errorf(
        "{} substring patterns need a {} MiB automaton for one field (the limit is {} MiB)",
        patterns.size(), states * classes * sizeof(uint32_t) >> 20, max_bytes >> 20);

  ac.first_output_.assign(states, kNone);
  ac.next_output_.assign(states, kNone);
  if (mode != Mode::kAnywhere) {
    // Anchored: a missing transition ends the walk; outputs are the
    // state's own (no suffix of an anchored path is another match).
    for (size_t s = 0; s < states; ++s)
      if (!own[s].empty()) ac.first_output_[s] = static_cast<uint32_t>(s);
  } else {
    // Breadth first: failure links, and missing transitions filled from
    // the failure state's (already complete) row.
    std::vector<uint32_t> fail(states, 0);
    std::deque<uint32_t> queue;
    for (uint32_t c = 0; c < classes; ++c) {
      uint32_t& next = delta[c];
      if (next == kNone) {
        next = 0;
      } else {
        queue.push_back(next);
      }
    }
    while (!queue.empty()) {
      const uint32_t s = queue.front();
      queue.pop_front();
      // Suffix chain of outputs: the failure state if it reports, else its chain.
      const uint32_t f = fail[s];
      ac.next_output_[s] = !own[f].empty() ? f : ac.next_output_[f];  // the root has none
      ac.first_output_[s] = !own[s].empty() ? s : ac.next_output_[s];
      for (uint32_t c = 0; c < classes; ++c) {
        uint32_t& next = delta[s * classes + c];
        if (next == kNone) {
          next = delta[f * classes + c];
        } else {
          fail[next] = delta[f * classes + c];
          queue.push_back(next);
        }
      }
    }
  }
  // State numbers -> row offsets, with the flag for states that report.
  for (uint32_t& target : delta) {
    if (target == kNone) {
      target = kDead;
      continue;
    }
    const uint32_t reports = ac.first_output_[target] != kNone ? kReports : 0;
    target = target * classes | reports;
  }

  ac.out_begin_.resize(states + 1);
  for (size_t s = 0; s < states; ++s) {
    ac.out_begin_[s] = static_cast<uint32_t>(ac.outputs_.size());
    ac.outputs_.insert(ac.outputs_.end(), own[s].begin(), own[s].end());
  }
  ac.out_begin_[states] = static_cast<uint32_t>(ac.outputs_.size());
  ac.states_ = states;
  return ac;
}

}  // namespace recorder::filter
