// `recorder parse`: audit logs in, typed events out as JSON lines. For
// looking at what the recorder would store without a database, and for
// checking the parser on logs from other machines.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bsm/bsm_reader.h"
#include "cli/commands.h"
#include "enrich/enriching_sink.h"
#include "evtx/evtx_reader.h"
#include "normalize/typed_event_json.h"
#include "pipeline/pipeline.h"
#include "source/line_reader.h"

namespace recorder::cli {
namespace {

class JsonLinesSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (const TypedEvent& e : *events) {
      std::string line = ToJson(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line.push_back('\n');
      if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size())
        return Status::Error("cannot write to stdout");
    }
    return Status::Ok();
  }
  Status Flush() override {
    return std::fflush(stdout) == 0 ? Status::Ok() : Status::Error("cannot write to stdout");
  }
};

// Prints the first few problems with their place; counts all of them.
class StderrReporter : public ParseReporter {
 public:
  void set_file(const std::string& file) { file_ = file; }
  void Malformed(uint64_t line_number, ParseError error, std::string_view) override {
    if (++reported_ <= kMaxReported)
      std::fprintf(stderr, "%s:%llu: skipped malformed line: %.*s\n", file_.c_str(),
                   static_cast<unsigned long long>(line_number),
                   static_cast<int>(ParseErrorText(error).size()), ParseErrorText(error).data());
  }
  void Truncated(uint64_t line_number, std::string_view) override {
    if (++reported_ <= kMaxReported)
      std::fprintf(stderr, "%s:%llu: truncated record (unterminated quote), kept what parsed\n",
                   file_.c_str(), static_cast<unsigned long long>(line_number));
  }

 private:
  static constexpr uint64_t kMaxReported = 20;
  std::string file_;
  uint64_t reported_ = 0;
};

// Damage in an EVTX file or a BSM trail on stderr as FILE:WHERE: reason,
// the first 20 and then how many in all.
class ProblemPrinter {
 public:
  // `what` names the problems in the closing count: "damaged records".
  ProblemPrinter(std::string file, const char* what) : file_(std::move(file)), what_(what) {}
  ~ProblemPrinter() {
    if (problems_ > 20)
      std::fprintf(stderr, "%s: %llu %s in all (the first 20 are above)\n", file_.c_str(),
                   static_cast<unsigned long long>(problems_), what_);
  }
  void Print(std::string_view where, std::string_view reason) {
    if (++problems_ <= 20)
      std::fprintf(stderr, "%s:%.*s: %.*s\n", file_.c_str(), static_cast<int>(where.size()),
                   where.data(), static_cast<int>(reason.size()), reason.data());
  }

 private:
  std::string file_;
  const char* what_;
  uint64_t problems_ = 0;
};

// Writes one JSON line to stdout; false once stdout cannot be written.
bool WriteLine(std::string line, bool* written) {
  line.push_back('\n');
  *written = *written && std::fwrite(line.data(), 1, line.size(), stdout) == line.size();
  return *written;
}

// A Windows event log: its records as JSON lines, the damage on stderr.
// Returns false when stdout cannot be written.
bool PrintEvtx(evtx::EvtxReader& reader, uint64_t* records) {
  bool written = true;
  ProblemPrinter problems(reader.name(), "damaged records");
  reader.ReadAll(
      [&](const evtx::EvtxRecord& record) { WriteLine(evtx::RecordJson(record), &written); },
      [&](const evtx::EvtxProblem& problem) { problems.Print(problem.where, problem.reason); },
      [&] { return written; });
  *records += reader.stats().records;
  return written;
}

// A BSM audit trail: its records as JSON lines, the damage on stderr as
// FILE:offset N: reason. Returns false when stdout cannot be written.
bool PrintBsm(const std::string& file, std::string_view trail, uint64_t* records) {
  bool written = true;
  ProblemPrinter problems(file, "damaged stretches");
  const bsm::BsmReadStats stats = bsm::ParseTrail(
      trail, [&](const bsm::BsmRecord& record) { WriteLine(bsm::RecordJson(record), &written); },
      [&](const bsm::BsmProblem& problem) {
        problems.Print(fmt::format("offset {}", problem.offset), problem.reason);
      },
      [&] { return written; });
  *records += stats.records;
  return written;
}

int RunParse(const std::vector<std::string>& files, bool keep_unix) {
  JsonLinesSink sink;
  // Only the enrich stage's path resolver, as replay has it (inode
  // chaining): names relative to a directory descriptor come out as the
  // database would store them.
  enrich::EnrichingSinkOptions paths_only;
  paths_only.hash_executables = false;
  enrich::EnrichingSink paths(&sink, /*processes=*/nullptr, /*users=*/nullptr,
                              /*hashes=*/nullptr, paths_only);
  StderrReporter reporter;
  PipelineOptions options;
  options.normalizer.keep_unix_sockets = keep_unix;
  Pipeline pipeline(options, &reporter, &paths);
  int exit_code = 0;
  uint64_t evtx_records = 0;
  uint64_t bsm_records = 0;
  for (const std::string& file : files) {
    auto evtx_reader = evtx::OpenIfEvtx(file);
    if (!evtx_reader.ok()) {
      std::fprintf(stderr, "recorder parse: %s\n", evtx_reader.status().message().c_str());
      exit_code = 1;
      continue;
    }
    if (*evtx_reader != nullptr) {
      if (!PrintEvtx(**evtx_reader, &evtx_records)) {
        std::fprintf(stderr, "recorder parse: cannot write to stdout\n");
        return 1;
      }
      continue;
    }
    bool is_bsm = false;
    Result<std::string> trail = bsm::ReadIfBsm(file, &is_bsm);
    if (!trail.ok()) {
      std::fprintf(stderr, "recorder parse: %s\n", trail.status().message().c_str());
      exit_code = 1;
      continue;
    }
    if (is_bsm) {
      if (!PrintBsm(file, *trail, &bsm_records)) {
        std::fprintf(stderr, "recorder parse: cannot write to stdout\n");
        return 1;
      }
      continue;
    }
    auto reader = LineReader::Open(file);
    if (!reader.ok()) {
      std::fprintf(stderr, "recorder parse: %s\n", reader.status().message().c_str());
      exit_code = 1;
      continue;
    }
    reporter.set_file(file);
    std::string_view line;
    for (;;) {
      LineReader::Next next = (*reader)->ReadLine(&line);
      if (next == LineReader::Next::kEnd) break;
      if (next == LineReader::Next::kError) {
        std::fprintf(stderr, "recorder parse: %s: read error: %s\n", file.c_str(),
                     (*reader)->error().c_str());
        exit_code = 1;
        break;
      }
      if (next == LineReader::Next::kTooLong) {
        reporter.Malformed((*reader)->line_number(), ParseError::kTooLong, line);
        continue;
      }
      if (Status s = pipeline.FeedLine(line); !s.ok()) {
        std::fprintf(stderr, "recorder parse: %s\n", s.message().c_str());
        return 1;
      }
    }
  }
  if (Status s = pipeline.Finish(); !s.ok()) {
    std::fprintf(stderr, "recorder parse: %s\n", s.message().c_str());
    return 1;
  }
  const PipelineStats& stats = pipeline.stats();
  if (stats.lines > 0 || evtx_records + bsm_records == 0)
    std::fprintf(stderr,
                 "recorder parse: %llu lines, %llu malformed, %llu truncated, %llu events\n",
                 static_cast<unsigned long long>(stats.lines),
                 static_cast<unsigned long long>(stats.malformed),
                 static_cast<unsigned long long>(stats.truncated),
                 static_cast<unsigned long long>(stats.typed_events));
  if (evtx_records > 0)
    std::fprintf(stderr, "recorder parse: %llu Windows event log records\n",
                 static_cast<unsigned long long>(evtx_records));
  if (bsm_records > 0)
    std::fprintf(stderr, "recorder parse: %llu BSM audit trail records\n",
                 static_cast<unsigned long long>(bsm_records));
  return exit_code;
}

}  // namespace

void AddParseCommand(CLI::App& app, int* exit_code) {
  CLI::App* sub = app.add_subcommand(
      "parse",
      "Read audit logs and print the typed events recorder would store, one JSON object per\n"
      "line, without touching any database. Accepts audit.log in RAW or ENRICHED format,\n"
      "node= prefixes, syslog-prefixed lines and .gz files. Malformed lines are reported on\n"
      "stderr as FILE:LINE: reason and skipped.\n"
      "A Windows event log (.evtx, plain or .gz, known by its content, not its name) is\n"
      "printed record by record instead: event_id, time, provider, computer and its values\n"
      "by name under \"data\"; damaged records are reported as FILE:record N: reason.\n"
      "A macOS/FreeBSD audit trail (OpenBSM, plain or .gz, known by its content) is printed\n"
      "record by record: event, time, subject, return and the tokens present; damage is\n"
      "reported as FILE:offset N: reason and reading resumes at the next whole record.\n"
      "Exit status: 0 when every input was read, 1 when an input could not be read.");
  auto files = std::make_shared<std::vector<std::string>>();
  auto keep_unix = std::make_shared<bool>(false);
  sub->add_option("files", *files, "audit log files; '-' for stdin")->required();
  sub->add_flag("--unix-sockets", *keep_unix, "also emit AF_UNIX connect/accept events");
  sub->footer(
      "Example: recorder parse /var/log/audit/audit.log | jq 'select(.event==\"process_start\")'");
  sub->callback([=] { *exit_code = RunParse(*files, *keep_unix); });
}

}  // namespace recorder::cli
