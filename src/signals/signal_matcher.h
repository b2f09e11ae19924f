// Loaded Sigma rules compiled once for matching events. Every value test
// of every rule is an "atom" on one field; all atoms of a field are
// compiled together in one filter::FieldMatcher (the filters' own
// matcher: equals in a hash table, contains/startswith/endswith in
// case-insensitive Aho-Corasick automata, wildcards and |re in one RE2
// set, |cidr in prefix tables). An event's field values are read once and
// scanned once whatever the number of rules; then each rule of the
// event's log sources that an atom opened evaluates its condition over
// the atoms that hit. An event whose values repeat an earlier event's
// (MatchState::outcomes) skips the scans and the conditions.
//
// Immutable after Compile; Match is const and thread-safe given a
// MatchState per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "filter/field_matcher.h"
#include "filter/process_lineage.h"
#include "normalize/typed_event.h"
#include "signals/sigma_fields.h"
#include "signals/sigma_rule.h"
#include "util/status.h"

namespace recorder::signals {

struct SignalMatch {
  uint32_t rule = 0;      // index into SignalMatcher::rules()
  std::string selection;  // the selections that held and made the condition true, comma-separated
};

// The atoms one long value hit on one field, remembered (MatchState).
struct CachedValueHits {
  uint32_t field = UINT32_MAX;
  std::string text;
  std::vector<uint32_t> atoms;
};

// One event's inputs to matching and the matches they gave (MatchState).
struct CachedOutcome {
  std::string inputs;  // MatchState::inputs() of the event
  std::vector<SignalMatch> matches;
};

// Per-thread scratch for Match.
struct MatchState {
  filter::MatchBuffers buffers;
  ValueScratch scratch;
  std::vector<std::string_view> values;
  // This event's inputs to matching, written out: its log sources and,
  // field by field, how many values it has and (for fields some atom
  // tests) each value. Matches are a function of exactly these, so two
  // events with the same inputs match the same rules. Written at the
  // start of `input_bytes` (kept at its largest size so writing it
  // allocates nothing): inputs() is the part in use.
  std::string input_bytes;
  size_t input_size = 0;
  std::string_view inputs() const { return {input_bytes.data(), input_size}; }
  std::vector<uint32_t> atom_hit;    // == generation: the atom hit this event
  std::vector<uint32_t> rule_hit;    // == generation: a gate of the rule hit this event
  std::vector<uint32_t> candidates;  // the rules to evaluate for this event
  std::vector<uint8_t> present;      // per field: the event has a value
  std::vector<int8_t> selection_true;
  uint32_t generation = 0;
  // By a hash of the field and the text, the atoms a value hit: for an
  // event whose inputs as a whole are new (no outcome below), most of its
  // values were still seen before (a process's command line comes with
  // every event of the process; comm, syscall, type, key, users repeat),
  // and a lookup costs a fraction of a scan. Bounded in entries and in
  // bytes of text: emptied when full. A hash shared by two texts keeps
  // the last.
  std::unordered_map<uint64_t, CachedValueHits> value_hits;
  size_t value_hits_bytes = 0;  // the texts' sizes in value_hits
  // By a hash of the inputs: the outcome of events seen before. An
  // endpoint's events repeat (the same program run by the same parent in
  // the same directory, a daemon's periodic calls): such an event costs
  // reading its values and one lookup, not one lookup per value, the
  // atoms' hits and every opened rule's condition. Two generations, each
  // bounded in entries and bytes (signal_matcher.cc): when the newer
  // fills, it becomes the older and the older is dropped, so what keeps
  // recurring survives.
  std::unordered_map<uint64_t, CachedOutcome> outcomes, older_outcomes;
  size_t outcomes_bytes = 0;     // the inputs' sizes in `outcomes`
  uint64_t outcomes_reused = 0;  // events answered from `outcomes`
  // The matcher whose atoms and rules value_hits and outcomes hold
  // (SignalMatcher::id): a state that outlives a reload must not answer
  // the new rules with the old rules' atom numbers or matches.
  uint64_t memos_of = 0;
};

class SignalMatcher {
 public:
  ~SignalMatcher();
  // Errors only on an internal limit (automaton or regex-set size).
  static Result<std::shared_ptr<const SignalMatcher>> Compile(std::vector<SigmaRule> rules);

  const std::vector<SigmaRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }

  // Some loaded rule tests `field` (in any log source).
  bool uses(SignalField field) const;
  // Some loaded rule needs a command line that is not the event's own
  // exec's: ParentCommandLine, or the command line (CommandLine,
  // proctitle, keywords) of a file, network or auditd event's process.
  // Without one, the process table need not keep argv (the lineage's
  // ProcessFacts::argv may be null).
  bool needs_argv() const;
  // Some loaded rule tests DestinationHostname: the caller should set
  // MatchState::scratch.destination_hostname for outbound connections.
  bool needs_hostnames() const { return uses(SignalField::kDestinationHostname); }

  // Appends a SignalMatch per rule that matches `event`. `lineage` (may
  // be null) answers the parent fields and a process's command line.
  void Match(const TypedEvent& event, const filter::ProcessLineage* lineage, MatchState* state,
             std::vector<SignalMatch>* out) const;

 private:
  struct CompiledValue {
    ValueOp op;     // kNull, kExists, or an atom's op
    uint32_t atom;  // the atom, for ops the matcher answers
    bool flag;      // kExists
  };
  struct CompiledTest {
    uint32_t field;  // index into fields_
    bool all;
    // How seldom the test's values should hit, to pick an alternative's
    // gate: its shortest value's length, far lower on fields nearly every
    // event holds the same values of (type, SYSCALL, success, key).
    int32_t rarity = 0;
    std::vector<CompiledValue> values;
  };
  using Alternative = std::vector<CompiledTest>;
  struct CompiledRule {
    std::vector<std::vector<Alternative>> selections;
    std::vector<bool> positive;  // the selection counts towards "which selection matched"
  };
  struct FieldSlot {
    FieldRef ref;
    SourceMask sources = 0;  // of the rules that test it
    std::unique_ptr<filter::FieldMatcher> matcher;
    bool has_atoms = false;
    bool has_networks = false;  // some atom is a |cidr block
  };

  SignalMatcher() = default;
  uint32_t FieldIndex(const FieldRef& ref, LogSource source);
  // Fills state->inputs() and state->present.
  void ReadInputs(const TypedEvent& event, const filter::ProcessLineage* lineage,
                  SourceMask sources, MatchState* state) const;
  // Match on inputs ReadInputs read (no outcome remembered for them).
  void MatchInputs(SourceMask sources, MatchState* state, std::vector<SignalMatch>* out) const;
  bool Test(const CompiledTest& test, const MatchState& state) const;
  bool Evaluate(const ConditionNode& node, const MatchState& state, size_t first) const;

  std::vector<SigmaRule> rules_;
  std::vector<CompiledRule> compiled_;
  std::vector<FieldSlot> fields_;
  uint32_t atoms_ = 0;
  size_t selections_ = 0;                 // over all rules
  std::vector<size_t> selection_offset_;  // rule -> its first selection in MatchState
  // atom -> the rule it opens (a value of one of the rule's gates), or
  // kNoRule. A gate is one test per alternative, picked for its rarity,
  // that the alternative needs to hold.
  static constexpr uint32_t kNoRule = UINT32_MAX;
  std::vector<uint32_t> atom_rule_;
  // The rules that may match an event none of their gates hit (some
  // alternative has no gate, or the condition holds when no selection
  // does): evaluated on every event of their log source. Most rules have
  // gates: they cannot match without a hit.
  std::vector<uint32_t> ungated_rules_;
  std::vector<SourceMask> rule_sources_;  // rule -> Bit(its log source)
  uint64_t id_ = 0;                       // unique per Compile: whose value hits a MatchState holds
};

}  // namespace recorder::signals
