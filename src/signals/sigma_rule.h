// A Sigma detection rule as the recorder understands it, after loading
// (sigma_loader.h) and before compilation (signal_matcher.h): its log
// source, its selections (each a list of alternatives, each a set of
// field tests that must all hold) and its condition as a tree over the
// selections. Plain data. docs/signals.md describes the subset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter_rules.h"
#include "signals/sigma_fields.h"

namespace recorder::signals {

enum class Level : uint8_t { kInformational, kLow, kMedium, kHigh, kCritical };
inline constexpr size_t kLevelCount = 5;
std::string_view LevelName(Level level);

// How one value is tested against one field value.
enum class ValueOp : uint8_t {
  kEquals,      // whole value (case-insensitive)
  kContains,    // substring (case-insensitive)
  kStartsWith,  // (case-insensitive)
  kEndsWith,    // (case-insensitive)
  kWildcard,    // a Sigma value with inner `*`/`?`: an anchored RE2 regex in `text`
  kRegex,       // |re: RE2 syntax in `text`, unanchored, case-sensitive unless (?i)
  kCidr,        // |cidr
  kNull,        // `field: null`: the event has no (or an empty) value
  kExists,      // |exists: `flag` says whether the field must have a value
};

struct ValueTest {
  ValueOp op = ValueOp::kEquals;
  std::string text;  // as written for the substring family and equals; RE2 for the regexes
  filter::Cidr cidr;
  bool flag = false;  // kExists
};

// `Field|mod1|mod2: value(s)`, or a keyword list (field.field == kKeywords).
struct FieldTest {
  std::string name;  // as written, for messages
  FieldRef field;
  bool all = false;  // |all: every value must match, else any
  std::vector<ValueTest> values;
};

// A selection: matches when any alternative does; an alternative matches
// when all of its field tests do. A map is one alternative, a list of
// maps is several, a list of plain values is one keyword test.
struct Selection {
  std::string name;
  std::vector<std::vector<FieldTest>> alternatives;
};

// The condition: a tree over selection indices.
struct ConditionNode {
  enum class Kind : uint8_t { kSelection, kAnd, kOr, kNot, kOneOf, kAllOf };
  Kind kind = Kind::kSelection;
  std::vector<uint32_t> selections;     // kSelection: one; kOneOf/kAllOf: the group
  std::vector<ConditionNode> children;  // kAnd/kOr: two or more; kNot: one
};

struct SigmaRule {
  std::string file;  // where it was read from
  std::string id;    // the rule's `id`, else its file's base name
  std::string title;
  std::string author;  // shown with every match (the rules' licence asks for it)
  std::string description;
  std::string status;
  Level level = Level::kMedium;
  LogSource source = LogSource::kProcessCreation;
  std::string condition_text;
  std::vector<Selection> selections;
  ConditionNode condition;
};

}  // namespace recorder::signals
