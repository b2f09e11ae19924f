#include "normalize/event_batch.h"

#include <stdexcept>

namespace recorder {

// A new member of these structs must be reset below too: these sizes make
// the build say so (they are libstdc++'s on 64-bit; elsewhere the
// unit test that compares a reset event with a fresh one still checks).
#if defined(__GLIBCXX__) && defined(__x86_64__)
static_assert(sizeof(EventHeader) == 168, "new EventHeader member: reset it in ResetEvent");
static_assert(sizeof(Subject) == 168, "new Subject member: reset it in ResetEvent");
static_assert(sizeof(Enrichment) == 208, "new Enrichment member: reset it in ResetEvent");
static_assert(sizeof(ProcessStart) == 112, "new ProcessStart member: reset it in ResetBodyValue");
static_assert(sizeof(FileEvent) == 192, "new FileEvent member: reset it in ResetBodyValue");
static_assert(sizeof(NetworkEvent) == 96, "new NetworkEvent member: reset it in ResetBodyValue");
static_assert(sizeof(SecurityEvent) == 208, "new SecurityEvent member: reset it in ResetBodyValue");
static_assert(sizeof(ModuleEvent) == 40, "new ModuleEvent member: reset it in ResetBodyValue");
static_assert(sizeof(ImageLoadEvent) == 104,
              "new ImageLoadEvent member: reset it in ResetBodyValue");
static_assert(sizeof(ExecFailure) == 72, "new ExecFailure member: reset it in ResetBodyValue");
static_assert(sizeof(DnsEvent) == 136, "new DnsEvent member: reset it in ResetBodyValue");
static_assert(sizeof(RegistryEvent) == 128, "new RegistryEvent member: reset it in ResetBodyValue");
#endif

void ResetBodyValue(ProcessStart* p) {
  p->argv.clear();
  p->argc = 0;
  p->argv_truncated = false;
  p->path_search_attempts = 0;
  p->cwd.clear();
  p->proctitle.clear();
}

void ResetBodyValue(ExecFailure* f) {
  f->path.clear();
  f->error = 0;
  f->cwd.clear();
}

void ResetBodyValue(ProcessEnd* p) { p->exit_code = 0; }

void ResetBodyValue(FileEvent* f) {
  f->operation = FileOperation::kWrite;
  f->path.clear();
  f->new_path.clear();
  f->mode = -1;
  f->owner_uid = kUnsetId;
  f->owner_gid = kUnsetId;
  f->path_origin = PathOrigin();
  f->new_path_origin = PathOrigin();
}

void ResetBodyValue(NetworkEvent* n) {
  n->direction = NetworkDirection::kOutbound;
  n->protocol = NetworkProtocol::kUnknown;
  n->family = AddressFamily::kOther;
  n->local_address.clear();
  n->local_port = -1;
  n->remote_address.clear();
  n->remote_port = -1;
  n->in_progress = false;
  n->local_unresolved = false;
  n->remote_unresolved = false;
  n->fd = -1;
  n->accepted_fd = -1;
}

void ResetBodyValue(SecurityEvent* s) {
  s->kind = SecurityKind::kAuthentication;
  s->record_type = SecurityRecordType::kUserAuth;
  s->user.clear();
  s->target_user.clear();
  s->result = SecurityResult::kSuccess;
  s->terminal.clear();
  s->address.clear();
  s->hostname.clear();
  s->detail.clear();
}

void ResetBodyValue(ModuleEvent* m) {
  m->operation = ModuleOperation::kLoad;
  m->module.clear();
}

void ResetBodyValue(ImageLoadEvent* i) {
  i->path.clear();
  i->executable = false;
  i->sha256.clear();
  i->hash_note.clear();
}

void ResetBodyValue(RegistryEvent* r) {
  r->event_type.clear();
  r->target_object.clear();
  r->details.clear();
  r->new_name.clear();
}

void ResetBodyValue(DnsEvent* d) {
  d->query.clear();
  d->query_type = 0;
  d->query_class = 0;
  d->id = 0;
  d->response_seen = false;
  d->rcode = 0;
  d->answers.clear();
  d->transport = NetworkProtocol::kUdp;
  d->family = AddressFamily::kOther;
  d->server_address.clear();
  d->server_port = -1;
  d->latency_us = -1;
  d->attribution = DnsAttribution::kNone;
}

void ResetEvent(TypedEvent* e) {
  EventHeader& h = e->header;
  h.node.clear();
  h.serial = 0;
  h.time_ms = 0;
  h.arch.clear();
  h.syscall.clear();
  h.key.clear();
  h.success = true;
  h.exit = 0;
  h.partial = false;

  Subject& s = e->subject;
  s.pid = 0;
  s.ppid = 0;
  s.uid = kUnsetId;
  s.euid = kUnsetId;
  s.suid = kUnsetId;
  s.fsuid = kUnsetId;
  s.gid = kUnsetId;
  s.egid = kUnsetId;
  s.auid = kUnsetId;
  s.ses = kUnsetId;
  s.tty.clear();
  s.comm.clear();
  s.exe.clear();

  std::visit([](auto& body) { ResetBodyValue(&body); }, e->body);

  Enrichment& n = e->enrichment;
  n.user.clear();
  n.euser.clear();
  n.login_user.clear();
  n.exe_sha256.clear();
  n.exe_md5.clear();
  n.hash_note.clear();
  n.process_start_ms = -1;
  n.parent_start_ms = -1;

  e->windows.reset();
  e->signals.clear();
  e->platform = Platform::kLinux;
}

EventBatch::EventBatch(const EventBatch& other)
    : slots_(other.begin(), other.end()), size_(other.size_) {}

EventBatch& EventBatch::operator=(const EventBatch& other) {
  if (this == &other) return *this;
  clear();
  for (const TypedEvent& event : other) push_back(event);
  return *this;
}

EventBatch::EventBatch(EventBatch&& other) noexcept
    : slots_(std::move(other.slots_)), size_(other.size_) {
  other.slots_.clear();
  other.size_ = 0;
}

EventBatch& EventBatch::operator=(EventBatch&& other) noexcept {
  if (this == &other) return *this;
  slots_ = std::move(other.slots_);
  size_ = other.size_;
  other.slots_.clear();
  other.size_ = 0;
  return *this;
}

TypedEvent& EventBatch::at(size_t i) {
  if (i >= size_) throw std::out_of_range("EventBatch::at");
  return slots_[i];
}

const TypedEvent& EventBatch::at(size_t i) const {
  if (i >= size_) throw std::out_of_range("EventBatch::at");
  return slots_[i];
}

TypedEvent& EventBatch::Add() {
  if (size_ == slots_.size()) {
    slots_.emplace_back();
  } else {
    ResetEvent(&slots_[size_]);
  }
  return slots_[size_++];
}

}  // namespace recorder
