// `recorder replay`: audit logs (plain, .gz or stdin) through the whole
// pipeline into monitor.db. For loading logs from other machines or from
// before the recorder ran, and for benchmarking the store.
#include <signal.h>
#include <sqlite3.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "config/config.h"
#include "config/filter_locations.h"
#include "enrich/enriching_sink.h"
#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "filter/filter_loader.h"
#include "filter/filtering_sink.h"
#include "pipeline/pipeline.h"
#include "pipeline/threaded_sink.h"
#include "source/line_reader.h"
#include "store/event_store.h"

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

int64_t WallMs() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

// Keeps the first few problems with their place (FILE:LINE: reason) for
// the summary; counting is the pipeline's job.
class SummaryReporter : public ParseReporter {
 public:
  void set_reader(const LineReader* reader) { reader_ = reader; }
  void Malformed(uint64_t, ParseError error, std::string_view) override {
    Note(ParseErrorText(error));
  }
  void Truncated(uint64_t, std::string_view) override {
    Note("truncated record (unterminated quote), kept what parsed");
  }
  void Note(std::string_view reason) {
    if (examples_.size() < kMaxExamples)
      examples_.push_back(
          fmt::format("{}:{}: {}", reader_->path(), reader_->line_number(), reason));
  }
  const std::vector<std::string>& examples() const { return examples_; }

 private:
  static constexpr size_t kMaxExamples = 5;
  const LineReader* reader_ = nullptr;
  std::vector<std::string> examples_;
};

// A one-line progress bar on stderr, redrawn at most every 200 ms.
class Progress {
 public:
  Progress(uint64_t total_bytes, bool enabled) : total_(total_bytes), enabled_(enabled) {}
  void Update(uint64_t done_bytes) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double fraction = total_ ? std::min(1.0, double(done_bytes) / double(total_)) : 0;
    constexpr int kWidth = 40;
    int filled = static_cast<int>(fraction * kWidth);
    std::fprintf(stderr, "\r[%s%s] %3d%% %.1f/%.1f MB", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, ' ').c_str(), static_cast<int>(fraction * 100),
                 done_bytes / 1e6, total_ / 1e6);
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) std::fprintf(stderr, "\r%*s\r", 70, "");
    drawn_ = false;
  }

 private:
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
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
  std::vector<std::unique_ptr<LineReader>> readers;
  uint64_t total_bytes = 0;
  for (const std::string& file : options.files) {
    auto reader = LineReader::Open(file);
    if (!reader.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", reader.status().message().c_str());
      return kExitInput;
    }
    total_bytes += (*reader)->file_size();
    readers.push_back(std::move(reader).value());
  }

  if (options.db.empty()) {
    // The database the recorder writes with this configuration.
    Result<config::LoadedConfig> loaded =
        config::LoadConfig(config::ConfigDirFor(options.config_dir));
    if (!loaded.ok()) {
      std::fprintf(stderr, "recorder replay: %s\n", loaded.status().message().c_str());
      return kExitDatabase;
    }
    options.db = config::DbPathFor("", loaded->config);
  }

  // SQLite's allocation statistics take a global mutex on every malloc;
  // nobody reads them. Only possible before SQLite initializes (first
  // open); a no-op otherwise.
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  store::EventStoreOptions store_options;
  store_options.batch_write_delay_ms = options.batch_write_delay_ms;
  store_options.process_expiration_ms = options.process_expiration_seconds * 1000;
  auto store = store::EventStore::Open(options.db, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "recorder replay: %s\n", store.status().message().c_str());
    return kExitDatabase;
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
  table_options.keep_argv = filters != nullptr && filters->needs_argv();
  enrich::ProcessTable processes(table_options);
  // Filtering after enrichment: the table has applied each batch, so a
  // process exclusion reaches the descendants (docs/filters.md).
  enrich::TableLineage lineage(&processes);
  filter::FilteringSink filtering(store->get(), filters, &lineage);
  enrich::EnrichingSinkOptions enrich_options;
  enrich_options.probe_proc = false;
  enrich_options.hash_executables = false;
  // Two cores, wall-clock target: this thread reads, parses, assembles
  // and normalizes; a writer thread enriches (the process table) and
  // runs SQLite. The store and the process table are touched from here
  // again only after writer->Stop().
  // Enrichment is on the writer because there the two threads' CPU
  // balances on a realistic log; on this thread it makes this side the
  // slower one. A third thread taking audit events from this one costs
  // more in cache misses on the other core than it saves.
  enrich::EnrichingSink enricher(
      filters != nullptr ? static_cast<EventSink*>(&filtering) : store->get(), &processes,
      /*users=*/nullptr, /*hashes=*/nullptr, enrich_options);
  // The writer thread starts with SIGINT/SIGTERM blocked, so they reach
  // this thread and interrupt a read blocked on stdin.
  sigset_t interrupt_signals, old_mask;
  sigemptyset(&interrupt_signals);
  sigaddset(&interrupt_signals, SIGINT);
  sigaddset(&interrupt_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &interrupt_signals, &old_mask);
  std::optional<ThreadedSink> writer;
  if (options.writer_thread) writer.emplace(&enricher);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  Pipeline pipeline(PipelineOptions(), &reporter,
                    writer ? static_cast<EventSink*>(&*writer) : &enricher);
  Progress progress(total_bytes,
                    options.progress && isatty(STDERR_FILENO) && total_bytes >= (16u << 20));
  uint64_t too_long = 0, done_bytes = 0;
  int exit_code = 0;
  std::string error;
  InterruptGuard interrupt_guard;
  for (auto& reader : readers) {
    reporter.set_reader(reader.get());
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
  // Joins the writer (everything queued was written, or the first
  // error is known): from here on this thread owns the store again.
  Status writer_status = writer ? writer->Stop() : Status::Ok();
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
  run.error = error;
  Status status = (*store)->RecordRunStats(run, WallMs());
  if (status.ok()) status = (*store)->Flush();
  if (!status.ok() && (exit_code == 0 || exit_code == kExitInterrupted)) {
    error = status.message();
    exit_code = kExitDatabase;
  }

  const store::StoreCounters& c = (*store)->run_counters();
  std::printf("replayed %zu input(s) into %s: %llu lines, %.1f MB in %.2f s\n",
              options.files.size(), options.db.c_str(), static_cast<unsigned long long>(run.lines),
              run.bytes / 1e6, seconds);
  std::printf(
      "stored %llu events (%.0f events/s): %llu process starts, %llu process ends, "
      "%llu file, %llu network, %llu security, %llu module, %llu failed exec\n",
      static_cast<unsigned long long>(c.stored()), seconds > 0 ? c.stored() / seconds : 0.0,
      static_cast<unsigned long long>(c.process_starts),
      static_cast<unsigned long long>(c.process_ends),
      static_cast<unsigned long long>(c.file_events),
      static_cast<unsigned long long>(c.network_events),
      static_cast<unsigned long long>(c.security_events),
      static_cast<unsigned long long>(c.module_events),
      static_cast<unsigned long long>(c.failed_execs));
  std::printf(
      "skipped %llu audit events already stored; %llu placeholder processes; "
      "%llu audit events with nothing to store\n",
      static_cast<unsigned long long>(c.duplicates),
      static_cast<unsigned long long>(c.placeholder_processes),
      static_cast<unsigned long long>(run.ignored_events));
  if (filters != nullptr) {
    const filter::FilterStats fs = filtering.stats();
    std::string by_type;
    for (size_t t = 0; t < filter::kEventTypeCount; ++t)
      if (fs.dropped[t])
        by_type += fmt::format("{}{} {}", by_type.empty() ? "" : ", ", fs.dropped[t],
                               filter::EventTypeName(static_cast<filter::EventType>(t)));
    std::printf("filtered out %llu events%s%s%s\n",
                static_cast<unsigned long long>(fs.total_dropped()), by_type.empty() ? "" : " (",
                by_type.c_str(), by_type.empty() ? "" : ")");
  }
  std::printf("malformed lines: %llu, truncated records: %llu\n",
              static_cast<unsigned long long>(run.malformed),
              static_cast<unsigned long long>(run.truncated));
  for (const std::string& example : reporter.examples()) std::printf("  %s\n", example.c_str());
  // The two threads' CPU: on two idle cores the wall time is about the
  // larger one (shown so that a benchmark on a shared machine can tell
  // waiting for a core from working).
  // Waits: how often the reading thread found the writer's queue full
  // (the writer was the slower side then).
  std::printf(
      "cpu: reading thread %.2f s, writer thread %.2f s; reading thread waited %llu times\n",
      static_cast<double>(reader_cpu.tv_sec) + reader_cpu.tv_nsec / 1e9,
      writer ? writer->stats().writer_cpu_seconds : 0.0,
      static_cast<unsigned long long>(writer ? writer->stats().producer_waits : 0));
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
      "With --filters DIR, the events the filters of configuration directory DIR\n"
      "exclude are left out (docs/filters.md), and the summary counts them.\n"
      "\n"
      "Exit codes: 0 input read and stored; 1 an input cannot be opened or read, or\n"
      "is not an audit log (no line of it is an audit record); 2 a usage error (a bad\n"
      "filter file under --filters included), or a database error (cannot create or\n"
      "write --db, not a recorder database, or a schema newer than this recorder);\n"
      "130 interrupted (Ctrl-C or SIGTERM: what was read before is stored, and the\n"
      "run's error says so).");
  cmd->add_option("FILE", options->files, "Audit log files (plain or .gz); - for stdin");
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
  cmd->add_flag("!--no-progress", options->progress, "No progress bar on stderr");
  // Hidden: the single-threaded pipeline, for benchmark comparisons and
  // for ruling the writer thread out when debugging.
  cmd->add_flag("!--single-thread", options->writer_thread,
                "Enrich and store on the reading thread (no writer thread)")
      ->group("");
  cmd->callback([options, exit_code] { *exit_code = RunReplay(*options); });
}

}  // namespace recorder::cli
