// `recorder config check` and `recorder config show`: the configuration
// directory's recorder*.json, filter files and watchlist.json validated
// and shown as the recorder would use them, without recording.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "config/config_describe.h"
#include "config/filter_locations.h"
#include "filter/filter_describe.h"
#include "filter/filter_loader.h"
#include "rules/filter_pushdown.h"
#include "rules/recorder_rules.h"

namespace recorder::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kExitInvalid = 1;

struct ConfigOptions {
  std::string config_dir = ".";
  bool json = false;
};

struct Effective {
  config::LoadedConfig config;
  filter::LoadedFilters filters;
  std::vector<rules::RuleSpec> audit_rules;
  rules::PushdownPlan pushdown;
};

// Loads everything; prints errors (and, unless quiet, warnings) to stderr.
bool Load(const ConfigOptions& options, Effective* out, bool print_warnings) {
  Result<config::LoadedConfig> loaded = config::LoadConfig(options.config_dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
    return false;
  }
  out->config = std::move(loaded).value();
  Result<filter::LoadedFilters> filters =
      filter::LoadFilters(config::FilterLocationsOf(out->config.config));
  if (print_warnings) {
    for (const std::string& w : out->config.warnings)
      std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (filters.ok())
      for (const std::string& w : filters->warnings)
        std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
  if (!filters.ok()) {
    std::fprintf(stderr, "error: %s\n", filters.status().message().c_str());
    return false;
  }
  out->filters = std::move(filters).value();
  // The audit rules live recording would install.
  rules::RecorderRules filtered =
      rules::RecorderRulesFor(out->config.config, out->filters.filters.get());
  out->pushdown = std::move(filtered.pushdown);
  out->audit_rules = std::move(filtered.rules);
  return true;
}

size_t RuleCount(const filter::FilterConfig& fc) {
  size_t n = 0;
  for (const filter::ProductFilters& p : fc.products)
    for (const filter::TypeRules& t : p.types) n += t.include.size() + t.exclude.size();
  return n;
}

int RunCheck(const ConfigOptions& options) {
  Effective e;
  if (!Load(options, &e, true)) return kExitInvalid;
  const filter::FilterConfig& fc = e.filters.filters->config();
  std::vector<std::string> files = e.config.files;
  files.insert(files.end(), e.filters.files.begin(), e.filters.files.end());
  std::string names;
  for (const std::string& f : files) names += (names.empty() ? "" : ", ") + f;
  size_t pushed = 0;
  for (const rules::PushdownNote& note : e.pushdown.notes) pushed += note.pushed;
  std::printf(
      "configuration OK: %zu file(s)%s%s; %zu filter rule(s), %zu pushed down to the kernel "
      "(%zu audit rule(s)); %zu watched path(s)\n",
      files.size(), files.empty() ? "" : ": ", names.c_str(), RuleCount(fc), pushed,
      e.pushdown.rules.size(), fc.watchlist ? fc.watchlist->entries.size() : size_t{0});
  return 0;
}

int RunShow(const ConfigOptions& options) {
  Effective e;
  if (!Load(options, &e, !options.json)) return kExitInvalid;
  const std::vector<config::SettingLine> settings = config::DescribeConfig(e.config);
  const filter::FilterConfig& fc = e.filters.filters->config();
  if (options.json) {
    json out;
    out["config_dir"] = e.config.config.config_dir;
    out["files"] = e.config.files;
    out["filter_files"] = e.filters.files;
    json warnings = e.config.warnings;
    for (const std::string& w : e.filters.warnings) warnings.push_back(w);
    out["warnings"] = std::move(warnings);
    json list = json::array();
    for (const config::SettingLine& s : settings)
      list.push_back({{"name", s.name}, {"value", s.value}, {"source", s.source}});
    out["settings"] = std::move(list);
    out["filters"] = filter::FiltersToJson(fc);
    json rules = json::array();
    for (const rules::RuleSpec& r : e.audit_rules) rules.push_back(r.ToAuditctl());
    out["audit_rules"] = std::move(rules);
    json notes = json::array();
    for (const rules::PushdownNote& n : e.pushdown.notes)
      notes.push_back({{"rule", n.rule},
                       {"pushed", n.pushed},
                       {"reason", n.reason},
                       {"audit_rules", n.audit_rules}});
    out["pushdown"] = std::move(notes);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("# Settings (%s)\n", e.config.config.config_dir.c_str());
  for (const config::SettingLine& s : settings)
    std::printf("%-32s %-28s %s\n", s.name.c_str(), s.value.dump().c_str(), s.source.c_str());
  std::printf("\n# Filters\n");
  const std::string text = filter::FiltersToText(fc);
  std::printf("%s", text.empty() ? "(no filter files: every event is recorded)\n" : text.c_str());
  std::printf("\n# Audit rules (%zu, of which %zu pushed down from the filters)\n",
              e.audit_rules.size(), e.pushdown.rules.size());
  for (const rules::RuleSpec& r : e.audit_rules) std::printf("%s\n", r.ToAuditctl().c_str());
  if (!e.pushdown.notes.empty()) {
    std::printf("\n# Exclusions and the kernel\n");
    for (const rules::PushdownNote& n : e.pushdown.notes) {
      if (n.pushed) {
        std::printf("%s: pushed down (%zu audit rule(s))%s%s\n", n.rule.c_str(),
                    n.audit_rules.size(),
                    n.reason.empty() ? "" : "; partly in user space: ", n.reason.c_str());
      } else {
        std::printf("%s: user space only: %s\n", n.rule.c_str(), n.reason.c_str());
      }
    }
  }
  return 0;
}

}  // namespace

void AddConfigCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ConfigOptions>();
  CLI::App* cmd = app.add_subcommand("config", "Check or show the configuration and filters");
  cmd->description(
      "Validate or show the configuration directory as the recorder reads it:\n"
      "recorder.json and every *_recorder.json (merged by the manual's rules), the\n"
      "filter files (filterLocation, default filters.json, and every\n"
      "<product>_filters.json) and watchlist.json (WatchlistFile). See\n"
      "docs/configuration.md and docs/filters.md.\n"
      "\n"
      "  check   validate everything without recording; warnings on stderr\n"
      "  show    the effective settings, each with the file it came from (or\n"
      "          \"default\"), the merged filters, and the audit rules they give,\n"
      "          with which exclusions the kernel applies itself\n"
      "\n"
      "Examples:\n"
      "  recorder config check\n"
      "  recorder config show --config .\n"
      "  recorder config show --json | jq '.audit_rules'\n"
      "\n"
      "Exit codes: 0 valid; 1 a file is broken (bad JSON as FILE:LINE:COLUMN) or a\n"
      "filter is bad (the file, the rule and the reason); 2 a usage error.");
  cmd->require_subcommand(1, 1);
  CLI::App* check = cmd->add_subcommand("check", "Validate the configuration and filters");
  check->add_option("--config", options->config_dir, "Configuration directory")
      ->capture_default_str();
  check->callback([options, exit_code] { *exit_code = RunCheck(*options); });
  CLI::App* show = cmd->add_subcommand("show", "Print the effective configuration and filters");
  show->add_option("--config", options->config_dir, "Configuration directory")
      ->capture_default_str();
  show->add_flag("--json", options->json, "As JSON");
  show->callback([options, exit_code] { *exit_code = RunShow(*options); });
}

}  // namespace recorder::cli
