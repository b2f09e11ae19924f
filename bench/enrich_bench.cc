// Enrichment cost on the event path.
//
//   build/recorder_bench --benchmark_filter=Enrich
//
// BM_EnrichExecEvent: CPU added per exec event (process-table update,
// hash-cache hit incl. the stat() of the exe, three user-name lookups),
// measured through EnrichingSink::Consume with a sink that drops events.
// BM_EnrichExecStorm: 2000 execs of distinct new 1 MiB binaries in a
// burst; reports the longest single Consume() call (the event-path stall)
// while the worker hashes behind it.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "enrich/enriching_sink.h"

namespace recorder::enrich {
namespace {

namespace fs = std::filesystem;

class NullSink : public EventSink {
 public:
  Status Consume(EventBatch*) override { return Status::Ok(); }
};

struct Fixture {
  fs::path dir;
  std::unique_ptr<ProcessTable> table;
  std::unique_ptr<UserNames> users;
  HashCache cache{65536};
  std::unique_ptr<HashWorker> worker;

  explicit Fixture(const std::string& name) {
    dir = fs::temp_directory_path() / fmt::format("enrich-bench-{}-{}", name, getpid());
    fs::remove_all(dir);
    fs::create_directories(dir / "proc/1");
    std::ofstream(dir / "proc/stat") << "btime 1700000000\n";
    std::ofstream(dir / "proc/1/stat")
        << "1 (init) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 0\n";
    fs::create_symlink("/sbin/init", dir / "proc/1/exe");
    std::ofstream passwd(dir / "passwd");
    for (int uid = 0; uid < 2000; ++uid)
      passwd << fmt::format("user{0}:x:{0}:{0}::/:/bin/sh\n", uid);
    passwd.close();
    std::ofstream(dir / "group") << "root:x:0:\n";
    ProcessTableOptions table_options;
    table_options.proc_root = (dir / "proc").string();
    table = std::make_unique<ProcessTable>(table_options);
    (void)table->SeedFromProc(0);
    UserNamesOptions user_options;
    user_options.passwd_path = (dir / "passwd").string();
    user_options.group_path = (dir / "group").string();
    users = std::make_unique<UserNames>(user_options);
    worker = std::make_unique<HashWorker>(&cache);
    worker->Start();
  }
  ~Fixture() {
    worker->Stop();
    fs::remove_all(dir);
  }
  // A 1 MiB file with distinct leading bytes (the rest sparse zeros).
  std::string MakeBinary(int i) {
    std::string path = (dir / fmt::format("bin{}", i)).string();
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0755);
    std::string head = fmt::format(
        "\x7f"
        "ELF binary number {}",
        i);
    (void)!write(fd, head.data(), head.size());
    (void)!ftruncate(fd, 1 << 20);
    close(fd);
    return path;
  }
};

double ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

TypedEvent ExecEvent(int pid, int64_t t, const std::string& exe) {
  TypedEvent e;
  e.header.time_ms = t;
  e.header.syscall = "execve";
  e.subject.pid = pid;
  e.subject.ppid = 1;
  e.subject.uid = 1000;
  e.subject.euid = 0;
  e.subject.auid = 1000;
  e.subject.exe = exe;
  e.body = ProcessStart{{"prog", "--flag", "arg"}, 3, false, "/", ""};
  return e;
}

void BM_EnrichExecEvent(benchmark::State& state) {
  constexpr int kExecsPerBatch = 100;
  const bool hashing = state.range(0) != 0;
  Fixture fixture("exec");
  std::string exe = fixture.MakeBinary(0);
  NullSink null;
  EnrichingSinkOptions options;
  options.hash_executables = hashing;
  EnrichingSink sink(&null, fixture.table.get(), fixture.users.get(), fixture.worker.get(), options,
                     [] { return int64_t{1'800'000'000'000}; });
  // Warm the hash cache: the steady state is a hit.
  (void)fixture.worker->Lookup(exe);
  fixture.worker->WaitIdle(10'000);

  // Each exec is followed by its exit, as in real traffic; 10 ms of event
  // time apart, so expiry (180 s) keeps the table at ~18000 instances.
  EventBatch batch;
  int64_t t = 1'800'000'000'000;
  int pid = 1000;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    for (int i = 0; i < kExecsPerBatch; ++i) {
      batch.push_back(ExecEvent(pid, t, exe));
      TypedEvent exit = ExecEvent(pid, t + 5, exe);
      exit.body = ProcessEnd{0};
      batch.push_back(std::move(exit));
      t += 10;
      pid = pid >= 4'000'000 ? 1000 : pid + 1;
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(sink.Consume(&batch));
  }
  state.counters["table_size"] = static_cast<double>(fixture.table->size());
  state.counters["hash_hits"] = static_cast<double>(sink.stats().hash_ready);
  // CPU seconds per exec (the exec event plus its exit event).
  state.counters["per_exec"] = benchmark::Counter(
      kExecsPerBatch, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EnrichExecEvent)->Arg(1)->Arg(0)->ArgName("hashing");

void BM_EnrichExecStorm(benchmark::State& state) {
  constexpr int kBinaries = 2000;
  Fixture fixture("storm");
  std::vector<std::string> binaries;
  for (int i = 0; i < kBinaries; ++i) binaries.push_back(fixture.MakeBinary(i));
  NullSink null;
  EnrichingSink sink(&null, fixture.table.get(), fixture.users.get(), fixture.worker.get(), {},
                     [] { return int64_t{1'800'000'000'000}; });
  {
    // First use loads the user files (once per process, not per exec).
    EventBatch warm;
    warm.push_back(ExecEvent(1, 1'799'000'000'000, "/nonexistent"));
    (void)sink.Consume(&warm);
  }
  std::vector<double> stalls_us;
  stalls_us.reserve(kBinaries);
  // Wall time includes being descheduled (2 cores shared with the hash
  // worker and anything else running); CPU time is what the call cost.
  double max_cpu_us = 0;
  for (auto _ : state) {
    EventBatch batch;
    int64_t t = 1'800'000'000'000;
    for (int i = 0; i < kBinaries; ++i) {
      batch.clear();
      batch.push_back(ExecEvent(2000 + i, t + i, binaries[i]));
      double cpu_start = ThreadCpuUs();
      auto start = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(sink.Consume(&batch));
      auto stop = std::chrono::steady_clock::now();
      stalls_us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
      max_cpu_us = std::max(max_cpu_us, ThreadCpuUs() - cpu_start);
    }
  }
  auto drained_start = std::chrono::steady_clock::now();
  fixture.worker->WaitIdle(120'000);
  double drain_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - drained_start)
          .count();
  std::sort(stalls_us.begin(), stalls_us.end());
  HashWorkerStats stats = fixture.worker->stats();
  state.counters["max_stall_us"] = stalls_us.back();
  state.counters["max_cpu_us"] = max_cpu_us;
  state.counters["p99_stall_us"] = stalls_us[stalls_us.size() * 99 / 100];
  state.counters["median_us"] = stalls_us[stalls_us.size() / 2];
  state.counters["p999_stall_us"] = stalls_us[stalls_us.size() * 999 / 1000];
  state.counters["queued"] = static_cast<double>(stats.queued);
  state.counters["dropped"] = static_cast<double>(stats.dropped);
  state.counters["hashed"] = static_cast<double>(stats.hashed);
  state.counters["drain_ms"] = drain_ms;
}
BENCHMARK(BM_EnrichExecStorm)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recorder::enrich
