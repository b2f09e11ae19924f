// Parser and assembler throughput, and heap allocations per record.
//
//   build/recorder_bench --benchmark_filter=Parse
//
// The corpus is tests/data/capture-raw.log (real kernel output from this
// machine) cycled to >= 1M lines with fresh serials, held in memory so
// that the numbers measure parsing, not the disk.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "assemble/event_assembler.h"
#include "normalize/normalizer.h"
#include "parse/record_parser.h"
#include "pipeline/pipeline.h"

// Counting allocator: every operator new in the process goes through here.
// (g++ cannot see that these malloc/free pairs match.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<uint64_t> g_allocations{0};
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace recorder {
namespace {

#ifndef RECORDER_BENCH_DATA
#define RECORDER_BENCH_DATA "tests/data"
#endif

constexpr size_t kTargetLines = 1'000'000;

struct Corpus {
  std::string text;                     // all lines, '\n'-separated
  std::vector<std::string_view> lines;  // views into text
};

// Rewrites ":SERIAL)" so every cycle of the sample is a distinct set of events.
std::string WithSerialOffset(const std::string& line, uint64_t offset) {
  size_t open = line.find("msg=audit(");
  if (open == std::string::npos) return line;
  size_t colon = line.find(':', open);
  size_t close = line.find(')', colon);
  if (colon == std::string::npos || close == std::string::npos) return line;
  uint64_t serial = std::strtoull(line.c_str() + colon + 1, nullptr, 10);
  return line.substr(0, colon + 1) + std::to_string(serial + offset) + line.substr(close);
}

const Corpus& LoadCorpus() {
  static const Corpus corpus = [] {
    std::vector<std::string> sample;
    std::ifstream in(std::string(RECORDER_BENCH_DATA) + "/capture-raw.log");
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) sample.push_back(line);
    if (sample.empty()) {
      std::fprintf(stderr, "no sample at %s/capture-raw.log\n", RECORDER_BENCH_DATA);
      std::exit(1);
    }
    Corpus c;
    for (uint64_t cycle = 0; c.lines.size() < kTargetLines; ++cycle) {
      for (const auto& line : sample) {
        c.text += WithSerialOffset(line, cycle * 1'000'000);
        c.text += '\n';
        c.lines.emplace_back();  // fixed up below, once text stops moving
      }
    }
    size_t pos = 0;
    for (auto& view : c.lines) {
      size_t end = c.text.find('\n', pos);
      view = std::string_view(c.text).substr(pos, end - pos);
      pos = end + 1;
    }
    return c;
  }();
  return corpus;
}

void ReportRates(benchmark::State& state, const Corpus& c, uint64_t allocations) {
  const double records = static_cast<double>(c.lines.size()) * state.iterations();
  state.SetBytesProcessed(static_cast<int64_t>(c.text.size()) * state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["lines"] = static_cast<double>(c.lines.size());
  state.counters["allocs_per_record"] = static_cast<double>(allocations) / records;
}

// The floor to approach: split on spaces and '=' with no quote handling.
void BM_NaiveKeyValueSplit(benchmark::State& state) {
  const Corpus& c = LoadCorpus();
  size_t fields = 0;
  for (auto _ : state) {
    for (std::string_view line : c.lines) {
      size_t pos = 0;
      while (pos < line.size()) {
        size_t space = line.find(' ', pos);
        if (space == std::string_view::npos) space = line.size();
        if (line.substr(pos, space - pos).find('=') != std::string_view::npos) ++fields;
        pos = space + 1;
      }
    }
    benchmark::DoNotOptimize(fields);
  }
  ReportRates(state, c, 0);
}
BENCHMARK(BM_NaiveKeyValueSplit)->Unit(benchmark::kMillisecond);

void BM_ParseRecordLine(benchmark::State& state) {
  const Corpus& c = LoadCorpus();
  AuditRecord record;
  record.fields.reserve(64);
  uint64_t bad = 0;
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    for (std::string_view line : c.lines)
      bad += ParseRecordLine(line, &record) != ParseError::kNone;
    benchmark::DoNotOptimize(record.fields.data());
  }
  ReportRates(state, c, g_allocations.load() - before);
  state.counters["malformed"] = static_cast<double>(bad);
}
BENCHMARK(BM_ParseRecordLine)->Unit(benchmark::kMillisecond);

void BM_ParseAndAssemble(benchmark::State& state) {
  const Corpus& c = LoadCorpus();
  uint64_t events = 0;
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    EventAssembler assembler;
    AuditRecord record;
    EventAssembler::EventList done;
    for (std::string_view line : c.lines) {
      // As the pipeline does: the header here, the fields in the
      // assembler's copy of the line.
      if (ParseRecordHeader(line, &record) != ParseError::kNone) continue;
      assembler.Feed(record, record.time_ms(), &done);
      events += done.size();
      assembler.Recycle(&done);  // as the pipeline does: events are reused
    }
    assembler.Flush(&done);
    events += done.size();
  }
  ReportRates(state, c, g_allocations.load() - before);
  state.counters["events"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseAndAssemble)->Unit(benchmark::kMillisecond);

class CountingSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    count += events->size();
    return Status::Ok();
  }
  uint64_t count = 0;
};

void BM_ParseAssembleNormalize(benchmark::State& state) {
  const Corpus& c = LoadCorpus();
  uint64_t typed = 0;
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    CountingSink sink;
    Pipeline pipeline(PipelineOptions{}, nullptr, &sink);
    for (std::string_view line : c.lines) (void)pipeline.FeedLine(line);
    (void)pipeline.Finish();
    typed += sink.count;
  }
  ReportRates(state, c, g_allocations.load() - before);
  state.counters["typed_events"] =
      benchmark::Counter(static_cast<double>(typed), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseAssembleNormalize)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recorder

BENCHMARK_MAIN();
