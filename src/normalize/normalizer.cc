#include "normalize/normalizer.h"

#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/normalizer_internal.h"
#include "parse/field_values.h"

namespace recorder {
namespace {

void CountKind(const TypedEvent& e, NormalizerStats* stats) {
  uint64_t NormalizerStats::*const kByKind[] = {
      &NormalizerStats::process_start,
      &NormalizerStats::process_end,
      &NormalizerStats::file,
      &NormalizerStats::network,
      &NormalizerStats::security,
      &NormalizerStats::module,
      nullptr,  // image loads do not come from audit
      &NormalizerStats::failed_exec,
      nullptr,  // DNS queries do not come from audit
      nullptr,  // registry changes do not come from audit
  };
  static_assert(std::size(kByKind) == std::variant_size_v<EventBody>);
  if (auto field = kByKind[e.body.index()]) ++(stats->*field);
}

// The SYSCALL record's fields the normalizer reads, found in one pass over
// the record (first raw field of each name, as AuditRecord::Find) instead
// of a linear Find() per name: a SYSCALL record has ~25 fields and ~20 are
// read, which made name comparisons a visible cost per event.
struct SyscallFields {
  const AuditField* arch = nullptr;
  const AuditField* syscall = nullptr;
  const AuditField* args[4] = {nullptr, nullptr, nullptr, nullptr};
  const AuditField* success = nullptr;
  const AuditField* exit = nullptr;
  const AuditField* key = nullptr;
  const AuditField* pid = nullptr;
  const AuditField* ppid = nullptr;
  const AuditField* uid = nullptr;
  const AuditField* euid = nullptr;
  const AuditField* suid = nullptr;
  const AuditField* fsuid = nullptr;
  const AuditField* gid = nullptr;
  const AuditField* egid = nullptr;
  const AuditField* auid = nullptr;
  const AuditField* ses = nullptr;
  const AuditField* tty = nullptr;
  const AuditField* comm = nullptr;
  const AuditField* exe = nullptr;

  explicit SyscallFields(const AuditRecord& r) {
    for (const AuditField& f : r.fields) {
      if (f.interpreted) continue;
      const std::string_view n = f.name;
      const AuditField** slot = nullptr;
      switch (n.size()) {
        case 2:
          if (n[0] == 'a' && n[1] >= '0' && n[1] <= '3') slot = &args[n[1] - '0'];
          break;
        case 3:
          if (n == "pid")
            slot = &pid;
          else if (n == "uid")
            slot = &uid;
          else if (n == "gid")
            slot = &gid;
          else if (n == "ses")
            slot = &ses;
          else if (n == "tty")
            slot = &tty;
          else if (n == "key")
            slot = &key;
          else if (n == "exe")
            slot = &exe;
          break;
        case 4:
          if (n == "arch")
            slot = &arch;
          else if (n == "ppid")
            slot = &ppid;
          else if (n == "euid")
            slot = &euid;
          else if (n == "suid")
            slot = &suid;
          else if (n == "egid")
            slot = &egid;
          else if (n == "auid")
            slot = &auid;
          else if (n == "comm")
            slot = &comm;
          else if (n == "exit")
            slot = &exit;
          break;
        case 5:
          if (n == "fsuid") slot = &fsuid;
          break;
        case 7:
          if (n == "syscall")
            slot = &syscall;
          else if (n == "success")
            slot = &success;
          break;
        default:
          break;
      }
      if (slot != nullptr && *slot == nullptr) *slot = &f;
    }
  }
};

void FillSubjectFromSyscall(const SyscallFields& r, Subject* s) {
  s->pid = ParseInt<int32_t>(ValueOf(r.pid)).value_or(0);
  s->ppid = ParseInt<int32_t>(ValueOf(r.ppid)).value_or(0);
  s->uid = ParseId(ValueOf(r.uid));
  s->euid = ParseId(ValueOf(r.euid));
  s->suid = ParseId(ValueOf(r.suid));
  s->fsuid = ParseId(ValueOf(r.fsuid));
  s->gid = ParseId(ValueOf(r.gid));
  s->egid = ParseId(ValueOf(r.egid));
  s->auid = ParseId(ValueOf(r.auid));
  s->ses = ParseId(ValueOf(r.ses));
  OptionalText(r.tty, &s->tty);
  DecodedText(r.comm, &s->comm);
  DecodedText(r.exe, &s->exe);
}

// i386 socketcall(call, args): the call number picks the operation.
SyscallClass SocketcallClass(uint64_t call, std::string_view* name) {
  switch (call) {
    case 1:
      *name = "socket";
      return SyscallClass::kSocket;
    case 2:
      *name = "bind";
      return SyscallClass::kBind;
    case 3:
      *name = "connect";
      return SyscallClass::kConnect;
    case 4:
      *name = "listen";
      return SyscallClass::kListen;
    case 5:
      *name = "accept";
      return SyscallClass::kAccept;
    case 18:
      *name = "accept4";
      return SyscallClass::kAccept;
    default:
      return SyscallClass::kOther;
  }
}

}  // namespace

Normalizer::Normalizer(NormalizerOptions options)
    : options_(options), state_(std::make_unique<State>(options)) {}
Normalizer::~Normalizer() = default;

void Normalizer::Normalize(const AuditEvent& event, EventBatch* out) {
  ++stats_.events_in;
  const size_t before = out->size();
  state_->exec_name = {};
  state_->want_exec_name = path_searches_.held() > 0;
  state_->Normalize(event, out);
  if (out->size() == before) {
    ++stats_.ignored;
  } else if (event.incomplete()) {
    for (size_t i = before; i < out->size(); ++i) (*out)[i].header.partial = true;
    stats_.partial += out->size() - before;
  }
  const uint64_t folded = path_searches_.folded();
  path_searches_.Apply(out, before, state_->exec_name, event.time_ms());
  stats_.path_search_attempts += path_searches_.folded() - folded;
  Count(*out, before);
}

void Normalizer::Age(int64_t now_ms, EventBatch* out) {
  const size_t before = out->size();
  path_searches_.Age(now_ms, out);
  Count(*out, before);
}

void Normalizer::Flush(EventBatch* out) {
  const size_t before = out->size();
  path_searches_.Flush(out);
  Count(*out, before);
}

void Normalizer::Count(const EventBatch& out, size_t first) {
  for (size_t i = first; i < out.size(); ++i) CountKind(out[i], &stats_);
}

void Normalizer::State::Normalize(const AuditEvent& event, EventBatch* out) {
  if (event.records().empty()) return;
  if (const AuditRecord* sys = event.Find(audit_type::kSyscall)) {
    NormalizeSyscall(event, *sys, out);
    return;
  }
  const AuditRecord& first = event.records().front();
  if (first.type == kAnomAbendType) {
    AbnormalEnd(event, first, out);
    return;
  }
  NormalizeUserRecord(event, first, out);
}

// A process killed by a signal makes no exit_group call; the kernel's
// ANOM_ABEND record (core-dumping signals) is its end. The exit code is
// what a shell reports for it: 128 + the signal.
void Normalizer::State::AbnormalEnd(const AuditEvent& event, const AuditRecord& r,
                                    EventBatch* out) {
  auto sig = ParseInt<int64_t>(r.Value("sig"));
  if (!sig) return;
  TypedEvent& e = out->Add();
  e.header.node.assign(event.node());
  e.header.serial = event.serial();
  e.header.time_ms = event.time_ms();
  e.header.success = false;
  e.subject.pid = ParseInt<int32_t>(r.Value("pid")).value_or(0);
  e.subject.uid = ParseId(r.Value("uid"));
  e.subject.gid = ParseId(r.Value("gid"));
  e.subject.auid = ParseId(r.Value("auid"));
  e.subject.ses = ParseId(r.Value("ses"));
  DecodedText(r, "comm", &e.subject.comm);
  DecodedText(r, "exe", &e.subject.exe);
  ResetBody<ProcessEnd>(&e.body).exit_code = 128 + *sig;
}

void Normalizer::State::NormalizeSyscall(const AuditEvent& event, const AuditRecord& sys,
                                         EventBatch* out) {
  const SyscallFields fields(sys);
  auto arch = ParseInt<uint32_t>(ValueOf(fields.arch), 16);
  auto number = ParseInt<int32_t>(ValueOf(fields.syscall));
  std::string_view name;
  SyscallClass klass = SyscallClass::kOther;
  if (arch && number) {
    const SyscallInfo& info = syscalls.Lookup(*arch, *number);
    name = info.name;
    klass = info.klass;
  }
  if (name.empty()) {
    // An architecture this libaudit lacks: auditd's ENRICHED name, if any.
    if (const AuditField* f = sys.FindInterpreted("SYSCALL")) {
      name = f->value;
      klass = ClassifySyscall(name);
    }
  }

  uint64_t args[4] = {0, 0, 0, 0};
  static constexpr std::string_view kArgNames[4] = {"a0", "a1", "a2", "a3"};
  for (int i = 0; i < 4; ++i) args[i] = ParseInt<uint64_t>(ValueOf(fields.args[i]), 16).value_or(0);
  if (klass == SyscallClass::kSocketcall) {
    klass = SocketcallClass(args[0], &name);
    // The SOCKETCALL record holds the real arguments (a1 is only a pointer).
    const AuditRecord* sc = event.Find(kSocketcallType);
    for (int i = 0; i < 4; ++i) args[i] = sc ? HexArg(*sc, kArgNames[i]).value_or(0) : 0;
  }
  if (klass == SyscallClass::kOther) return;

  TypedEvent& base = out->Add();
  FillHeader(event, &base.header);
  if (arch) base.header.arch.assign(syscalls.ArchName(*arch));
  base.header.syscall.assign(name);
  DecodeKey(fields.key, &base.header.key);
  base.header.success = ValueOf(fields.success) != "no";
  base.header.exit = ParseInt<int64_t>(ValueOf(fields.exit)).value_or(0);
  FillSubjectFromSyscall(fields, &base.subject);

  switch (klass) {
    case SyscallClass::kExecve:
      if (base.header.success) {
        ProcessStartEvent(event, sys, out);
      } else {
        ExecFailureEvent(event, base);
      }
      return;
    case SyscallClass::kExit:
      ResetBody<ProcessEnd>(&base.body).exit_code = IntArg(args[0]);
      return;
    case SyscallClass::kOpen:
    case SyscallClass::kOpenat:
    case SyscallClass::kOpenat2:
    case SyscallClass::kCreat:
    case SyscallClass::kUnlink:
    case SyscallClass::kUnlinkat:
    case SyscallClass::kRename:
    case SyscallClass::kMkdir:
    case SyscallClass::kRmdir:
    case SyscallClass::kChmod:
    case SyscallClass::kChmodAt:
    case SyscallClass::kChown:
    case SyscallClass::kChownAt:
    case SyscallClass::kTruncate:
    case SyscallClass::kLink:
    case SyscallClass::kSymlink:
    case SyscallClass::kMknod:
    case SyscallClass::kUtimes:
    case SyscallClass::kUtimensat:
      if (!FileEventFor(event, klass, name, args, base)) out->pop_back();
      return;
    case SyscallClass::kSocket:
    case SyscallClass::kConnect:
    case SyscallClass::kAccept:
    case SyscallClass::kBind:
    case SyscallClass::kListen:
      if (!NetworkEventFor(event, klass, args, base)) out->pop_back();
      return;
    case SyscallClass::kSetuid:
    case SyscallClass::kSetreuid:
    case SyscallClass::kSetresuid:
    case SyscallClass::kSetgid:
    case SyscallClass::kSetregid:
    case SyscallClass::kSetresgid:
    case SyscallClass::kSetfsuid:
    case SyscallClass::kSetfsgid:
      PrivilegeEventFor(sys, klass, name, args, base);
      return;
    case SyscallClass::kModuleLoad:
    case SyscallClass::kModuleUnload: {
      ModuleEvent& m = ResetBody<ModuleEvent>(&base.body);
      m.operation =
          klass == SyscallClass::kModuleLoad ? ModuleOperation::kLoad : ModuleOperation::kUnload;
      // init_module passes an image, delete_module a user pointer: only
      // the kernel's KERN_MODULE record names the module.
      if (const AuditRecord* km = event.Find(audit_type::kKernModule))
        DecodedText(*km, "name", &m.module);
      return;
    }
    case SyscallClass::kSocketcall:
    case SyscallClass::kOther:
      out->pop_back();
      return;
  }
}

// ---------------------------------------------------------------------------
// User-space records

void Normalizer::State::NormalizeUserRecord(const AuditEvent& event, const AuditRecord& r,
                                            EventBatch* out) {
  const UserRecordKind* kind = nullptr;
  for (const UserRecordKind& k : kUserRecordKinds)
    if (static_cast<int>(k.type) == r.type) kind = &k;
  if (kind == nullptr) return;

  TypedEvent& e = out->Add();
  FillHeader(event, &e.header);
  Subject& subject = e.subject;
  subject.pid = ParseInt<int32_t>(r.Value("pid")).value_or(0);
  subject.uid = ParseId(r.Value("uid"));
  subject.auid = ParseId(r.Value("auid"));
  subject.ses = ParseId(r.Value("ses"));
  DecodedText(r, "exe", &subject.exe);
  DecodedText(r, "comm", &subject.comm);
  OptionalText(r, "terminal", &subject.tty);

  SecurityEvent& s = ResetBody<SecurityEvent>(&e.body);
  s.kind = kind->kind;
  s.record_type = kind->type;
  s.user = ActingUser(r, subject.uid);
  DecodedText(r, "acct", &s.target_user);
  if (s.target_user.empty()) OptionalText(r, "id", &s.target_user);
  std::string_view res = r.Value("res");
  const bool failed = kind->always_failed || res == "failed" || res == "0" || res == "no";
  s.result = failed ? SecurityResult::kFailed : SecurityResult::kSuccess;
  s.terminal = subject.tty;
  OptionalText(r, "addr", &s.address);
  OptionalText(r, "hostname", &s.hostname);
  if (kind->kind == SecurityKind::kCommand) {
    DecodedText(r, "cmd", &s.detail);
  } else {
    OptionalText(r, "op", &s.detail);
    std::string grantors;
    OptionalText(r, "grantors", &grantors);
    if (!grantors.empty()) {
      if (!s.detail.empty()) s.detail.push_back(' ');
      s.detail.append("grantors=").append(grantors);
    }
  }
  e.header.success = !failed;
}

}  // namespace recorder
