// The filter stage alone: ns per event for 10, 100 and 1,000 rules (plus
// no filter at all), on an event mix shaped like a busy endpoint's, with
// the process table as the lineage (the live and replay wiring). Rules
// are a mix of every operator over every type, written to miss the
// events (a filter drops the few; the cost that matters is the many it
// keeps); a handful match, so drop paths run too.
//
//   build/recorder_bench --benchmark_filter=Filter
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "filter/compiled_filters.h"
#include "filter/filter_loader.h"
#include "normalize/event_codes.h"

namespace recorder::filter {
namespace {

// `count` rules: exe equals / cmdline contains (process), path prefixes,
// globs, suffixes and regexes (file), CIDRs and port ranges (network),
// users and modules. Rule i names things no event has, except every 97th.
std::string Rules(int count) {
  std::vector<std::string> process, file, network, security;
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    const bool hit = i % 97 == 96;
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
        process.push_back(R"({"exe": "/opt/vendor)" + n + R"(/bin/agent"})");
        break;
      case 3:
        process.push_back(R"({"cmdline": {"contains": "--job-id=)" + n + R"(x"}})");
        break;
      case 4:
      case 5:
        file.push_back(R"({"path": {"starts_with": ")" +
                       (hit ? std::string("/var/tmp/app/") : "/srv/data" + n + "/") + R"("}})");
        break;
      case 6:
        file.push_back(R"({"path": {"glob": "/home/*/.cache/app)" + n + R"(/**"}})");
        break;
      case 7:
        file.push_back(R"({"path": {"ends_with": ".)" + n + R"(.swp", "case_insensitive": true}})");
        break;
      case 8:
        network.push_back(R"({"remote_address": "10.)" + std::to_string(100 + i % 150) + "." +
                          std::to_string(i % 250) + R"(.0/24", "remote_port": ")" +
                          std::to_string(1000 + i) + "-" + std::to_string(1010 + i) + R"("})");
        break;
      case 9:
        if (i % 20 == 9)
          file.push_back(R"({"path": {"regex": "^/var/lib/pkg)" + n + R"(/[0-9]+\\.db$"}})");
        else
          security.push_back(R"({"user": "svc)" + n + R"("})");
        break;
    }
  }
  auto list = [](const std::vector<std::string>& rules) {
    std::string out;
    for (const std::string& r : rules) out += (out.empty() ? "" : ",") + r;
    return "[" + out + "]";
  };
  return R"({"process": {"exclude": )" + list(process) + R"(}, "file": {"exclude": )" + list(file) +
         R"(}, "network": {"exclude": )" + list(network) + R"(}, "security": {"exclude": )" +
         list(security) + "}}";
}

// A busy endpoint's mix: per process an exec, file writes, a rename, a
// connect and an exit, over a few hundred live processes.
std::vector<TypedEvent> Events(enrich::ProcessTable* table) {
  std::vector<TypedEvent> events;
  int64_t t = 1'700'000'000'000;
  for (int32_t pid = 2000; pid < 2400; ++pid) {
    const int64_t exec_ms = t + 1;
    auto base = [&](EventBody body) {
      TypedEvent e;
      e.header.time_ms = ++t;
      e.header.syscall = "openat";
      e.subject.pid = pid;
      e.subject.ppid = pid % 7 == 0 ? 1 : pid - 1;
      e.subject.uid = e.subject.euid = 1000;
      e.subject.auid = 1000;
      e.subject.exe = pid % 3 ? "/usr/bin/python3.11" : "/usr/bin/bash";
      e.enrichment.user = "app";
      e.enrichment.process_start_ms = exec_ms;  // as the enricher sets it
      e.body = std::move(body);
      return e;
    };
    ProcessStart start;
    start.argv = {"/usr/bin/python3", "/opt/app/worker.py", "--job-id=" + std::to_string(pid)};
    TypedEvent exec = base(start);
    exec.header.syscall = "execve";
    table->Apply(exec);
    events.push_back(exec);
    FileEvent f;
    f.operation = FileOperation::kWrite;
    f.path = "/var/tmp/app/out-" + std::to_string(pid % 200) + ".json";
    events.push_back(base(f));
    f.path = "/home/app/.local/share/app/state-" + std::to_string(pid % 50);
    events.push_back(base(f));
    f.operation = FileOperation::kRename;
    f.path = "/srv/app/tmp/" + std::to_string(pid);
    f.new_path = "/srv/app/done/" + std::to_string(pid);
    events.push_back(base(f));
    NetworkEvent n;
    n.protocol = NetworkProtocol::kTcp;
    n.family = AddressFamily::kInet;
    n.remote_address = "10." + std::to_string(pid % 200) + ".0." + std::to_string(pid % 250);
    n.remote_port = 443;
    n.local_address = "10.1.1.1";
    n.local_port = 40000 + pid % 1000;
    events.push_back(base(n));
    events.push_back(base(ProcessEnd{0}));
  }
  return events;
}

void BM_FilterDecide(benchmark::State& state) {
  enrich::ProcessTableOptions options;
  options.proc_root = "/nonexistent";
  enrich::ProcessTable table(options);
  enrich::TableLineage lineage(&table);
  const std::vector<TypedEvent> events = Events(&table);
  const int rules = static_cast<int>(state.range(0));
  std::vector<FilterText> files;
  if (rules > 0) files.push_back({"filters.json", Rules(rules)});
  Result<LoadedFilters> loaded = CompileFilterTexts(files, std::nullopt);
  if (!loaded.ok()) {
    state.SkipWithError(loaded.status().message().c_str());
    return;
  }
  const CompiledFilters& filters = *loaded->filters;
  MatchScratch scratch;
  size_t kept = 0;
  for (auto _ : state) {
    for (const TypedEvent& e : events) kept += filters.Keep(e, &lineage, &scratch);
  }
  benchmark::DoNotOptimize(kept);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
  // Seconds per event, shown by the library with a unit (e.g. "95ns").
  state.counters["per_event"] =
      benchmark::Counter(static_cast<double>(state.iterations() * events.size()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["kept_pct"] =
      100.0 * static_cast<double>(kept) / static_cast<double>(state.iterations() * events.size());
}
BENCHMARK(BM_FilterDecide)->Arg(0)->Arg(10)->Arg(100)->Arg(1000);

void BM_FilterCompile(benchmark::State& state) {
  const std::string text = Rules(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    Result<LoadedFilters> loaded = CompileFilterTexts({{"filters.json", text}}, std::nullopt);
    benchmark::DoNotOptimize(loaded.ok());
  }
}
BENCHMARK(BM_FilterCompile)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recorder::filter
