// `recorder signals check [DIR]`: loads the Sigma rules of a directory
// (default: the configuration's signalsLocation) and says, rule by rule,
// which were loaded and which were skipped or are malformed, and why.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"

namespace recorder::cli {
namespace {

constexpr int kExitInvalid = 1;

struct SignalsOptions {
  std::string config_dir = ".";
  std::string dir;
  bool quiet = false;
};

int RunCheck(const SignalsOptions& options) {
  Result<config::LoadedConfig> loaded = config::LoadConfig(options.config_dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
    return kExitInvalid;
  }
  const config::RecorderConfig& c = loaded->config;
  const std::string dir = options.dir.empty() ? c.signals_location : options.dir;
  std::error_code ec;
  if (options.dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::printf("no signals directory %s: no rules\n", dir.c_str());
    return 0;
  }
  signals::LoadOptions load_options;
  load_options.substring_matching = !c.disable_signals_trie;
  Result<signals::LoadedRules> rules = signals::LoadSigmaDirectory(dir, load_options);
  if (!rules.ok()) {
    std::fprintf(stderr, "error: %s\n", rules.status().message().c_str());
    return kExitInvalid;
  }
  for (const signals::RuleReport& r : rules->reports) {
    if (options.quiet && r.outcome == signals::Outcome::kLoaded) continue;
    const std::string name = r.title.empty() ? r.file : r.file + " (" + r.title + ")";
    if (r.outcome == signals::Outcome::kLoaded) {
      std::printf("loaded     %s\n", name.c_str());
    } else {
      std::printf("%-10s %s: %s\n", std::string(OutcomeName(r.outcome)).c_str(), name.c_str(),
                  r.reason.c_str());
    }
  }
  const size_t malformed = rules->count(signals::Outcome::kMalformed);
  auto compiled = signals::SignalMatcher::Compile(rules->rules);
  if (!compiled.ok()) {
    std::fprintf(stderr, "error: the rules do not compile together: %s\n",
                 compiled.status().message().c_str());
    return kExitInvalid;
  }
  std::printf("%zu rule file(s) in %s: %zu loaded, %zu skipped, %zu malformed%s\n",
              rules->reports.size(), dir.c_str(), rules->count(signals::Outcome::kLoaded),
              rules->count(signals::Outcome::kSkipped), malformed,
              c.disable_signals ? " (DisableSignals is set: none is matched)" : "");
  return malformed > 0 ? kExitInvalid : 0;
}

}  // namespace

void AddSignalsCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<SignalsOptions>();
  CLI::App* cmd = app.add_subcommand("signals", "Check Sigma detection rules");
  cmd->description(
      "Sigma detection rules (docs/signals.md): the *.yml / *.yaml files under\n"
      "signalsLocation (default: the signals directory of the configuration\n"
      "directory) are matched against events as they are recorded or replayed.\n"
      "\n"
      "  check [DIR]   load every rule of DIR (default signalsLocation) and say\n"
      "                which loaded and which were skipped (a log source that is\n"
      "                not recorded, an aggregation, an unknown field, an\n"
      "                unsupported modifier) or are malformed, with the reason\n"
      "  hunt [RULES...] run rules (files or directories, default signalsLocation)\n"
      "                over the events monitor.db already holds: process creations,\n"
      "                file events and network connections (auditd rules need the\n"
      "                raw records, which are not stored: they are reported)\n"
      "\n"
      "Examples:\n"
      "  recorder signals check\n"
      "  recorder signals check --config . --quiet\n"
      "  recorder signals hunt --db monitor.db --since 2026-11-25\n"
      "  recorder signals hunt --json --store\n"
      "\n"
      "Exit codes: check: 0 every rule loaded or was skipped; 1 a rule is malformed\n"
      "(or the directory cannot be read); 2 a usage error. hunt: 0 hunted (with or\n"
      "without matches); 1 hunted, but a rule file is malformed; 2 a usage error, a\n"
      "bad time, a rule path or database that is missing or cannot be read.");
  cmd->require_subcommand(1, 1);
  CLI::App* check = cmd->add_subcommand("check", "Load the rules and report on each");
  check->add_option("dir", options->dir, "Rule directory (default: signalsLocation)");
  check->add_option("--config", options->config_dir, "Configuration directory")
      ->capture_default_str();
  check->add_flag("--quiet", options->quiet, "Only the rules not loaded, and the summary");
  check->callback([options, exit_code] { *exit_code = RunCheck(*options); });
  AddSignalsHuntCommand(cmd, exit_code);
}

}  // namespace recorder::cli
