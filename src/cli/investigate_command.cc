// `recorder tree`, `show`, `timeline` and `search`: read-only answers to
// an investigator's questions. The queries and their renderings live in
// src/investigate/ (shared with the web view); this file parses options,
// opens the database and chooses exit codes.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/pager.h"
#include "investigate/event_search.h"
#include "investigate/event_stream.h"
#include "investigate/investigate_format.h"
#include "investigate/investigation_db.h"
#include "investigate/process_report.h"
#include "investigate/process_tree.h"
#include "investigate/time_spec.h"
#include "store/schema.h"
#include "util/clock.h"

namespace recorder::cli {
namespace {

constexpr int kExitNotFound = 1;
constexpr int kExitUsage = 2;  // also a database that cannot be read, as in `recorder query`

constexpr std::string_view kExitCodes =
    "Exit codes: 0 success; 1 no such process (unknown process id, or no\n"
    "process with that pid alive at --at); 2 a bad option value (time, kind,\n"
    "cursor), or the database file is missing, cannot be opened or is not a\n"
    "recorder database.";

constexpr const char* kNodeHelp =
    "Only events of processes of this host: the node column (audit node=, a Windows "
    "log's Computer, a BSM trail's --node); the local machine's have none";

struct CommonOptions {
  std::string db;          // empty: config::DbPathFor's rule
  std::string config_dir;  // empty: the current directory
  bool json = false;
  bool utc = false;
  bool no_pager = false;
};

void AddCommonOptions(CLI::App* cmd, CommonOptions* options) {
  AddReadDatabaseOptions(cmd, &options->db, &options->config_dir);
  cmd->add_flag("--json", options->json, "Print JSON (times as ms and ISO-8601 UTC)");
  cmd->add_flag("--utc", options->utc, "Print times in UTC instead of local time");
  cmd->add_flag("--no-pager", options->no_pager,
                "On a terminal, print directly instead of through $PAGER (default less -FRX)");
}

int Fail(std::string_view command, const Status& status, int code) {
  std::fprintf(stderr, "recorder %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               status.message().c_str());
  return code;
}

// The database named by --db or the configuration, opened read-only.
Result<std::unique_ptr<store::Database>> OpenDb(const CommonOptions& options) {
  Result<std::string> path = DatabasePathFor(options.db, options.config_dir);
  if (!path.ok()) return path.status();
  return investigate::OpenInvestigationDb(*path);
}

OutputChoice ChoiceFor(const CommonOptions& options) {
  return ChooseOutput(isatty(STDOUT_FILENO) == 1, options.no_pager, std::getenv("PAGER"),
                      std::getenv("TERM"));
}

investigate::TextStyle StyleFor(const CommonOptions& options) {
  return {options.utc, ChoiceFor(options).unicode};
}

void Print(const CommonOptions& options, const std::string& text) {
  WriteOutput(text, ChoiceFor(options));
}

void PrintJson(const CommonOptions& options, const nlohmann::ordered_json& json) {
  Print(options, json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

// PROCESS is a process_id, or with --at a pid: the instance alive then.
Result<int64_t> ResolveProcess(store::Database& db, std::string_view text, const std::string& at) {
  int64_t number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || ptr != text.data() + text.size() || number <= 0)
    return Status::Errorf(StatusCode::kInvalid,
                          "bad PROCESS '{}': give a process_id, or a pid with --at TIME", text);
  if (at.empty()) return number;
  Result<int64_t> at_ms = investigate::ParseTime(at, WallMs());
  if (!at_ms.ok()) return at_ms.status();
  return investigate::FindProcessAt(db, number, *at_ms);
}

int ExitFor(const Status& status) {
  return status.code() == StatusCode::kNotFound ? kExitNotFound : kExitUsage;
}

struct ProcessOptions {
  CommonOptions common;
  std::string process;
  std::string at;
  int depth = 20;
};

int RunTree(const ProcessOptions& options) {
  auto db = OpenDb(options.common);
  if (!db.ok()) return Fail("tree", db.status(), kExitUsage);
  Result<int64_t> id = ResolveProcess(**db, options.process, options.at);
  if (!id.ok()) return Fail("tree", id.status(), ExitFor(id.status()));
  Result<investigate::ProcessTree> tree = investigate::LoadTree(**db, *id, options.depth);
  if (!tree.ok()) return Fail("tree", tree.status(), ExitFor(tree.status()));
  if (options.common.json)
    PrintJson(options.common, investigate::TreeJson(*tree));
  else
    Print(options.common, investigate::TreeText(*tree, StyleFor(options.common)));
  return 0;
}

int RunShow(const ProcessOptions& options) {
  auto db = OpenDb(options.common);
  if (!db.ok()) return Fail("show", db.status(), kExitUsage);
  Result<int64_t> id = ResolveProcess(**db, options.process, options.at);
  if (!id.ok()) return Fail("show", id.status(), ExitFor(id.status()));
  Result<investigate::ProcessReport> report = investigate::LoadProcessReport(**db, *id);
  if (!report.ok()) return Fail("show", report.status(), ExitFor(report.status()));
  if (options.common.json)
    PrintJson(options.common, investigate::ReportJson(*report));
  else
    Print(options.common, investigate::ReportText(*report, StyleFor(options.common)));
  return 0;
}

struct TimelineOptions {
  CommonOptions common;
  std::string since, until, kinds, user, exe, node, after;
  int64_t limit = 100;
  bool histogram = false;
};

int RunTimeline(const TimelineOptions& options) {
  investigate::TimelineQuery query;
  const int64_t now = WallMs();
  if (!options.since.empty()) {
    Result<int64_t> t = investigate::ParseTime(options.since, now);
    if (!t.ok()) return Fail("timeline", t.status(), kExitUsage);
    query.since = *t;
  }
  if (!options.until.empty()) {
    Result<int64_t> t = investigate::ParseTime(options.until, now);
    if (!t.ok()) return Fail("timeline", t.status(), kExitUsage);
    query.until = *t;
  }
  if (!options.kinds.empty()) {
    auto kinds = investigate::ParseEventKinds(options.kinds);
    if (!kinds.ok()) return Fail("timeline", kinds.status(), kExitUsage);
    query.kinds = std::move(*kinds);
  }
  query.user = options.user;
  query.exe_glob = options.exe;
  query.node = options.node;
  query.limit = options.limit;
  query.after = options.after;
  auto db = OpenDb(options.common);
  if (!db.ok()) return Fail("timeline", db.status(), kExitUsage);
  if (options.histogram) {
    auto minutes = investigate::LoadHistogram(**db, query);
    if (!minutes.ok()) return Fail("timeline", minutes.status(), kExitUsage);
    if (options.common.json)
      PrintJson(options.common, investigate::HistogramJson(*minutes));
    else
      Print(options.common, investigate::HistogramText(*minutes, StyleFor(options.common)));
    return 0;
  }
  Result<investigate::TimelinePage> page = investigate::LoadTimeline(**db, query);
  if (!page.ok()) return Fail("timeline", page.status(), kExitUsage);
  if (options.common.json)
    PrintJson(options.common, investigate::TimelineJson(*page));
  else
    Print(options.common, investigate::TimelineText(*page, StyleFor(options.common)));
  return 0;
}

struct SearchOptions {
  CommonOptions common;
  std::string term, node;
  int64_t limit = 20;
};

int RunSearch(const SearchOptions& options) {
  auto db = OpenDb(options.common);
  if (!db.ok()) return Fail("search", db.status(), kExitUsage);
  const auto start = std::chrono::steady_clock::now();
  auto groups = investigate::Search(**db, options.term, options.limit, options.node);
  if (!groups.ok()) return Fail("search", groups.status(), kExitUsage);
  // A slow search on a database without the search indexes: say how to
  // get them (the recorder does not keep them: store/schema.cc).
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (seconds >= 0.5) {
    Result<int64_t> present = store::SearchIndexesPresent(db->get());
    const auto all = static_cast<int64_t>(store::SearchIndexNames().size());
    if (present.ok() && *present < all)
      std::fprintf(stderr,
                   "recorder search: %.1f s: this database has %lld of the %lld search indexes, "
                   "so tables were read through; `recorder search-index` builds them\n",
                   seconds, static_cast<long long>(*present), static_cast<long long>(all));
  }
  if (options.common.json)
    PrintJson(options.common, investigate::SearchJson(*groups));
  else
    Print(options.common, investigate::SearchText(*groups, StyleFor(options.common)));
  return 0;
}

void AddProcessArguments(CLI::App* cmd, ProcessOptions* options) {
  cmd->add_option("PROCESS", options->process,
                  "A process_id (the processes view's), or a pid with --at")
      ->required();
  cmd->add_option("--at", options->at,
                  "PROCESS is a pid: take the instance of it alive at this time");
  AddCommonOptions(cmd, &options->common);
}

constexpr std::string_view kTimeForms =
    "Times: ISO-8601 (2026-11-25T17:57:13Z; without a zone, local time), a time\n"
    "before now (-15m, -2h, -3d, -30s), or epoch seconds. Output is in local time;\n"
    "--utc prints UTC.\n";

}  // namespace

void AddTreeCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ProcessOptions>();
  CLI::App* cmd = app.add_subcommand("tree", "Show a process's ancestry and descendants");
  cmd->description(
      fmt::format("Print the ancestry of a process up to the first one recorded, then the\n"
                  "process (marked) and its descendants as a tree. Each line: process_id, pid,\n"
                  "user, exe, the command line (shortened), start .. end and exit code.\n"
                  "Children that ran the same command as the same user with the same exit\n"
                  "code and started nothing are one line: 'x120 ... /bin/true'.\n"
                  "{}\n"
                  "Examples:\n"
                  "  recorder tree 1\n"
                  "  recorder tree 1 --depth 2 --utc\n"
                  "  recorder tree 13005 --at 2026-11-25T17:57:13Z --json\n"
                  "\n{}",
                  kTimeForms, kExitCodes));
  AddProcessArguments(cmd, options.get());
  cmd->add_option("--depth", options->depth, "Levels of descendants to show (default 20)")
      ->check(CLI::Range(0, 10000));
  cmd->callback([options, exit_code] { *exit_code = RunTree(*options); });
}

void AddShowCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ProcessOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Show one process in full and everything it did");
  cmd->description(
      fmt::format("Print one process in full (argv, cwd, exe and its hashes, users and ids,\n"
                  "start and end) with its parent chain, then everything it did in time order\n"
                  "across the event views (exec and exit, files, network, security, modules,\n"
                  "library loads, DNS, failed execs), with the count of each kind.\n"
                  "{}\n"
                  "Examples:\n"
                  "  recorder show 1\n"
                  "  recorder show 13005 --at 2026-11-25T17:57:13Z --utc\n"
                  "  recorder show 1 --json\n"
                  "\n{}",
                  kTimeForms, kExitCodes));
  AddProcessArguments(cmd, options.get());
  cmd->callback([options, exit_code] { *exit_code = RunShow(*options); });
}

void AddTimelineCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<TimelineOptions>();
  CLI::App* cmd = app.add_subcommand("timeline", "Events of every kind in time order, paged");
  cmd->description(fmt::format(
      "Print the events of every table in one time-ordered stream: process execs\n"
      "and exits, file, network, security, module, library-load, DNS events and\n"
      "failed execs. At most --limit events are printed; when there are more, the\n"
      "last line is 'next page: --after CURSOR' (the JSON's \"next\"): run the same\n"
      "command with --after CURSOR for the next page. --histogram prints the number\n"
      "of events in each minute instead (one bar per minute; with --json an array of\n"
      "{{minute, minute_utc, count}}).\n"
      "{}\n"
      "Examples:\n"
      "  recorder timeline --since 2026-11-25T17:57:13Z --until 2026-11-25T17:57:14Z --utc\n"
      "  recorder timeline --since -2h --kind file,network --exe '*/python3*'\n"
      "  recorder timeline --kind security --user 0 --limit 5 --json\n"
      "  recorder timeline --since -1h --histogram\n"
      "  recorder timeline --node WIN-DC01 --kind process,registry\n"
      "\n{}",
      kTimeForms, kExitCodes));
  cmd->add_option("--since", options->since, "Events at or after this time");
  cmd->add_option("--until", options->until, "Events at or before this time");
  cmd->add_option("--kind", options->kinds,
                  "Comma-separated kinds: process (= exec,exit), exec, exit, file, network, "
                  "security, module, image, dns, failed_exec, registry");
  cmd->add_option("--user", options->user, "Only events of this user (name, or uid as text)");
  cmd->add_option("--exe", options->exe, "Only events of processes whose exe matches this glob");
  cmd->add_option("--node", options->node, kNodeHelp);
  cmd->add_option("--limit", options->limit, "Events per page (default 100)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--after", options->after, "Continue after a previous page (its cursor)");
  cmd->add_flag("--histogram", options->histogram,
                "Print the events per minute instead of the events (--limit and --after do "
                "not apply)");
  AddCommonOptions(cmd, &options->common);
  cmd->callback([options, exit_code] { *exit_code = RunTimeline(*options); });
}

void AddSearchCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<SearchOptions>();
  CLI::App* cmd = app.add_subcommand("search", "Find a path, address, hash, user or command");
  cmd->description(
      fmt::format("Look for TERM in every table and print the hits grouped by kind, each with\n"
                  "its process: processes (exe, command line, cwd, hashes; users exactly),\n"
                  "file paths, network addresses (ports exactly), security events (target\n"
                  "user, address, terminal, detail), modules, library paths and hashes, DNS\n"
                  "names and failed execs. Text matches anywhere, ignoring ASCII case; user\n"
                  "names and uids match whole. At most --limit hits per kind.\n"
                  "\n"
                  "Examples:\n"
                  "  recorder search recorder-golden-marker-execveat\n"
                  "  recorder search 127.0.0.1 --json\n"
                  "  recorder search 65534 --limit 5 --utc\n"
                  "  recorder search powershell --node WIN-DC01\n"
                  "\n{}",
                  kExitCodes));
  cmd->add_option("TERM", options->term, "What to look for")->required();
  cmd->add_option("--node", options->node, kNodeHelp);
  cmd->add_option("--limit", options->limit, "Hits per kind (default 20)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  AddCommonOptions(cmd, &options->common);
  cmd->callback([options, exit_code] { *exit_code = RunSearch(*options); });
}

}  // namespace recorder::cli
