// `recorder replay`: audit logs (plain, .gz or stdin) through the whole
// pipeline into monitor.db. For loading logs from other machines or from
// before the recorder ran, and for benchmarking the store.
#include <signal.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bsm/bsm_mapping.h"
#include "bsm/bsm_reader.h"
#include "cli/commands.h"
#include "cli/replay_inputs.h"
#include "cli/replay_summary.h"
#include "config/config.h"
#include "config/filter_locations.h"
#include "enrich/enriching_sink.h"
#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "evtx/evtx_reader.h"
#include "filter/filter_loader.h"
#include "filter/filtering_sink.h"
#include "normalize/event_batch.h"
#include "pipeline/pipeline.h"
#include "pipeline/signal_setup.h"
#include "pipeline/threaded_sink.h"
#include "signals/signal_sink.h"
#include "source/line_reader.h"
#include "store/event_store.h"
#include "util/clock.h"

namespace recorder::cli {
namespace {

constexpr int kExitInput = 1;
constexpr int kExitDatabase = 2;
constexpr int kExitInterrupted = 130;  // the shell's 128 + SIGINT

// Ctrl-C (or SIGTERM) stops reading; what was read is still assembled,
// stored and flushed, and the run is marked as interrupted.
volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

// Installs the handlers for the replay's lifetime. No SA_RESTART: a read
// blocked on stdin returns (EINTR) so the replay notices at once.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

struct ReplayOptions {
  std::vector<std::string> files;
  std::string db;          // empty: config::DbPathFor's rule
  std::string config_dir;  // empty: the current directory
  int64_t batch_write_delay_ms = store::kDefaultBatchWriteDelayMs;
  int64_t process_expiration_seconds = store::kDefaultProcessExpirationSeconds;
  bool progress = true;
  bool writer_thread = true;
  std::string filters_dir;  // --filters: a configuration directory whose filters apply
  std::string signals_dir;  // --signals: a directory of Sigma rules to match
  std::string signals_out;  // --signals-out: matches as JSON lines, "-" for stdout
  std::string node;         // --node: the host of inputs that name none
};

// The filters of configuration directory `dir` (its recorder*.json say
// where filters.json and watchlist.json are). Warnings go to stderr.
Result<filter::LoadedFilters> ReplayFilters(const std::string& dir) {
  Result<config::LoadedConfig> loaded = config::LoadConfig(dir);
  if (!loaded.ok()) return loaded.status();
  Result<filter::LoadedFilters> filters =
      filter::LoadFilters(config::FilterLocationsOf(loaded->config));
  if (filters.ok())
    for (const std::string& w : filters->warnings)
      std::fprintf(stderr, "recorder replay: warning: %s\n", w.c_str());
  return filters;
}

int RunReplay(ReplayOptions options) {
  std::shared_ptr<const filter::CompiledFilters> filters;
  if (!options.filters_dir.empty()) {
    Result<filter::LoadedFilters> loaded = ReplayFilters(options.filters_dir);
    if (!loaded.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", loaded.status().message().c_str());
      return kExitDatabase;
    }
    filters = loaded->filters;
  }
  if (options.files.empty()) {
    if (isatty(STDIN_FILENO)) {
      std::fprintf(stderr, "recorder replay: no input: name audit log files, or - for stdin\n");
      return kExitInput;
    }
    options.files.push_back("-");
  }
  // Open every input first: an unreadable file stops the replay before
  // anything is written.
  std::vector<ReplayInput> inputs;
  uint64_t total_bytes = 0;
  for (const std::string& file : options.files) {
    Result<ReplayInput> input = OpenReplayInput(file);
    if (!input.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", input.status().message().c_str());
      return kExitInput;
    }
    if (input->text != nullptr) total_bytes += input->text->file_size();
    inputs.push_back(std::move(input).value());
  }
  // Every EVTX record names its Computer: --node would name nothing.
  if (!options.node.empty() && std::all_of(inputs.begin(), inputs.end(), [](const ReplayInput& i) {
        return i.evtx != nullptr;
      })) {
    std::fprintf(stderr,
                 "recorder replay: --node names the host of inputs that name none (BSM trails, "
                 "audit logs without node=); a Windows event log names its own (Computer)\n");
    return kExitDatabase;
  }

  std::optional<config::LoadedConfig> config;
  if (options.db.empty() || !options.signals_dir.empty()) {
    // The database the recorder writes with this configuration, and its
    // signal settings.
    Result<config::LoadedConfig> loaded =
        config::LoadConfig(config::ConfigDirFor(options.config_dir));
    if (!loaded.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", loaded.status().message().c_str());
      return kExitDatabase;
    }
    if (options.db.empty()) options.db = config::DbPathFor("", loaded->config);
    config = std::move(loaded).value();
  }
  std::optional<LoadedSignals> signal_rules;
  std::FILE* signals_out = nullptr;
  if (!options.signals_dir.empty()) {
    Result<LoadedSignals> loaded =
        LoadSignals(options.signals_dir, !config->config.disable_signals_trie, false);
    if (!loaded.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", loaded.status().message().c_str());
      return kExitDatabase;
    }
    for (const std::string& problem : loaded->problems)
      std::fprintf(stderr, "recorder replay: warning: signal rule %s\n", problem.c_str());
    signal_rules = std::move(loaded).value();
    if (options.signals_out == "-") {
      signals_out = stdout;
    } else if (!options.signals_out.empty()) {
      signals_out = std::fopen(options.signals_out.c_str(), "ae");
      if (signals_out == nullptr) {
        std::fprintf(stderr, "recorder replay: cannot open %s: %s\n", options.signals_out.c_str(),
                     std::strerror(errno));
        return kExitInput;
      }
    }
  }
  struct CloseFile {
    std::FILE* file;
    ~CloseFile() {
      if (file != nullptr && file != stdout) std::fclose(file);
    }
  } close_signals_out{signals_out};

  // SQLite's allocation statistics take a global mutex on every malloc;
  // nobody reads them. Only possible before SQLite initializes (first
  // open); a no-op otherwise.
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  store::EventStoreOptions store_options;
  store_options.batch_write_delay_ms = options.batch_write_delay_ms;
  store_options.process_expiration_ms = options.process_expiration_seconds * 1000;
  if (config) store_options.signal_match_limit = config->config.record_signal_matches;
  auto store = store::EventStore::Open(options.db, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "recorder replay: %s\n", store.status().message().c_str());
    return kExitDatabase;
  }
  if (signal_rules && config->config.record_signal_definitions) {
    Status stored = (*store)->StoreSignalRules(signal_rules->rows, WallMs());
    if (!stored.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", stored.message().c_str());
      return kExitDatabase;
    }
  }
  std::string source = "replay:";
  for (size_t i = 0; i < options.files.size(); ++i)
    source += (i ? "," : "") + (options.files[i] == "-" ? std::string("stdin") : options.files[i]);
  auto run_id = (*store)->BeginRun(source, WallMs());
  if (!run_id.ok()) {
    std::fprintf(stderr, "recorder replay: %s\n", run_id.status().message().c_str());
    return kExitDatabase;
  }

  const auto started = std::chrono::steady_clock::now();
  SummaryReporter reporter;
  // Enrichment for a log from another time (or machine): the process tree
  // is learned from the log's own execs and exits, never from today's
  // /proc; no hashing (the file on disk now need not be the one that ran)
  // and no user names (this machine's /etc/passwd need not be that one's;
  // the normalizer does not keep an ENRICHED log's UID="name" fields yet).
  enrich::ProcessTableOptions table_options;
  table_options.expiration_seconds = options.process_expiration_seconds;
  // No state file here and the store has the argv; only filters on
  // command lines need them for a process's other events and children.
  // Signals ask for them only when a rule tests a parent's command line,
  // or a file or network event's process's (SignalMatcher::needs_argv).
  const bool signals_on = signal_rules && !config->config.disable_signals;
  table_options.keep_argv = (filters != nullptr && filters->needs_argv()) ||
                            (signals_on && signal_rules->matcher->needs_argv());
  enrich::ProcessTable processes(table_options);
  // Filtering after enrichment: the table has applied each batch, so a
  // process exclusion reaches the descendants (docs/filters.md). Signals
  // after filtering: only stored events are matched, and the store
  // writes each match next to its event's row.
  enrich::TableLineage lineage(&processes);
  // Two cores, wall-clock target: this thread reads, parses, assembles
  // and normalizes; a writer thread enriches (the process table) and
  // runs SQLite. Enrichment is on the writer because there the two
  // threads' CPU balances on a realistic log; on this thread it makes
  // this side the slower one. A thread of its own for enrichment, between
  // this one and the writer, costs more in cache misses on the other
  // core than it saves. Matching is another matter: with signals it is
  // the writer's other big cost, and SQLite's inserts do not wait on it.
  // So with signals the thread after this one enriches, filters and
  // matches (the process table and the lineage are its) and a third only
  // stores, and a replay with rules runs at nearly the speed of one
  // without (BENCHMARKS.md row S). The store and the process table are
  // touched from here again only after both threads stopped. The threads
  // start with SIGINT/SIGTERM blocked, so they reach this thread and
  // interrupt a read blocked on stdin.
  sigset_t interrupt_signals, old_mask;
  sigemptyset(&interrupt_signals);
  sigaddset(&interrupt_signals, SIGINT);
  sigaddset(&interrupt_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &interrupt_signals, &old_mask);
  std::optional<ThreadedSink> store_writer;
  if (options.writer_thread && signals_on) store_writer.emplace(store->get());
  EventSink* const to_store = store_writer ? static_cast<EventSink*>(&*store_writer) : store->get();
  signals::SignalSink signal_sink(to_store, signals_on ? signal_rules->matcher : nullptr, &lineage,
                                  signals_out);
  EventSink* const after_filter = signals_on ? static_cast<EventSink*>(&signal_sink) : to_store;
  filter::FilteringSink filtering(after_filter, filters, &lineage);
  enrich::EnrichingSinkOptions enrich_options;
  enrich_options.probe_proc = false;
  enrich_options.hash_executables = false;
  enrich::EnrichingSink enricher(
      filters != nullptr ? static_cast<EventSink*>(&filtering) : after_filter, &processes,
      /*users=*/nullptr, /*hashes=*/nullptr, enrich_options);
  // The thread after this one: it enriches and stores, or with signals
  // enriches and matches while store_writer stores.
  std::optional<ThreadedSink> writer;
  if (options.writer_thread) {
    ThreadedSinkOptions writer_options;
    if (store_writer) writer_options.thread_name = "recorder-match";
    writer.emplace(&enricher, writer_options);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  EventSink* const to_writer = writer ? static_cast<EventSink*>(&*writer) : &enricher;
  PipelineOptions pipeline_options;
  pipeline_options.default_node = options.node;
  Pipeline pipeline(pipeline_options, &reporter, to_writer);
  Progress progress(total_bytes,
                    options.progress && isatty(STDERR_FILENO) && total_bytes >= (16u << 20));
  uint64_t too_long = 0, done_bytes = 0;
  int exit_code = 0;
  std::string error;
  EvtxCounts evtx_counts;
  BsmCounts bsm_counts;
  // One mapper for every trail: the trails of one replay are one host's,
  // in order, and a fork in one names the parent of an exec in the next.
  bsm::BsmMapper bsm_mapper(options.node);
  InterruptGuard interrupt_guard;
  for (ReplayInput& input : inputs) {
    if (input.evtx != nullptr || input.is_bsm) {
      Status status =
          input.evtx != nullptr
              ? ReplayEvtx(*input.evtx, to_writer, &evtx_counts, &reporter, &g_interrupted)
              : ReplayBsm(input.file, input.bsm, &bsm_mapper, to_writer, &bsm_counts, &reporter,
                          &g_interrupted);
      input.bsm = std::string();  // the trail's memory, once its events are handed on
      if (!status.ok()) {
        error = status.message();
        exit_code = kExitDatabase;
        break;
      }
      if (g_interrupted) {
        error = "interrupted; what was read before is stored";
        exit_code = kExitInterrupted;
        break;
      }
      continue;
    }
    LineReader* reader = input.text.get();
    reporter.set_reader(reader);
    const uint64_t lines_before = pipeline.stats().lines;
    const uint64_t records_before = pipeline.assembler_stats().records;
    std::string_view line;
    bool reading = true;
    while (reading) {
      if (g_interrupted) {
        error = "interrupted; what was read before is stored";
        exit_code = kExitInterrupted;
        break;
      }
      switch (reader->ReadLine(&line)) {
        case LineReader::Next::kLine: {
          Status status = pipeline.FeedLine(line);
          if (!status.ok()) {
            error = status.message();
            exit_code = kExitDatabase;
            reading = false;
          }
          if ((reader->line_number() & 0x3fff) == 0)
            progress.Update(done_bytes + reader->file_offset());
          break;
        }
        case LineReader::Next::kTooLong:
          ++too_long;
          reporter.Note("line too long, skipped");
          break;
        case LineReader::Next::kEnd:
          reading = false;
          break;
        case LineReader::Next::kError:
          if (g_interrupted) break;  // EINTR on stdin: the check above ends the loop
          error = fmt::format("{}: read error: {}", reader->path(), reader->error());
          exit_code = kExitInput;
          reading = false;
          break;
      }
    }
    done_bytes += reader->file_size();
    // A file with lines and not one of them audit text (a binary, the
    // wrong file) is a mistake to report, not an empty log to count.
    const uint64_t lines = pipeline.stats().lines - lines_before;
    if (exit_code == 0 && lines > 0 && pipeline.assembler_stats().records == records_before) {
      error = fmt::format(
          "{}: does not look like an audit log (none of its {} lines is an audit record)",
          reader->path(), lines);
      exit_code = kExitInput;
    }
    if (exit_code != 0) break;
  }
  progress.Clear();
  if (exit_code == 0 || exit_code == kExitInterrupted) {
    Status status = pipeline.Finish();
    if (!status.ok()) {
      error = status.message();
      exit_code = kExitDatabase;
    }
  }
  // Joins the threads in the order events pass them (everything queued
  // was passed on and written, or the first error is known): from here
  // on this thread owns the store and the process table again.
  Status writer_status = writer ? writer->Stop() : Status::Ok();
  if (store_writer) {
    Status stored = store_writer->Stop();
    if (writer_status.ok()) writer_status = stored;
  }
  timespec reader_cpu{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &reader_cpu);
  if (!writer_status.ok() && (exit_code == 0 || exit_code == kExitInterrupted)) {
    error = writer_status.message();
    exit_code = kExitDatabase;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const PipelineStats& ps = pipeline.stats();
  store::RunStats run;
  run.lines = ps.lines + too_long;
  run.bytes = ps.bytes;
  run.records = pipeline.assembler_stats().records;
  run.malformed = ps.malformed + too_long;
  run.truncated = ps.truncated;
  run.audit_events = pipeline.assembler_stats().events;
  run.partial_events = pipeline.normalizer_stats().partial;
  run.ignored_events = pipeline.normalizer_stats().ignored;
  run.filtered_out_by_kind = filtering.stats().dropped_by_kind;
  run.records += evtx_counts.records;
  run.malformed += evtx_counts.problems;
  run.ignored_events += evtx_counts.unmapped + evtx_counts.other_channel;
  run.records += bsm_counts.records;
  run.malformed += bsm_counts.problems;
  run.ignored_events += bsm_counts.unmapped;
  run.evtx_records = evtx_counts.records;
  run.evtx_other_channels = evtx_counts.other_channel;
  run.error = error;
  Status status = (*store)->RecordRunStats(run, WallMs());
  if (status.ok()) status = (*store)->Flush();
  if (!status.ok() && (exit_code == 0 || exit_code == kExitInterrupted)) {
    error = status.message();
    exit_code = kExitDatabase;
  }

  ReplaySummary summary;
  summary.inputs = options.files.size();
  summary.db = options.db;
  summary.seconds = seconds;
  summary.run = run;
  summary.stored = (*store)->run_counters();
  if (filters != nullptr) summary.filtered = filtering.stats();
  summary.evtx = evtx_counts;
  summary.bsm = bsm_counts;
  if (signal_rules) {
    summary.signals = ReplaySignalsSummary{signal_rules->loaded, signal_rules->problems.size(),
                                           signal_sink.stats(), !signals_on,
                                           config->config.record_signal_matches};
  }
  summary.examples = reporter.examples();
  summary.cpu.reading = static_cast<double>(reader_cpu.tv_sec) + reader_cpu.tv_nsec / 1e9;
  if (writer) {
    summary.cpu.next = writer->stats().writer_cpu_seconds;
    summary.cpu.reading_waits = writer->stats().producer_waits;
  }
  if (store_writer) summary.cpu.store = store_writer->stats().writer_cpu_seconds;
  PrintReplaySummary(summary, stdout);
  std::fflush(stdout);
  if (!error.empty()) std::fprintf(stderr, "recorder replay: %s\n", error.c_str());
  return exit_code;
}

}  // namespace

void AddReplayCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ReplayOptions>();
  CLI::App* cmd = app.add_subcommand("replay", "Load audit logs into monitor.db");
  cmd->description(
      "Load audit logs (audit.log text, plain or gzip, or - for stdin) into the event\n"
      "database: records are assembled into events, normalized and stored in the\n"
      "views processes, file_events, network_events, security_events, module_events,\n"
      "failed_execs (see docs/schema.md). Several files are read in the order given,\n"
      "as one stream, so rotated logs (audit.log.2 audit.log.1 audit.log) join across\n"
      "the cut.\n"
      "\n"
      "Replay is idempotent: an audit event is stored once per (node, time, serial), so\n"
      "replaying the same or overlapping logs again adds only events not yet stored\n"
      "(the rest are counted as already stored). Each replay adds a row to the `runs`\n"
      "view with its line, malformed, stored and skipped counts.\n"
      "\n"
      "Malformed lines are counted and skipped (the first few are listed as\n"
      "FILE:LINE: reason); they do not fail the replay.\n"
      "\n"
      "Examples:\n"
      "  recorder replay /var/log/audit/audit.log\n"
      "  recorder replay --db /tmp/m.db audit.log.1.gz audit.log\n"
      "  ausearch --raw -ts today | recorder replay -\n"
      "\n"
      "A Windows event log (.evtx, plain or .gz, known by its content, on stdin\n"
      "too) is read as records: Sysmon's events 1, 3, 5, 6, 7, 11, 12, 13, 14, 22,\n"
      "23 and 26 fill the same views (processes linked by ProcessGuid, the record's\n"
      "Computer as node) plus registry_events, and every stored Sysmon record is\n"
      "kept whole in sysmon_events; records of other channels are counted and\n"
      "skipped, damaged ones listed as FILE:record N: reason.\n"
      "\n"
      "A macOS/FreeBSD audit trail (OpenBSM, plain or .gz, known by its content, on\n"
      "stdin too) is read as records: execs (with argv), exits, file creates,\n"
      "writes, renames and deletes, connects and accepts, logins fill the same\n"
      "views, the processes' ancestry taken from the trail's forks and spawns;\n"
      "other events are counted, damaged records listed as FILE:OFFSET: reason.\n"
      "Several trails in one replay are one host's, in order. A trail names no\n"
      "host: --node NAME names it (as it names audit records without node=;\n"
      "refused when every input is a Windows event log, whose records name their\n"
      "own).\n"
      "\n"
      "With --filters DIR, the events the filters of configuration directory DIR\n"
      "exclude are left out (docs/filters.md), and the summary counts them.\n"
      "With --signals DIR, the Sigma rules of DIR are matched against the stored\n"
      "events (docs/signals.md): matches go to the signal_matches view, and with\n"
      "--signals-out FILE (or - for stdout) also as JSON lines.\n"
      "\n"
      "Exit codes: 0 input read and stored; 1 an input cannot be opened or read, or\n"
      "is not an audit log (no line of it is an audit record); 2 a usage error (a bad\n"
      "filter file under --filters, a --signals directory that cannot be read\n"
      "included), or a database error (cannot create or write --db, not a recorder\n"
      "database, or a schema newer than this recorder);\n"
      "130 interrupted (Ctrl-C or SIGTERM: what was read before is stored, and the\n"
      "run's error says so).");
  cmd->add_option("FILE", options->files,
                  "Audit log files (plain or .gz; - for stdin), Windows event logs (.evtx) or "
                  "BSM audit trails");
  cmd->add_option("--db", options->db,
                  "Database file, created when missing (default: dbLocation of the "
                  "configuration, monitor.db in the configuration directory)");
  cmd->add_option("--config", options->config_dir,
                  "Configuration directory whose dbLocation to write (default: the current "
                  "directory)");
  cmd->add_option("--batch-write-delay-ms", options->batch_write_delay_ms,
                  "Longest a written batch waits before its commit (BatchWriteDelayMS)")
      ->check(CLI::Range(int64_t{0}, store::kMaxBatchWriteDelayMs))
      ->capture_default_str();
  cmd->add_option("--process-expiration-seconds", options->process_expiration_seconds,
                  "How long a pid keeps mapping to its process after exit "
                  "(ProcessExpirationSeconds)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--filters", options->filters_dir,
                  "Apply the filters of this configuration directory (filters.json, "
                  "<product>_filters.json, watchlist.json; see docs/filters.md)");
  cmd->add_option("--signals", options->signals_dir,
                  "Match the Sigma rules of this directory (docs/signals.md); matches go to "
                  "the signal_matches view");
  cmd->add_option("--signals-out", options->signals_out,
                  "Also write each signal match as a JSON line to FILE (appended), - for stdout");
  cmd->add_option("--node", options->node,
                  "Host name for the events of inputs that name none: BSM trails, audit "
                  "records without node= (not for Windows event logs, which name theirs)");
  cmd->add_flag("!--no-progress", options->progress, "No progress bar on stderr");
  // Hidden: the single-threaded pipeline, for benchmark comparisons and
  // for ruling the writer thread out when debugging.
  cmd->add_flag("!--single-thread", options->writer_thread,
                "Enrich, match and store on the reading thread (no other threads)")
      ->group("");
  cmd->callback([options, exit_code] { *exit_code = RunReplay(*options); });
}

}  // namespace recorder::cli
