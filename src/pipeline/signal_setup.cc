#include "pipeline/signal_setup.h"

#include <fmt/format.h>

#include <filesystem>

namespace recorder {

Result<LoadedSignals> LoadSignals(const std::string& dir, bool substring_matching,
                                  bool missing_ok) {
  LoadedSignals out;
  std::vector<signals::SigmaRule> rules;
  std::error_code ec;
  if (!(missing_ok && !std::filesystem::exists(dir, ec))) {
    signals::LoadOptions options;
    options.substring_matching = substring_matching;
    Result<signals::LoadedRules> loaded = signals::LoadSigmaDirectory(dir, options);
    if (!loaded.ok()) return loaded.status();
    rules = std::move(loaded->rules);
    out.reports = std::move(loaded->reports);
  }
  for (const signals::RuleReport& r : out.reports)
    if (r.outcome != signals::Outcome::kLoaded)
      out.problems.push_back(
          fmt::format("{}: {}: {}", r.file, signals::OutcomeName(r.outcome), r.reason));
  for (const signals::SigmaRule& r : rules)
    out.rows.push_back(store::SignalRuleRow{
        r.id, r.title, std::string(LevelName(r.level)), r.author, r.status, r.description,
        std::string(LogSourceName(r.source)), r.file, r.condition_text});
  out.loaded = rules.size();
  Result<std::shared_ptr<const signals::SignalMatcher>> matcher =
      signals::SignalMatcher::Compile(std::move(rules));
  if (!matcher.ok())
    return Status::Errorf(matcher.status().code(), "signals in {}: {}", dir,
                          matcher.status().message());
  out.matcher = std::move(matcher).value();
  return out;
}

}  // namespace recorder
