// Reading Sigma rules (YAML, parsed by libyaml: yaml_tree.h) into SigmaRule
// (sigma_rule.h). Every rule file gets a report: loaded, skipped (valid
// Sigma the recorder does not handle: a log source it does not record,
// an aggregation, an unknown field, an unsupported modifier) or malformed
// (not a Sigma rule: bad YAML, no title/detection/condition, a condition
// naming a missing selection, a bad regex or CIDR). Nothing is dropped
// without a report; docs/signals.md lists the subset.
//
// Pure but for LoadSigmaDirectory, which lists and reads the files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signals/sigma_rule.h"
#include "util/status.h"

namespace recorder::signals {

struct LoadOptions {
  // DisableSignalsTrie: rules that need contains / startswith / endswith
  // are skipped (the manual's "trie" is the substring automaton).
  bool substring_matching = true;
};

enum class Outcome : uint8_t { kLoaded, kSkipped, kMalformed };
std::string_view OutcomeName(Outcome outcome);

struct RuleReport {
  std::string file;
  std::string id;     // empty when the file could not be read that far
  std::string title;  // likewise
  Outcome outcome = Outcome::kMalformed;
  std::string reason;  // empty when loaded
};

struct LoadedRules {
  std::vector<SigmaRule> rules;
  std::vector<RuleReport> reports;  // one per file, in file order
  size_t count(Outcome outcome) const;
};

// One rule file's text. `file` names it in reports and is the rule's id
// when it has none. *rule is set when the report says loaded.
RuleReport LoadSigmaText(const std::string& file, std::string_view text, const LoadOptions& options,
                         std::optional<SigmaRule>* rule);

// Every *.yml / *.yaml file under `dir` (recursively, in path order). A
// later rule with an id already loaded is skipped. An error only when the
// directory cannot be listed.
Result<LoadedRules> LoadSigmaDirectory(const std::string& dir, const LoadOptions& options = {});

}  // namespace recorder::signals
