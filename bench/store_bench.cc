// The event store alone: typed events already built, written into a real
// monitor.db file (WAL, batched). Separates the store's cost from
// parsing/normalizing in bench/replay_bench.sh.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "store/event_store.h"

namespace recorder::store {
namespace {

// A mix shaped like the captured workload: per process an exec, two file
// events, a connect and an exit; exe/cwd/paths repeat (interned).
EventBatch Batch(uint64_t first_serial, int32_t first_pid, size_t count) {
  EventBatch events;
  events.reserve(count);
  uint64_t serial = first_serial;
  int32_t pid = first_pid;
  while (events.size() < count) {
    auto base = [&](EventBody body) {
      TypedEvent e;
      e.header.serial = serial;
      e.header.time_ms = 1700000000000 + static_cast<int64_t>(serial);
      ++serial;
      e.subject.pid = pid;
      e.subject.ppid = 1000;
      e.subject.uid = e.subject.euid = 0;
      e.subject.auid = 1000;
      e.subject.ses = 2;
      e.subject.exe = "/usr/bin/python3.11";
      e.subject.comm = "python3";
      e.body = std::move(body);
      return e;
    };
    ProcessStart start;
    start.argv = {"/usr/bin/python3", "/opt/app/worker.py", "--job", std::to_string(pid % 50)};
    start.cwd = "/opt/app";
    events.push_back(base(start));
    FileEvent f;
    f.operation = FileOperation::kCreate;
    f.path = "/var/tmp/app/out-" + std::to_string(pid % 200) + ".json";
    events.push_back(base(f));
    f.operation = FileOperation::kRename;
    f.new_path = "/var/tmp/app/done-" + std::to_string(pid % 200) + ".json";
    events.push_back(base(f));
    NetworkEvent n;
    n.protocol = "tcp";
    n.family = "ipv4";
    n.remote_address = "10.0.0." + std::to_string(pid % 20);
    n.remote_port = 443;
    events.push_back(base(n));
    events.push_back(base(ProcessEnd{0}));
    ++pid;
  }
  return events;
}

void BM_StoreAdd(benchmark::State& state) {
  const std::string dir = "/tmp/recorder-store-bench." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto store = EventStore::Open(dir + "/monitor.db");
  if (!store.ok()) {
    state.SkipWithError(store.status().message().c_str());
    return;
  }
  constexpr size_t kBatch = 1024;
  uint64_t serial = 1;
  int32_t pid = 1000;
  int64_t now = 0;
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    EventBatch batch = Batch(serial, pid, kBatch);
    serial += kBatch + 5;
    pid += kBatch / 5 + 1;
    state.ResumeTiming();
    Status status = (*store)->Add(&batch, now += 10);
    if (!status.ok()) state.SkipWithError(status.message().c_str());
    events += kBatch;
  }
  (void)(*store)->Flush();
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.counters["bytes_per_event"] =
      benchmark::Counter(static_cast<double>(std::filesystem::file_size(dir + "/monitor.db")) /
                         static_cast<double>(events));
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreAdd)->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
}  // namespace recorder::store
