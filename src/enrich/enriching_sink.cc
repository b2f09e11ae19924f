#include "enrich/enriching_sink.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "enrich/proc_dirfds.h"

namespace recorder::enrich {

namespace {
// Bound on remembered exe hashes (one per distinct program normally); a
// memo holds the slot in its low 16 bits, 0 meaning none.
constexpr size_t kMaxExeHashMemo = 0xFFFF;
// An image load comes from fanotify with nothing but a pid: the process
// table says who that is, so its row reads like an audit event's.
void CompleteSubject(const ProcessInfo& info, Subject* subject) {
  if (subject->exe.empty()) subject->exe = info.exe;
  if (subject->ppid == 0) subject->ppid = info.ppid;
  if (subject->uid == kUnsetId) subject->uid = info.uid;
  if (subject->euid == kUnsetId) subject->euid = info.euid;
  if (subject->gid == kUnsetId) subject->gid = info.gid;
  if (subject->egid == kUnsetId) subject->egid = info.egid;
  if (subject->auid == kUnsetId) subject->auid = info.auid;
}

}  // namespace

EnrichingSink::EnrichingSink(EventSink* next, ProcessTable* processes, UserNames* users,
                             HashWorker* hashes, EnrichingSinkOptions options,
                             std::function<int64_t()> clock)
    : next_(next),
      processes_(processes),
      users_(users),
      hashes_(hashes),
      options_(options),
      clock_(std::move(clock)) {
  if (options_.resolve_paths) {
    if (options_.live_paths) live_dirs_ = std::make_unique<ProcDirfds>();
    paths_ = std::make_unique<PathResolver>(options_.paths, live_dirs_.get());
  }
  if (options_.live_ports && options_.ports_on_thread) {
    port_worker_ = std::make_unique<PortLookupWorker>(options_.ports_max_batches);
  } else if (options_.live_ports) {
    sockets_ = std::make_unique<KernelSockets>();
    ports_ = std::make_unique<SocketPorts>(sockets_.get());
  }
}

const EnrichingSink::ExeHashes* EnrichingSink::Memo(uint32_t memo) const {
  const uint32_t slot = memo & 0xFFFF;
  if (slot == 0 || (memo >> 16) != (memo_generation_ & 0xFFFF) || slot > exe_hashes_.size())
    return nullptr;
  return &exe_hashes_[slot - 1];
}

uint32_t EnrichingSink::Remember(std::string_view exe, const std::string& sha256,
                                 const std::string& md5) {
  auto it = exe_hash_slots_.find(std::string(exe));
  if (it != exe_hash_slots_.end()) {
    const ExeHashes& known = exe_hashes_[it->second - 1];
    if (known.sha256 == sha256 && known.md5 == md5)
      return ((memo_generation_ & 0xFFFF) << 16) | it->second;
  }
  if (exe_hashes_.size() >= kMaxExeHashMemo) {
    // Start over: memos of the old generation no longer match.
    exe_hashes_.clear();
    exe_hash_slots_.clear();
    ++memo_generation_;
    if ((memo_generation_ & 0xFFFF) == 0) ++memo_generation_;
  }
  exe_hashes_.push_back(ExeHashes{std::string(exe), sha256, md5});
  const auto slot = static_cast<uint32_t>(exe_hashes_.size());
  exe_hash_slots_[std::string(exe)] = slot;
  return ((memo_generation_ & 0xFFFF) << 16) | slot;
}

void EnrichingSink::Enrich(TypedEvent* event, int64_t now_ms) {
  ++stats_.events;
  const Subject& s = event->subject;
  const int64_t t = event->header.time_ms;
  Enrichment& out = event->enrichment;

  const ProcessInfo* info = nullptr;  // the subject's process instance, when known
  if (processes_ != nullptr && s.pid > 0) {
    const ProcessKey key = processes_->KeyOf(*event);
    bool is_exec = std::holds_alternative<ProcessStart>(event->body) && event->header.success;
    // Image loads and DNS queries come from monitors that know only the
    // pid, stamped when they were read.
    const bool is_image = std::holds_alternative<ImageLoadEvent>(event->body) ||
                          std::holds_alternative<DnsEvent>(event->body);
    auto find = [&] {
      // An image load is stamped when the monitor read it, possibly after
      // the loading process exited: take the instance that started last.
      return is_image ? processes_->LookupLatestStarted(key, t) : processes_->Lookup(key, t);
    };
    if (options_.probe_proc && !is_exec && key.node == kLocalNode && find() == nullptr) {
      ++stats_.proc_probes;
      processes_->SeedOne(s.pid, now_ms);
    }
    // An image load knows only its pid: it must not create or replace a
    // table entry (an empty exe would look like a missed exec).
    if (!is_image) processes_->Apply(*event, key);
    info = find();
    if (info == nullptr) {
      ++stats_.unknown_process;
    } else {
      if (is_image) CompleteSubject(*info, &event->subject);
      out.process_start_ms = info->start_known ? info->start_ms : -1;
      const ProcessInfo* parent = processes_->Parent(*info);
      out.parent_start_ms = parent != nullptr && parent->start_known ? parent->start_ms : -1;
    }
  }

  // uid/euid unset means the record had none (some user-space records):
  // leave the name empty. auid unset is meaningful: never logged in.
  // Without a users table (replay: the log's host's names are unknown)
  // the ids as text, as UserNames gives an id it has no name for.
  auto name = [&](int64_t id) {
    if (users_ != nullptr) return users_->UserName(id, now_ms);
    return id == kUnsetId ? std::string("unset") : std::to_string(id);
  };
  if (s.uid != kUnsetId) out.user = name(s.uid);
  if (s.euid != kUnsetId) out.euser = name(s.euid);
  out.login_user = name(s.auid);
  // A security event's acting user is the record's name for its uid, or
  // the uid as text when the record had only the number (every live
  // record): the same name as every other event's user column then.
  if (auto* security = std::get_if<SecurityEvent>(&event->body);
      security != nullptr && s.uid != kUnsetId && security->user == std::to_string(s.uid))
    security->user = out.user;

  if (hashes_ != nullptr && options_.hash_executables && !s.exe.empty()) {
    // A running image does not change when its file is replaced on disk,
    // so a process instance's hash is looked up once (at its exec or first
    // event) and reused: that saves a stat() per event, the dominant cost.
    const ExeHashes* memo = info != nullptr ? Memo(info->exe_hash_memo) : nullptr;
    if (memo != nullptr && memo->exe != s.exe) memo = nullptr;
    if (memo != nullptr) {
      ++stats_.hash_ready;
      out.exe_sha256 = memo->sha256;
      out.exe_md5 = memo->md5;
    } else {
      HashLookup lookup = hashes_->Lookup(s.exe);
      switch (lookup.state) {
        case HashState::kReady:
          ++stats_.hash_ready;
          if (info != nullptr) {
            processes_->SetExeHashMemo(*info,
                                       Remember(s.exe, lookup.hashes.sha256, lookup.hashes.md5));
          }
          out.exe_sha256 = std::move(lookup.hashes.sha256);
          out.exe_md5 = std::move(lookup.hashes.md5);
          break;
        case HashState::kPending:
          ++stats_.hash_pending;
          out.hash_note = kNotePending;
          break;
        case HashState::kUnavailable:
          ++stats_.hash_unavailable;
          out.hash_note = std::move(lookup.hashes.note);
          break;
      }
    }
  }
}

Status EnrichingSink::Consume(EventBatch* events) {
  const int64_t now = clock_();
  for (TypedEvent& event : *events) {
    // A Windows record brings its own context (user, hashes, parent by
    // ProcessGuid); this machine's process table is no part of it.
    if (event.windows != nullptr) continue;
    Enrich(&event, now);
    event_time_ms_ = std::max(event_time_ms_, event.header.time_ms);
  }
  if (port_worker_ != nullptr) {
    // Behind a batch still out, every batch waits its turn: order is kept.
    const bool needs = NeedsPortWorker(*events);
    if (needs || port_worker_->in_flight() > 0) {
      port_worker_->Submit(events);
      return ForwardPortsDone(now);
    }
    return Continue(events, now);
  }
  // At once, before events can wait for their paths: a process may close
  // its socket any moment.
  if (ports_ != nullptr) ports_->FillBatch(events);
  return Continue(events, now);
}

bool EnrichingSink::NeedsPortWorker(const EventBatch& events) {
  // The worker bounds its listener cache itself; this set only needs to
  // stay small. Cleared, a remembered listener of an exited process may
  // outlive it, and is still checked against the descriptor's inode.
  constexpr size_t kMaxListenerPids = 65536;
  if (listener_pids_.size() > kMaxListenerPids) listener_pids_.clear();
  bool needs = false;
  for (const TypedEvent& event : events) {
    if (std::holds_alternative<ProcessEnd>(event.body)) {
      if (listener_pids_.erase(event.subject.pid) > 0) needs = true;
      continue;
    }
    if (!SocketPorts::Wants(event)) continue;
    needs = true;
    if (std::get<NetworkEvent>(event.body).direction != NetworkDirection::kOutbound)
      listener_pids_.insert(event.subject.pid);
  }
  return needs;
}

Status EnrichingSink::ForwardPortsDone(int64_t now) {
  while (port_worker_->TakeDone(&ports_done_)) {
    Status status = Continue(&ports_done_, now);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status EnrichingSink::Continue(EventBatch* events, int64_t now) {
  // An accept without any address that the lookups found no TCP listener
  // for (or none were made): dropped, as the normalizer does without them.
  SocketPorts::DropUnknownAccepts(events);
  // Expiry runs on event time, not the wall clock: a replayed log from
  // last week must keep its exited processes for ProcessExpirationSeconds
  // of *its* time, or every late event would miss its process.
  if (processes_ != nullptr && event_time_ms_ != INT64_MIN &&
      (last_age_ms_ == INT64_MIN || event_time_ms_ - last_age_ms_ >= options_.age_interval_ms)) {
    processes_->Age(event_time_ms_);
    last_age_ms_ = event_time_ms_;
  }
  if (paths_ != nullptr) {
    const size_t kept = paths_->Process(events, now);
    RefreshHashes(events, kept);
    if (events->empty()) return Status::Ok();
  }
  if (events->empty()) return Status::Ok();
  return next_->Consume(events);
}

PortLookupStats EnrichingSink::port_stats() const {
  PortLookupStats stats;
  if (port_worker_ != nullptr) stats = port_worker_->stats();
  if (ports_ != nullptr) stats.ports = ports_->stats();
  return stats;
}

void EnrichingSink::RefreshHashes(EventBatch* events, size_t from) {
  if (hashes_ == nullptr || !options_.hash_executables) return;
  for (size_t i = from; i < events->size(); ++i) {
    Enrichment& out = (*events)[i].enrichment;
    if (out.hash_note != kNotePending) continue;
    HashLookup lookup = hashes_->Lookup((*events)[i].subject.exe);
    if (lookup.state != HashState::kReady) continue;
    out.exe_sha256 = std::move(lookup.hashes.sha256);
    out.exe_md5 = std::move(lookup.hashes.md5);
    out.hash_note.clear();
  }
}

Status EnrichingSink::Tick(int64_t now_ms) {
  if (port_worker_ != nullptr) {
    Status forwarded = ForwardPortsDone(clock_());
    if (!forwarded.ok()) return forwarded;
  }
  if (paths_ == nullptr || paths_->held() == 0) return Status::Ok();
  released_.clear();
  paths_->Release(now_ms, &released_);
  if (released_.empty()) return Status::Ok();
  RefreshHashes(&released_, 0);
  return next_->Consume(&released_);
}

Status EnrichingSink::Flush() {
  if (port_worker_ != nullptr) {
    port_worker_->WaitIdle();
    Status forwarded = ForwardPortsDone(clock_());
    if (!forwarded.ok()) return forwarded;
  }
  if (paths_ != nullptr && paths_->held() > 0) {
    released_.clear();
    paths_->Flush(&released_);
    RefreshHashes(&released_, 0);
    Status status = next_->Consume(&released_);
    if (!status.ok()) return status;
  }
  return next_->Flush();
}

}  // namespace recorder::enrich
