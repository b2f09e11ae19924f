#include "rules/recorder_rules.h"

#include <filesystem>

#include "config/filter_locations.h"
#include "filter/filter_loader.h"
#include "rules/rule_manager.h"

namespace recorder::rules {

RecorderRules RecorderRulesFor(const config::RecorderConfig& config,
                               const filter::CompiledFilters* filters) {
  if (filters == nullptr) return RecorderRules{DeriveRules(config), {}};
  PushdownOptions options;
  options.directory_exists = [](const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
  };
  FilteredRules derived = DeriveRulesWithFilters(config, filters->config(), options);
  return RecorderRules{std::move(derived.rules), std::move(derived.pushdown)};
}

Result<RecorderRules> LoadRecorderRules(const config::RecorderConfig& config) {
  Result<filter::LoadedFilters> loaded = filter::LoadFilters(config::FilterLocationsOf(config));
  if (!loaded.ok()) return loaded.status();
  return RecorderRulesFor(config, loaded->filters.get());
}

}  // namespace recorder::rules
