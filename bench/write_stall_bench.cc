// The longest write stall of the live recorder's writer thread while the
// database cleanup runs and across an archive switch (BENCHMARKS.md
// "Write stalls"). The daemon's writer path, without the kernel: a
// producer thread (the event loop) streams file events at a fixed rate
// into a ThreadedSink with PendingEventCap, whose writer feeds the
// CleanupPacer, the DiskGateSink and the store of a LiveDatabase on a real
// file; every tick (250 ms) the producer posts the store's commit tick and
// the cleanup's Run, as the daemon does. A meter between the pacer and the
// store times the gap between consecutive batches written: the longest
// gap is the longest stall.
//
//   BM_WriteStall/0  baseline: the file stays under maxSizeMB
//   BM_WriteStall/1  cleanup: the file starts at 2.5 x maxSizeMB
//   BM_WriteStall/2  archive switch: `recorder recreate-db` in the middle
//                    (the writer is flushed, the file moved aside and a
//                    fresh one opened; the compression runs beside it)
//
// Run: build/recorder_bench --benchmark_filter=WriteStall
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/disk_space.h"
#include "daemon/limit_tasks.h"
#include "daemon/live_database.h"
#include "pipeline/threaded_sink.h"
#include "store/retention.h"

namespace recorder::daemon {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// Times the gap between consecutive batches passed on (writer thread).
class StallMeter : public EventSink {
 public:
  explicit StallMeter(EventSink* next) : next_(next) {}
  Status Consume(EventBatch* events) override {
    Status status = next_->Consume(events);
    Note();
    return status;
  }
  Status Flush() override { return next_->Flush(); }
  void Note() {
    const Clock::time_point now = Clock::now();
    if (measuring_ && last_ != Clock::time_point()) {
      const double gap_ms = std::chrono::duration<double, std::milli>(now - last_).count();
      longest_ms_ = std::max(longest_ms_.load(), gap_ms);
      gaps_.push_back(gap_ms);
    }
    last_ = now;
  }
  void Start() { measuring_ = true; }
  double longest_ms() const { return longest_ms_; }
  // After the writer stopped.
  double Percentile(double p) {
    if (gaps_.empty()) return 0;
    std::sort(gaps_.begin(), gaps_.end());
    return gaps_[static_cast<size_t>(p * static_cast<double>(gaps_.size() - 1))];
  }

 private:
  EventSink* next_;
  std::atomic<bool> measuring_{false};
  Clock::time_point last_;
  std::atomic<double> longest_ms_{0};
  std::vector<double> gaps_;
};

// `count` file events of one process over 1000 paths (the interned
// strings, which cleanup keeps, stay few).
void FillBatch(EventBatch* batch, size_t count, uint64_t* serial) {
  batch->clear();
  for (size_t i = 0; i < count; ++i) {
    TypedEvent e;
    e.header.time_ms = NowMs();
    e.header.serial = ++*serial;
    e.subject.pid = 4242;
    e.subject.ppid = 1;
    e.subject.exe = "/usr/bin/bash";
    e.subject.comm = "bash";
    FileEvent f;
    f.operation = FileOperation::kWrite;
    f.path = "/var/tmp/flood/f" + std::to_string(*serial % 1000);
    e.body = std::move(f);
    batch->push_back(std::move(e));
  }
}

void BM_WriteStall(benchmark::State& state) {
  const int scenario = static_cast<int>(state.range(0));
  constexpr int64_t kMaxMB = 10;
  constexpr size_t kBatch = 256;
  constexpr int64_t kEventsPerSecond = 20'000;
  constexpr int64_t kStreamMs = 12'000;
  const std::string dir =
      std::filesystem::temp_directory_path() / ("recorder-stall-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  config::RecorderConfig config = config::DefaultConfig(dir);
  config.max_size_mb = kMaxMB;
  config.database_archive_limit = 1;
  LiveDatabase::Options options;
  options.path = dir + "/monitor.db";
  options.run_source = "live:bench";
  options.store.background_checkpoint = true;
  options.store.chunk_size_bytes = ChunkSizeBytesFor(config);
  uint64_t serial = 0;
  EventBatch batch;
  {
    // The file before the stream: 2.5 x maxSizeMB for the cleanup, 4 x
    // for the switch (an archive worth compressing), small otherwise.
    auto fill = store::EventStore::Open(options.path, options.store);
    const int64_t fill_bytes = scenario == 1   ? kMaxMB * store::kBytesPerMB * 5 / 2
                               : scenario == 2 ? 4 * kMaxMB * store::kBytesPerMB
                                               : 0;
    while (fill.ok()) {
      std::error_code error;
      const auto size = std::filesystem::file_size(options.path, error);
      const auto wal = std::filesystem::file_size(options.path + "-wal", error);
      if (static_cast<int64_t>(size + (error ? 0 : wal)) >= fill_bytes) break;
      FillBatch(&batch, 4096, &serial);
      if (!(*fill)->Add(&batch, 0).ok() || !(*fill)->Flush().ok()) break;
    }
  }
  if (scenario != 1) config.max_size_mb = 0;  // no size cleanup but in /1
  auto live = LiveDatabase::Open(options, config.database_archive_limit, NowMs());
  if (!live.ok()) {
    state.SkipWithError(live.status().message().c_str());
    return;
  }
  LiveDatabase* db = live->get();
  DiskGateSink gate(db->store());
  StallMeter meter(&gate);
  CleanupTask cleanup(db->store(), config, 250, 500, MonoMs(), [](const std::string&) {});
  CleanupPacer pacer(&meter, &cleanup, NowMs);
  ThreadedSinkOptions writer_options;
  writer_options.max_pending_events = 100'000;
  double switch_ms = 0, compress_ms = 0;
  std::thread compress_waiter;
  for (auto _ : state) {
    ThreadedSink writer(&pacer, writer_options);
    meter.Start();
    const int64_t start = MonoMs();
    int64_t next_tick = start;
    int64_t sent = 0;
    bool switched = false;
    while (MonoMs() - start < kStreamMs) {
      const int64_t now = MonoMs();
      if (now >= next_tick) {
        next_tick += 250;
        (void)writer.Post([&] { return gate.Absorb(db->store()->Tick(MonoMs())); });
        (void)writer.Post([&] { return cleanup.Run({MonoMs(), NowMs()}); });
      }
      if (scenario == 2 && !switched && now - start >= kStreamMs / 2) {
        // As Daemon::SwitchDatabase: the writer finishes what it holds,
        // then the file is switched on this thread.
        switched = true;
        const Clock::time_point t0 = Clock::now();
        (void)writer.Flush();
        auto event = db->Switch(LiveDatabase::SwitchKind::kArchive, "bench", 1, {}, NowMs());
        gate.set_store(db->store());
        cleanup.SetStore(db->store());
        switch_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!event.ok()) state.SkipWithError(event.status().message().c_str());
        const Clock::time_point c0 = Clock::now();
        compress_waiter = std::thread([db, c0, &compress_ms] {
          db->FinishArchives();
          compress_ms = std::chrono::duration<double, std::milli>(Clock::now() - c0).count();
        });
      }
      // The rate: batches of kBatch at kEventsPerSecond.
      if (sent * 1000 / kEventsPerSecond > now - start) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      FillBatch(&batch, kBatch, &serial);
      sent += static_cast<int64_t>(kBatch);
      (void)writer.Consume(&batch);
    }
    (void)writer.Flush();
    const ThreadedSinkStats stats = writer.StatsNow();
    (void)writer.Stop();
    state.counters["events_dropped_at_cap"] = static_cast<double>(stats.dropped);
  }
  if (compress_waiter.joinable()) compress_waiter.join();
  state.counters["longest_stall_ms"] = meter.longest_ms();
  state.counters["p99_gap_ms"] = meter.Percentile(0.99);
  if (cleanup.last_run()) {
    state.counters["db_mb_after_cleanup"] =
        static_cast<double>(cleanup.last_run()->after.total_bytes()) / store::kBytesPerMB;
  }
  if (scenario == 2) {
    state.counters["switch_ms"] = switch_ms;
    state.counters["background_compress_ms"] = compress_ms;
  }
  live->reset();
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_WriteStall)->Arg(0)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recorder::daemon
