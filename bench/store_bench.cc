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
#include "store/sqlite_db.h"

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
    n.protocol = NetworkProtocol::kTcp;
    n.family = AddressFamily::kInet;
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

// Why batched_insert.h: 200,000 increasing audit keys appended to the
// audit_events shape, 1,000 per transaction, N rows per INSERT statement.
// For instruction counts (steadier than time on a VM), run one argument
// under callgrind:
//   valgrind --tool=callgrind build/recorder_bench --benchmark_filter='KeyAppend/1$'
void BM_KeyAppend(benchmark::State& state) {
  const int per_statement = static_cast<int>(state.range(0));
  const std::string dir = "/tmp/recorder-key-bench." + std::to_string(getpid());
  constexpr int kRows = 200000;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto db = Database::Open(dir + "/k.db",
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
    if (!db.ok() || !(*db)
                         ->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                "CREATE TABLE k(time INTEGER NOT NULL, serial INTEGER NOT NULL, "
                                "node_id INTEGER NOT NULL, process_id INTEGER, "
                                "PRIMARY KEY(time, serial, node_id)) WITHOUT ROWID")
                         .ok()) {
      state.SkipWithError("cannot create the table");
      return;
    }
    std::string sql = "INSERT INTO k(time, serial, node_id) VALUES ";
    for (int i = 0; i < per_statement; ++i) sql += i == 0 ? "(?, ?, ?)" : ", (?, ?, ?)";
    auto stmt = (*db)->Prepare(sql);
    if (!stmt.ok()) {
      state.SkipWithError(stmt.status().message().c_str());
      return;
    }
    state.ResumeTiming();
    int64_t time = 1764000000000, serial = 1000;
    for (int done = 0; done < kRows;) {
      (void)(*db)->Exec("BEGIN");
      for (int in_txn = 0; in_txn < 1000; in_txn += per_statement, done += per_statement) {
        for (int i = 0; i < per_statement; ++i) {
          time += serial % 3 == 0;
          ++serial;
          (*stmt)->BindInt(3 * i + 1, time);
          (*stmt)->BindInt(3 * i + 2, serial);
          (*stmt)->BindInt(3 * i + 3, 1);
        }
        if (!(*stmt)->Run().ok()) state.SkipWithError("insert failed");
      }
      (void)(*db)->Exec("COMMIT");
    }
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_KeyAppend)->Arg(1)->Arg(10)->Arg(50)->Arg(200)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recorder::store
