#include "signals/signal_matcher.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace recorder::signals {
namespace {

// Marks the selections a node reaches without passing an odd number of
// `not`s: those that can be why a rule matched.
void MarkPositive(const ConditionNode& node, bool negated, std::vector<bool>* positive) {
  if (node.kind == ConditionNode::Kind::kNot) {
    for (const ConditionNode& child : node.children) MarkPositive(child, !negated, positive);
    return;
  }
  for (const ConditionNode& child : node.children) MarkPositive(child, negated, positive);
  if (!negated)
    for (uint32_t s : node.selections) (*positive)[s] = true;
}

// CompiledTest::rarity of `test`.
int32_t Rarity(const FieldTest& test) {
  size_t shortest = 1000;
  for (const ValueTest& value : test.values)
    if (value.op != ValueOp::kNull && value.op != ValueOp::kExists)
      shortest = std::min(shortest, value.text.size());
  switch (test.field.field) {
    case SignalField::kType:
    case SignalField::kSyscall:
    case SignalField::kSuccess:
    case SignalField::kKey:
      return static_cast<int32_t>(shortest) - 10000;
    default:
      return static_cast<int32_t>(shortest);
  }
}

// Whether `node` holds when no selection does.
bool HoldsWithNoSelection(const ConditionNode& node) {
  switch (node.kind) {
    case ConditionNode::Kind::kSelection:
    case ConditionNode::Kind::kOneOf:
      return false;
    case ConditionNode::Kind::kAllOf:
      return node.selections.empty();
    case ConditionNode::Kind::kAnd:
      return std::all_of(node.children.begin(), node.children.end(), HoldsWithNoSelection);
    case ConditionNode::Kind::kOr:
      return std::any_of(node.children.begin(), node.children.end(), HoldsWithNoSelection);
    case ConditionNode::Kind::kNot:
      return !HoldsWithNoSelection(node.children[0]);
  }
  return true;
}

}  // namespace

SignalMatcher::~SignalMatcher() = default;

uint32_t SignalMatcher::FieldIndex(const FieldRef& field, LogSource source) {
  const FieldRef ref = SameValuesAs(field);
  for (uint32_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].ref == ref) {
      fields_[i].sources |= Bit(source);
      return i;
    }
  }
  FieldSlot slot;
  slot.ref = ref;
  slot.sources = Bit(source);
  // The filter's matcher; its Field names nothing here (signal fields
  // are FieldRefs), and every Sigma value is text.
  slot.matcher =
      std::make_unique<filter::FieldMatcher>(filter::Field::kCmdline, filter::FieldKind::kString);
  fields_.push_back(std::move(slot));
  return static_cast<uint32_t>(fields_.size() - 1);
}

Result<std::shared_ptr<const SignalMatcher>> SignalMatcher::Compile(std::vector<SigmaRule> rules) {
  static std::atomic<uint64_t> next_id{1};
  std::shared_ptr<SignalMatcher> m(new SignalMatcher());
  m->id_ = next_id++;
  m->rules_ = std::move(rules);
  for (const SigmaRule& rule : m->rules_) {
    const auto rule_index = static_cast<uint32_t>(m->compiled_.size());
    CompiledRule compiled;
    m->selection_offset_.push_back(m->selections_);
    m->selections_ += rule.selections.size();
    for (const Selection& selection : rule.selections) {
      std::vector<Alternative> alternatives;
      for (const std::vector<FieldTest>& tests : selection.alternatives) {
        Alternative alternative;
        for (const FieldTest& test : tests) {
          CompiledTest out;
          out.field = m->FieldIndex(test.field, rule.source);
          out.all = test.all;
          out.rarity = Rarity(test);
          FieldSlot& slot = m->fields_[out.field];
          for (const ValueTest& value : test.values) {
            CompiledValue v{value.op, 0, value.flag};
            if (value.op != ValueOp::kNull && value.op != ValueOp::kExists) {
              filter::Pattern pattern;
              pattern.case_insensitive = value.op != ValueOp::kRegex;
              pattern.text = value.text;
              switch (value.op) {
                case ValueOp::kEquals:
                  pattern.op = filter::Operator::kEquals;
                  break;
                case ValueOp::kContains:
                  pattern.op = filter::Operator::kContains;
                  break;
                case ValueOp::kStartsWith:
                  pattern.op = filter::Operator::kStartsWith;
                  break;
                case ValueOp::kEndsWith:
                  pattern.op = filter::Operator::kEndsWith;
                  break;
                case ValueOp::kCidr:
                  pattern.op = filter::Operator::kCidr;
                  pattern.cidr = value.cidr;
                  slot.has_networks = true;
                  break;
                default:  // kWildcard, kRegex
                  pattern.op = filter::Operator::kRegex;
                  break;
              }
              v.atom = m->atoms_++;
              m->atom_rule_.push_back(kNoRule);  // its gates are picked below
              slot.matcher->Add(pattern, v.atom);
              slot.has_atoms = true;
            }
            out.values.push_back(v);
          }
          alternative.push_back(std::move(out));
        }
        alternatives.push_back(std::move(alternative));
      }
      compiled.selections.push_back(std::move(alternatives));
    }
    compiled.positive.assign(rule.selections.size(), false);
    MarkPositive(rule.condition, false, &compiled.positive);
    // A test whose values are all atoms holds only if one of them hit; an
    // alternative with such a test, likewise (its tests are ANDed).
    auto test_needs_hit = [](const CompiledTest& t) {
      return !t.values.empty() && std::all_of(t.values.begin(), t.values.end(), [](auto& v) {
        return v.op != ValueOp::kNull && v.op != ValueOp::kExists;
      });
    };
    // Each alternative's gate: of the tests it needs a hit in, the rarest.
    bool gated = !HoldsWithNoSelection(rule.condition);
    std::vector<const CompiledTest*> gates;
    for (const std::vector<Alternative>& alternatives : compiled.selections) {
      for (const Alternative& tests : alternatives) {
        const CompiledTest* gate = nullptr;
        for (const CompiledTest& t : tests)
          if (test_needs_hit(t) && (gate == nullptr || t.rarity > gate->rarity)) gate = &t;
        if (gate == nullptr) gated = false;
        gates.push_back(gate);
      }
    }
    if (gated)
      for (const CompiledTest* gate : gates)
        for (const CompiledValue& v : gate->values) m->atom_rule_[v.atom] = rule_index;
    if (!gated) m->ungated_rules_.push_back(rule_index);
    m->rule_sources_.push_back(Bit(rule.source));
    m->compiled_.push_back(std::move(compiled));
  }
  for (FieldSlot& slot : m->fields_) {
    Status status = slot.matcher->Finish();
    if (!status.ok()) return status;
  }
  return std::shared_ptr<const SignalMatcher>(std::move(m));
}

bool SignalMatcher::uses(SignalField field) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const FieldSlot& slot) { return slot.ref.field == field; });
}

bool SignalMatcher::needs_argv() const {
  return std::any_of(fields_.begin(), fields_.end(), [](const FieldSlot& slot) {
    switch (slot.ref.field) {
      case SignalField::kParentCommandLine:
        return true;
      case SignalField::kCommandLine:
      case SignalField::kProctitle:
      case SignalField::kKeywords:
        // A process_creation rule reads the exec's own argv.
        return (slot.sources & ~Bit(LogSource::kProcessCreation)) != 0;
      default:
        return false;
    }
  });
}

bool SignalMatcher::Test(const CompiledTest& test, const MatchState& state) const {
  for (const CompiledValue& v : test.values) {
    bool hit;
    if (v.op == ValueOp::kNull) {
      hit = !state.present[test.field];
    } else if (v.op == ValueOp::kExists) {
      hit = static_cast<bool>(state.present[test.field]) == v.flag;
    } else {
      hit = state.atom_hit[v.atom] == state.generation;
    }
    if (hit && !test.all) return true;
    if (!hit && test.all) return false;
  }
  return test.all;
}

bool SignalMatcher::Evaluate(const ConditionNode& node, const MatchState& state,
                             size_t first) const {
  switch (node.kind) {
    case ConditionNode::Kind::kSelection:
      return state.selection_true[first + node.selections[0]] != 0;
    case ConditionNode::Kind::kAnd:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const ConditionNode& c) { return Evaluate(c, state, first); });
    case ConditionNode::Kind::kOr:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const ConditionNode& c) { return Evaluate(c, state, first); });
    case ConditionNode::Kind::kNot:
      return !Evaluate(node.children[0], state, first);
    case ConditionNode::Kind::kOneOf:
      return std::any_of(node.selections.begin(), node.selections.end(),
                         [&](uint32_t s) { return state.selection_true[first + s] != 0; });
    case ConditionNode::Kind::kAllOf:
      return std::all_of(node.selections.begin(), node.selections.end(),
                         [&](uint32_t s) { return state.selection_true[first + s] != 0; });
  }
  return false;
}

namespace {
// Bounds of MatchState::value_hits: entries, and the bytes of their texts
// (4,096 command lines of 30 KB would be 120 MB). Likewise of each
// generation of MatchState::outcomes (an exec's inputs are ~0.5 KB).
constexpr size_t kCachedValues = 4096;
constexpr size_t kCachedTextBytes = size_t{4} << 20;
constexpr size_t kCachedOutcomes = 4096;
constexpr size_t kCachedOutcomeBytes = size_t{2} << 20;

// Appends to MatchState::input_bytes, growing it only past its largest
// size. The format (read back by MatchInputs): the event's sources; then,
// for each field of those sources in order, one byte (the field has a
// value) when no atom tests the field, else the count of its values and
// each value as its length and its bytes. Lengths and counts are uint32_t
// in the machine's order.
class InputWriter {
 public:
  explicit InputWriter(MatchState* state) : state_(state) { state_->input_size = 0; }
  void PutCount(uint32_t n) {
    std::memcpy(Reserve(sizeof n), &n, sizeof n);
    state_->input_size += sizeof n;
  }
  void PutByte(uint8_t b) {
    *Reserve(1) = static_cast<char>(b);
    ++state_->input_size;
  }
  void PutValues(const std::vector<std::string_view>& values) {
    size_t need = sizeof(uint32_t) * (1 + values.size());
    for (std::string_view v : values) need += v.size();
    char* at = Reserve(need);
    at = PutCountAt(at, static_cast<uint32_t>(values.size()));
    for (std::string_view v : values) {
      at = PutCountAt(at, static_cast<uint32_t>(v.size()));
      if (!v.empty()) std::memcpy(at, v.data(), v.size());  // an empty view's data may be null
      at += v.size();
    }
    state_->input_size += need;
  }

 private:
  static char* PutCountAt(char* at, uint32_t n) {
    std::memcpy(at, &n, sizeof n);
    return at + sizeof n;
  }
  // Room for n more bytes.
  char* Reserve(size_t n) {
    if (state_->input_size + n > state_->input_bytes.size()) Grow(n);
    return state_->input_bytes.data() + state_->input_size;
  }
  // Out of line, so that Reserve's common case is inlined.
  [[gnu::noinline]] void Grow(size_t n) {
    std::string& buffer = state_->input_bytes;
    buffer.resize(std::max(2 * buffer.size(), state_->input_size + n + 256));
  }
  MatchState* state_;
};

// Reads back what InputWriter wrote, field after field (starting past
// the sources).
class InputReader {
 public:
  explicit InputReader(std::string_view inputs) : at_(inputs.data()) { Count(); }
  uint32_t Count() {
    uint32_t n;
    std::memcpy(&n, at_, sizeof n);
    at_ += sizeof n;
    return n;
  }
  void SkipByte() { ++at_; }
  std::string_view Text() {
    const uint32_t n = Count();
    const std::string_view text(at_, n);
    at_ += n;
    return text;
  }

 private:
  const char* at_;
};

uint64_t HashText(std::string_view text) { return XXH3_64bits(text.data(), text.size()); }

// Remembers `outcome` under `key` in the newer generation; null when
// its inputs alone exceed the bound.
const CachedOutcome* RememberOutcome(uint64_t key, CachedOutcome outcome, MatchState* state) {
  if (outcome.inputs.size() > kCachedOutcomeBytes) return nullptr;
  if (state->outcomes.size() >= kCachedOutcomes ||
      state->outcomes_bytes + outcome.inputs.size() > kCachedOutcomeBytes) {
    state->older_outcomes = std::move(state->outcomes);
    state->outcomes.clear();
    state->outcomes_bytes = 0;
  }
  CachedOutcome& slot = state->outcomes[key];  // a hash shared by two inputs keeps the last
  state->outcomes_bytes += outcome.inputs.size();
  state->outcomes_bytes -= slot.inputs.size();
  slot = std::move(outcome);
  return &slot;
}

// The outcome remembered for `inputs` under `key`, or null. One found in
// the older generation moves to the newer.
const CachedOutcome* FindOutcome(uint64_t key, MatchState* state) {
  auto it = state->outcomes.find(key);
  if (it != state->outcomes.end())
    return it->second.inputs == state->inputs() ? &it->second : nullptr;
  auto old = state->older_outcomes.find(key);
  if (old == state->older_outcomes.end() || old->second.inputs != state->inputs()) return nullptr;
  CachedOutcome moved = std::move(old->second);
  state->older_outcomes.erase(old);
  return RememberOutcome(key, std::move(moved), state);
}

}  // namespace

void SignalMatcher::ReadInputs(const TypedEvent& event, const filter::ProcessLineage* lineage,
                               SourceMask sources, MatchState* state) const {
  state->present.assign(fields_.size(), 0);
  state->scratch.ForgetEvent();
  InputWriter inputs(state);
  inputs.PutCount(sources);
  for (size_t f = 0; f < fields_.size(); ++f) {
    const FieldSlot& slot = fields_[f];
    if ((slot.sources & sources) == 0) continue;
    state->values.clear();
    Values(slot.ref, event, lineage, &state->scratch, &state->values);
    state->present[f] = !state->values.empty();
    if (slot.has_atoms) {
      inputs.PutValues(state->values);
    } else {
      inputs.PutByte(state->present[f]);
    }
  }
}

void SignalMatcher::Match(const TypedEvent& event, const filter::ProcessLineage* lineage,
                          MatchState* state, std::vector<SignalMatch>* out) const {
  if (rules_.empty()) return;
  const SourceMask sources = SourcesOf(event);
  if (sources == 0) return;
  if (state->memos_of != id_) {
    state->value_hits.clear();
    state->value_hits_bytes = 0;
    state->outcomes.clear();
    state->older_outcomes.clear();
    state->outcomes_bytes = 0;
    state->memos_of = id_;
  }
  ReadInputs(event, lineage, sources, state);
  const uint64_t key = HashText(state->inputs());
  if (const CachedOutcome* seen = FindOutcome(key, state)) {
    ++state->outcomes_reused;
    out->insert(out->end(), seen->matches.begin(), seen->matches.end());
    return;
  }
  const size_t first = out->size();
  MatchInputs(sources, state, out);
  CachedOutcome outcome;
  outcome.inputs = state->inputs();
  outcome.matches.assign(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
  RememberOutcome(key, std::move(outcome), state);
}

void SignalMatcher::MatchInputs(SourceMask sources, MatchState* state,
                                std::vector<SignalMatch>* out) const {
  if (state->atom_hit.size() != atoms_) state->atom_hit.assign(atoms_, 0);
  if (state->rule_hit.size() != rules_.size()) state->rule_hit.assign(rules_.size(), 0);
  state->selection_true.resize(selections_);
  if (++state->generation == 0) {
    std::fill(state->atom_hit.begin(), state->atom_hit.end(), 0);
    std::fill(state->rule_hit.begin(), state->rule_hit.end(), 0);
    state->generation = 1;
  }
  const uint32_t generation = state->generation;
  state->candidates.clear();
  InputReader inputs(state->inputs());
  for (size_t f = 0; f < fields_.size(); ++f) {
    const FieldSlot& slot = fields_[f];
    if ((slot.sources & sources) == 0) continue;
    if (!slot.has_atoms) {
      inputs.SkipByte();
      continue;
    }
    auto hit = [&](uint32_t atom) {
      state->atom_hit[atom] = generation;
      const uint32_t rule = atom_rule_[atom];
      if (rule != kNoRule && state->rule_hit[rule] != generation) {
        state->rule_hit[rule] = generation;
        state->candidates.push_back(rule);
      }
    };
    for (uint32_t i = inputs.Count(); i > 0; --i) {
      const std::string_view value = inputs.Text();
      if (slot.has_networks) slot.matcher->MatchAddress(value, hit);
      // Every value's hits are remembered: hashing and comparing a value
      // costs a fraction of a scan by the automata or the RE2 set, short
      // ones too (an event whose inputs as a whole are new often has
      // values seen before: its process's command line, comm, syscall).
      const uint64_t key = HashText(value) ^ (uint64_t{f + 1} * 0x9E3779B97F4A7C15ULL);
      if ((state->value_hits.size() >= kCachedValues ||
           state->value_hits_bytes + value.size() > kCachedTextBytes) &&
          !state->value_hits.count(key)) {
        state->value_hits.clear();
        state->value_hits_bytes = 0;
      }
      CachedValueHits& cached = state->value_hits[key];
      if (cached.field == f && cached.text == value) {
        for (uint32_t atom : cached.atoms) hit(atom);
        continue;
      }
      state->value_hits_bytes += value.size() - cached.text.size();
      cached.field = static_cast<uint32_t>(f);
      cached.text.assign(value);
      cached.atoms.clear();
      slot.matcher->MatchString(value, &state->buffers, [&](uint32_t atom) {
        cached.atoms.push_back(atom);
        hit(atom);
      });
    }
  }
  // The rules to evaluate: those a gate of opened (most rules: none of
  // their values hit, nothing to evaluate), and those without gates, in
  // rule order, so matches come out in the order the rules were loaded.
  for (uint32_t r : ungated_rules_)
    if ((rule_sources_[r] & sources) != 0) state->candidates.push_back(r);
  std::sort(state->candidates.begin(), state->candidates.end());
  for (uint32_t r : state->candidates) {
    if ((rule_sources_[r] & sources) == 0) continue;
    const CompiledRule& rule = compiled_[r];
    const size_t first = selection_offset_[r];
    for (size_t s = 0; s < rule.selections.size(); ++s) {
      bool any = false;
      for (const Alternative& alternative : rule.selections[s]) {
        if (std::all_of(alternative.begin(), alternative.end(),
                        [&](const CompiledTest& t) { return Test(t, *state); })) {
          any = true;
          break;
        }
      }
      state->selection_true[first + s] = any;
    }
    if (!Evaluate(rules_[r].condition, *state, first)) continue;
    SignalMatch match;
    match.rule = r;
    for (size_t s = 0; s < rule.selections.size(); ++s) {
      if (!rule.positive[s] || !state->selection_true[first + s]) continue;
      if (!match.selection.empty()) match.selection += ',';
      match.selection += rules_[r].selections[s].name;
    }
    out->push_back(std::move(match));
  }
}

}  // namespace recorder::signals
