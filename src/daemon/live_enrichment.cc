#include "daemon/live_enrichment.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <utility>

namespace recorder::daemon {
namespace {

// Library loads are held this long before they are stored: the audit
// record of the exec that loaded them travels through kauditd and the
// assembler and must reach the process table first, or the load would be
// attributed to the image the pid ran before. It also gives the hash
// worker time to hash the library.
constexpr int64_t kImageHoldMs = 1000;
// At shutdown, how long the hashes of the last execs are waited for; the
// rows say "pending" until the next start otherwise.
constexpr int64_t kLastHashesWaitMs = 2000;

}  // namespace

LiveEnrichment::LiveEnrichment(const std::string& state_dir, int64_t process_expiration_seconds,
                               EventSink* next, int64_t now_wall,
                               std::shared_ptr<const filter::CompiledFilters> filters,
                               std::shared_ptr<const signals::SignalMatcher> signals,
                               std::FILE* signals_out)
    : state_dir_(state_dir) {
  std::error_code error;
  std::filesystem::create_directories(state_dir_, error);
  // Saving the state then fails and says so; recording goes on.
  if (error) spdlog::warn("cannot create the state directory {}: {}", state_dir_, error.message());
  enrich::ProcessTableOptions table_options;
  table_options.expiration_seconds = process_expiration_seconds;
  processes_ = std::make_unique<enrich::ProcessTable>(table_options);
  // The saved table keeps what /proc no longer shows: the start times and
  // parents of processes that exec'd while we watched. A missing file is
  // the first start; a bad one is reported and replaced.
  if (std::filesystem::exists(ProcessStatePath(), error)) {
    Status loaded = processes_->LoadState(ProcessStatePath());
    if (!loaded.ok())
      spdlog::warn("process state not loaded, starting fresh: {}", loaded.message());
  }
  Status seeded = processes_->SeedFromProc(now_wall);
  if (!seeded.ok()) spdlog::warn("reading /proc failed: {}", seeded.message());
  spdlog::info("process table: {} processes", processes_->size());

  hash_cache_ = std::make_unique<enrich::HashCache>();
  if (std::filesystem::exists(ImageStatePath(), error)) {
    Status loaded = hash_cache_->Load(ImageStatePath());
    if (!loaded.ok()) spdlog::warn("hash cache not loaded: {}", loaded.message());
  }
  hash_worker_ = std::make_unique<enrich::HashWorker>(hash_cache_.get());
  hash_worker_->Start();
  users_ = std::make_unique<enrich::UserNames>();
  enrich::EnrichingSinkOptions enrich_options;
  enrich_options.probe_proc = true;
  enrich_options.hash_executables = true;
  enrich_options.live_paths = true;
  enrich_options.live_ports = true;
  // Off the event loop: a burst of connects must not delay reading audit.
  enrich_options.ports_on_thread = true;
  // Always in the chain, also without filters: a reload may bring some.
  lineage_ = std::make_unique<enrich::TableLineage>(processes_.get());
  signals_ =
      std::make_unique<signals::SignalSink>(next, std::move(signals), lineage_.get(), signals_out);
  filtering_ =
      std::make_unique<filter::FilteringSink>(signals_.get(), std::move(filters), lineage_.get());
  enricher_ = std::make_unique<enrich::EnrichingSink>(
      filtering_.get(), processes_.get(), users_.get(), hash_worker_.get(), enrich_options);
}

LiveEnrichment::~LiveEnrichment() = default;

void LiveEnrichment::ResumePendingHashes(store::EventStore* store) {
  Result<std::vector<std::string>> exes = store->AdoptPendingHashes();
  if (!exes.ok()) {
    spdlog::warn("looking for hashes left pending: {}", exes.status().message());
    return;
  }
  for (const std::string& exe : *exes) {
    enrich::HashLookup lookup = hash_worker_->Lookup(exe);
    if (lookup.state == enrich::HashState::kPending) continue;  // a completion follows
    Result<int64_t> updated =
        store->UpdateHashes(exe, lookup.hashes.sha256, lookup.hashes.md5, lookup.hashes.note);
    if (!updated.ok())
      spdlog::warn("storing the hash of {} failed: {}", exe, updated.status().message());
  }
  if (!exes->empty())
    spdlog::info("{} executables left without a hash by the previous run: hashing them",
                 exes->size());
}

void LiveEnrichment::StoreHashCompletions(store::EventStore* store,
                                          const std::vector<enrich::HashCompletion>& done) {
  if (!store) return;
  for (const enrich::HashCompletion& c : done) {
    Result<int64_t> updated =
        store->UpdateHashes(c.path, c.hashes.sha256, c.hashes.md5, c.hashes.note);
    if (!updated.ok())
      spdlog::warn("storing the hash of {} failed: {}", c.path, updated.status().message());
  }
}

void LiveEnrichment::SaveState() {
  Status saved = processes_->SaveState(ProcessStatePath());
  if (!saved.ok()) spdlog::warn("saving the process state failed: {}", saved.message());
  saved = hash_cache_->Save(ImageStatePath());
  if (!saved.ok()) spdlog::warn("saving the hash cache failed: {}", saved.message());
}

Status LiveEnrichment::ConfigureImageMonitor(bool enabled, RecordingSink* out, int64_t now_wall) {
  if (!enabled) return StopImageMonitor(out, now_wall);
  StartImageMonitor();
  return Status::Ok();
}

void LiveEnrichment::StartImageMonitor() {
  if (images_) return;
  enrich::ImageLoadMonitorOptions image_options;
  image_options.enabled = true;
  images_ = std::make_unique<enrich::ImageLoadMonitor>(image_options);
  Status started = images_->Start();
  if (!started.ok()) {
    // Recording goes on without library loads; status says why.
    image_error_ = started.message();
    images_.reset();
    spdlog::error("MonitorImageLoad: library loads are not recorded: {}", image_error_);
    return;
  }
  image_error_.clear();
  spdlog::info("MonitorImageLoad: recording library loads (fanotify)");
}

Status LiveEnrichment::StopImageMonitor(RecordingSink* out, int64_t now_wall) {
  if (!images_) return Status::Ok();
  images_->Stop();
  Status fed = FeedImageLoads(out, now_wall, /*all=*/true);
  image_stats_before_ = image_stats();
  images_.reset();
  return fed;
}

enrich::ImageLoadStats LiveEnrichment::image_stats() const {
  enrich::ImageLoadStats total = image_stats_before_;
  if (!images_) return total;
  const enrich::ImageLoadStats now = images_->stats();
  total.events += now.events;
  total.libraries += now.libraries;
  total.executables += now.executables;
  total.not_library += now.not_library;
  total.overflows += now.overflows;
  total.dropped += now.dropped;
  total.marks_failed += now.marks_failed;
  return total;
}

Status LiveEnrichment::FeedImageLoads(RecordingSink* out, int64_t now_wall, bool all) {
  if (images_) {
    for (enrich::ImageLoad& load : images_->Take()) {
      TypedEvent event;
      event.header.time_ms = load.time_ms;
      event.subject.pid = load.pid;
      ImageLoadEvent body;
      body.executable = load.kind == enrich::ImageKind::kExecutable;
      // A cache hit answers now; a miss starts hashing, and by the time
      // the load is released the worker has usually finished.
      enrich::HashLookup hash = hash_worker_->Lookup(load.path);
      body.sha256 = std::move(hash.hashes.sha256);
      body.hash_note = std::move(hash.hashes.note);
      body.path = std::move(load.path);
      event.body = std::move(body);
      held_images_.push_back(std::move(event));
    }
  }
  EventBatch batch;
  while (!held_images_.empty() &&
         (all || held_images_.front().header.time_ms <= now_wall - kImageHoldMs)) {
    auto& body = std::get<ImageLoadEvent>(held_images_.front().body);
    if (body.hash_note == enrich::kNotePending) {
      enrich::HashLookup hash = hash_worker_->Lookup(body.path);
      body.sha256 = std::move(hash.hashes.sha256);
      body.hash_note = std::move(hash.hashes.note);
    }
    batch.push_back(std::move(held_images_.front()));
    held_images_.pop_front();
  }
  if (batch.empty()) return Status::Ok();
  out->set_now(now_wall);
  return out->Consume(&batch);
}

Status LiveEnrichment::FinishEvents(RecordingSink* out, int64_t now_wall) {
  // After the audit events: the loads' execs are in the table by now.
  Status fed = StopImageMonitor(out, now_wall);
  if (!fed.ok()) spdlog::error("storing the last library loads failed: {}", fed.message());
  return fed;
}

void LiveEnrichment::FinishHashes(store::EventStore* store) {
  if (!hash_worker_->WaitIdle(kLastHashesWaitMs))
    spdlog::warn(
        "hashing still busy after {} ms: executables it had not finished stay "
        "'pending' until the next start hashes them",
        kLastHashesWaitMs);
  hash_worker_->Stop();
  StoreHashes(store);
  SaveState();
}

}  // namespace recorder::daemon
