// `recorder signals hunt`: Sigma rules over what monitor.db already holds
// (src/investigate/hunt.h). Options, rule loading, the report of rules a
// hunt cannot serve, the printing of matches and --store live here.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.h"
#include "config/config.h"
#include "investigate/hunt.h"
#include "investigate/investigation_db.h"
#include "investigate/time_spec.h"
#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"
#include "store/event_store.h"
#include "util/clock.h"
#include "util/compressed_file.h"

namespace recorder::cli {
namespace {

constexpr int kExitMalformedRule = 1;
constexpr int kExitUsage = 2;
constexpr size_t kMaxRuleFileBytes = 1 << 20;

struct HuntOptions {
  std::string db;
  std::string config_dir;
  std::string since;
  std::string until;
  bool json = false;
  bool store = false;
  bool utc = false;
  std::vector<std::string> rules;  // files or directories; empty: signalsLocation
};

int Fail(const std::string& message, int code = kExitUsage) {
  std::fprintf(stderr, "recorder signals hunt: %s\n", message.c_str());
  return code;
}

// Every rule file of `paths` (a file, or a directory read recursively).
Result<signals::LoadedRules> LoadRules(const std::vector<std::string>& paths,
                                       const signals::LoadOptions& options) {
  signals::LoadedRules all;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      Result<signals::LoadedRules> loaded = signals::LoadSigmaDirectory(path, options);
      if (!loaded.ok()) return loaded.status();
      for (auto& rule : loaded->rules) all.rules.push_back(std::move(rule));
      for (auto& report : loaded->reports) all.reports.push_back(std::move(report));
      continue;
    }
    if (!std::filesystem::is_regular_file(path, ec))
      return Status::Errorf(StatusCode::kNotFound, "{}: no such rule file or directory", path);
    Result<std::string> text = ReadWholeFile(path, kMaxRuleFileBytes);
    if (!text.ok()) return text.status();
    std::optional<signals::SigmaRule> rule;
    all.reports.push_back(signals::LoadSigmaText(path, *text, options, &rule));
    if (rule) all.rules.push_back(std::move(*rule));
  }
  return all;
}

std::string RuleName(const std::string& file, const std::string& title) {
  return title.empty() ? file : file + " (" + title + ")";
}

void PrintText(const signals::SignalMatcher& matcher, const investigate::HuntResult& result,
               bool utc) {
  const std::vector<investigate::HuntMatch>& matches = result.matches;
  for (size_t i = 0; i < matches.size();) {
    const signals::SigmaRule& rule = matcher.rules()[matches[i].rule];
    size_t end = i;
    while (end < matches.size() && matches[end].rule == matches[i].rule) ++end;
    // The author goes with every match shown: the Sigma rules' licence.
    std::printf("%s: %s\n  level %s, author %s, %zu match(es)\n", rule.id.c_str(),
                rule.title.c_str(), std::string(LevelName(rule.level)).c_str(),
                rule.author.empty() ? "(none)" : rule.author.c_str(), end - i);
    for (; i < end; ++i) {
      const investigate::HuntMatch& m = matches[i];
      std::printf("  %s  %s %lld  process_id %lld  pid %lld  %s  [%s]\n",
                  investigate::FormatTime(m.time, utc).c_str(), m.event_table.c_str(),
                  static_cast<long long>(m.event_row), static_cast<long long>(m.process_id),
                  static_cast<long long>(m.pid), m.exe.c_str(), m.selection.c_str());
    }
  }
}

void PrintJson(const signals::SignalMatcher& matcher, const investigate::HuntResult& result) {
  for (const investigate::HuntMatch& m : result.matches) {
    const signals::SigmaRule& rule = matcher.rules()[m.rule];
    nlohmann::ordered_json line = {{"time", m.time},
                                   {"time_utc", investigate::FormatTime(m.time, true)},
                                   {"rule_id", rule.id},
                                   {"title", rule.title},
                                   {"level", LevelName(rule.level)},
                                   {"author", rule.author},
                                   {"event_table", m.event_table},
                                   {"event_row", m.event_row},
                                   {"process_id", m.process_id},
                                   {"pid", m.pid},
                                   {"exe", m.exe},
                                   {"selection", m.selection}};
    std::printf(
        "%s\n",
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  }
}

// --store: through a writer connection (the store's), as the signal stage
// stores its matches.
int Store(const std::string& path, const config::RecorderConfig& c,
          const signals::SignalMatcher& matcher, const investigate::HuntResult& result,
          std::FILE* out) {
  if (c.record_signal_matches <= 0) {
    std::fprintf(out, "RecordSignalMatches is 0: no match stored\n");
    return 0;
  }
  store::EventStoreOptions options;
  options.signal_match_limit = c.record_signal_matches;
  auto store = store::EventStore::Open(path, options);
  if (!store.ok()) return Fail(store.status().message());
  std::vector<store::HuntMatchRow> rows;
  for (const investigate::HuntMatch& m : result.matches) {
    const signals::SigmaRule& rule = matcher.rules()[m.rule];
    rows.push_back({m.time, rule.id, rule.title, std::string(LevelName(rule.level)), rule.author,
                    m.event_table, m.event_row, m.process_id, m.selection});
  }
  // In time order, so that past the cap the oldest go, as when recording.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.time < b.time; });
  Result<store::HuntStoreCounts> counts = (*store)->StoreHuntMatches(rows, WallMs());
  if (!counts.ok()) return Fail(counts.status().message());
  Status flushed = (*store)->Flush();
  if (!flushed.ok()) return Fail(flushed.message());
  std::fprintf(out,
               "stored %lld match(es) in signal_matches (with hunt_time), %lld already there; "
               "removed past RecordSignalMatches (%lld): %lld\n",
               static_cast<long long>(counts->stored), static_cast<long long>(counts->already),
               static_cast<long long>(c.record_signal_matches),
               static_cast<long long>(counts->removed));
  return 0;
}

int RunHunt(const HuntOptions& options) {
  Result<config::LoadedConfig> loaded =
      config::LoadConfig(config::ConfigDirFor(options.config_dir));
  if (!loaded.ok()) return Fail(loaded.status().message());
  const config::RecorderConfig& c = loaded->config;
  const int64_t now = WallMs();
  investigate::HuntQuery query;
  for (auto [text, bound, name] : {std::tuple{&options.since, &query.since, "--since"},
                                   std::tuple{&options.until, &query.until, "--until"}}) {
    if (text->empty()) continue;
    Result<int64_t> ms = investigate::ParseTime(*text, now);
    if (!ms.ok()) return Fail(std::string(name) + ": " + ms.status().message());
    *bound = *ms;
  }
  std::vector<std::string> paths = options.rules;
  if (paths.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(c.signals_location, ec)) {
      // As `signals check`: the default location may be absent.
      std::printf("no signals directory %s: no rules to hunt with (give RULES...)\n",
                  c.signals_location.c_str());
      return 0;
    }
    paths.push_back(c.signals_location);
  }
  signals::LoadOptions load_options;
  load_options.substring_matching = !c.disable_signals_trie;
  Result<signals::LoadedRules> rules = LoadRules(paths, load_options);
  if (!rules.ok()) return Fail(rules.status().message());

  // Reports go to stderr, so that --json's stdout is JSON lines only.
  for (const signals::RuleReport& r : rules->reports)
    if (r.outcome != signals::Outcome::kLoaded)
      std::fprintf(stderr, "%-10s %s: %s\n", std::string(OutcomeName(r.outcome)).c_str(),
                   RuleName(r.file, r.title).c_str(), r.reason.c_str());
  std::vector<signals::SigmaRule> huntable;
  size_t unserved = 0;
  for (signals::SigmaRule& rule : rules->rules) {
    if (investigate::HuntServes(rule.source)) {
      huntable.push_back(std::move(rule));
      continue;
    }
    ++unserved;
    std::fprintf(stderr, "not hunted %s: %s\n", RuleName(rule.file, rule.title).c_str(),
                 std::string(investigate::HuntUnservedReason(rule.source)).c_str());
  }
  auto matcher = signals::SignalMatcher::Compile(std::move(huntable));
  if (!matcher.ok())
    return Fail("the rules do not compile together: " + matcher.status().message());
  const signals::SignalMatcher& m = **matcher;

  const std::string path = options.db.empty() ? config::DbPathFor("", c) : options.db;
  auto db = investigate::OpenInvestigationDb(path);
  if (!db.ok()) return Fail(db.status().message());
  const bool terminal = isatty(STDERR_FILENO) == 1;
  if (terminal) {
    query.progress = [](const investigate::HuntProgress& p) {
      std::fprintf(stderr, "\rhunting: %.*s %lld of ~%lld   ", static_cast<int>(p.table.size()),
                   p.table.data(), static_cast<long long>(p.done), static_cast<long long>(p.total));
    };
  }
  Result<investigate::HuntResult> result = investigate::Hunt(**db, m, query);
  if (terminal) std::fprintf(stderr, "\r\033[K");
  if (!result.ok()) return Fail(result.status().message());

  if (options.json) {
    PrintJson(m, *result);
  } else {
    PrintText(m, *result, options.utc);
  }
  std::FILE* summary = options.json ? stderr : stdout;
  size_t rules_matched = 0;
  for (size_t i = 0; i < result->matches.size(); ++i)
    if (i == 0 || result->matches[i].rule != result->matches[i - 1].rule) ++rules_matched;
  std::fprintf(summary,
               "hunted %zu rule(s) over %lld process(es), %lld file event(s), %lld network "
               "event(s), %lld Sysmon record(s) in %s: %zu match(es) of %zu rule(s); %zu rule(s) "
               "not hunted, %zu skipped, %zu malformed\n",
               m.rules().size(), static_cast<long long>(result->processes),
               static_cast<long long>(result->file_events),
               static_cast<long long>(result->network_events),
               static_cast<long long>(result->sysmon_records), path.c_str(), result->matches.size(),
               rules_matched, unserved, rules->count(signals::Outcome::kSkipped),
               rules->count(signals::Outcome::kMalformed));
  if (result->windows_skipped > 0)
    std::fprintf(summary,
                 "%lld row(s) of hosts imported from Sysmon logs left to the Windows rules (a "
                 "Linux rule does not match them)\n",
                 static_cast<long long>(result->windows_skipped));
  db->reset();
  if (options.store) {
    const int stored = Store(path, c, m, *result, summary);
    if (stored != 0) return stored;
  }
  return rules->count(signals::Outcome::kMalformed) > 0 ? kExitMalformedRule : 0;
}

}  // namespace

void AddSignalsHuntCommand(CLI::App* signals_command, int* exit_code) {
  auto options = std::make_shared<HuntOptions>();
  CLI::App* hunt =
      signals_command->add_subcommand("hunt", "Run rules over the events monitor.db already holds");
  hunt->add_option("rules", options->rules, "Rule files or directories (default: signalsLocation)");
  AddReadDatabaseOptions(hunt, &options->db, &options->config_dir);
  hunt->add_option("--since", options->since,
                   "Only events at or after TIME (ISO-8601, -2h, epoch seconds)");
  hunt->add_option("--until", options->until, "Only events at or before TIME");
  hunt->add_flag("--json", options->json, "Print each match as a JSON line");
  hunt->add_flag("--store", options->store,
                 "Also store the matches in signal_matches (with hunt_time), within "
                 "RecordSignalMatches");
  hunt->add_flag("--utc", options->utc, "Print times in UTC instead of local time");
  hunt->callback([options, exit_code] { *exit_code = RunHunt(*options); });
}

}  // namespace recorder::cli
