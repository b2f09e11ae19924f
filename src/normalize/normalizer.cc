#include "normalize/normalizer.h"

#include <algorithm>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "normalize/sockaddr.h"
#include "normalize/syscall_table.h"
#include "parse/field_values.h"
#include "parse/message_types.h"

namespace recorder {
namespace {

// Record types the normalizer reads that message_types.h does not name.
constexpr int kSocketcallType = audit_type::kSocketcall;
constexpr int kOpenat2Type = 1337;  // OPENAT2: the open_how that openat2 got
constexpr int kAnomAbendType = 1701;

constexpr int kUserAuth = 1100;
constexpr int kUserAcct = 1101;
constexpr int kUserMgmt = 1102;
constexpr int kCredAcq = 1103;
constexpr int kCredDisp = 1104;
constexpr int kUserStart = 1105;
constexpr int kUserEnd = 1106;
constexpr int kUserChauthtok = 1108;
constexpr int kUserErr = 1109;
constexpr int kCredRefr = 1110;
constexpr int kUserLogin = 1112;
constexpr int kUserLogout = 1113;
constexpr int kAddUser = 1114;
constexpr int kDelUser = 1115;
constexpr int kAddGroup = 1116;
constexpr int kDelGroup = 1117;
constexpr int kUserCmd = 1123;
constexpr int kGrpMgmt = 1132;
constexpr int kGrpChauthtok = 1133;
constexpr int kAnomLoginFailures = 2100;
constexpr int kAnomLoginTime = 2101;
constexpr int kAnomLoginSessions = 2102;
constexpr int kAnomLoginAcct = 2103;
constexpr int kAnomLoginLocation = 2104;
constexpr int kAnomLoginService = 2118;

struct UserRecordKind {
  int type;
  SecurityKind kind;
  bool always_failed;  // ANOM_LOGIN_* report refusals whatever res= says
};

constexpr UserRecordKind kUserRecordKinds[] = {
    {kUserAuth, SecurityKind::kAuthentication, false},
    {kUserErr, SecurityKind::kAuthentication, true},
    {kUserAcct, SecurityKind::kAccount, false},
    {kUserLogin, SecurityKind::kLogin, false},
    {kUserLogout, SecurityKind::kLogout, false},
    {kUserStart, SecurityKind::kSessionStart, false},
    {kUserEnd, SecurityKind::kSessionEnd, false},
    {kCredAcq, SecurityKind::kCredential, false},
    {kCredDisp, SecurityKind::kCredential, false},
    {kCredRefr, SecurityKind::kCredential, false},
    {kUserCmd, SecurityKind::kCommand, false},
    {kUserChauthtok, SecurityKind::kAccountChange, false},
    {kGrpChauthtok, SecurityKind::kAccountChange, false},
    {kAddUser, SecurityKind::kAccountChange, false},
    {kDelUser, SecurityKind::kAccountChange, false},
    {kAddGroup, SecurityKind::kAccountChange, false},
    {kDelGroup, SecurityKind::kAccountChange, false},
    {kUserMgmt, SecurityKind::kAccountChange, false},
    {kGrpMgmt, SecurityKind::kAccountChange, false},
    {kAnomLoginFailures, SecurityKind::kLogin, true},
    {kAnomLoginTime, SecurityKind::kLogin, true},
    {kAnomLoginSessions, SecurityKind::kLogin, true},
    {kAnomLoginAcct, SecurityKind::kLogin, true},
    {kAnomLoginLocation, SecurityKind::kLogin, true},
    {kAnomLoginService, SecurityKind::kLogin, true},
};

// open(2) flags: the same values on x86_64, i386 and aarch64.
constexpr uint64_t kOWronly = 01;
constexpr uint64_t kORdwr = 02;
constexpr uint64_t kOCreat = 0100;
constexpr uint64_t kOTrunc = 01000;
constexpr uint64_t kAtRemovedir = 0x200;
constexpr int32_t kAtFdcwd = -100;
constexpr int64_t kEinprogress = -115;
// The kernel logs at most this many bytes of /proc/pid/cmdline as PROCTITLE.
constexpr size_t kProctitleLimit = 128;
// Bounds the argv scratch for an EXECVE whose argc is corrupt or hostile;
// the kernel's own record limits keep real events far below it.
constexpr size_t kMaxArgs = 1 << 20;

// (uid_t)-1 in a record's decimal id fields means "unset".
int64_t ParseId(std::string_view text) {
  auto v = ParseInt<int64_t>(text);
  if (!v || *v < 0 || *v == 4294967295LL) return kUnsetId;
  return *v;
}

// Syscall arguments aN are register values in hex.
std::optional<uint64_t> HexArg(const AuditRecord& r, std::string_view name) {
  return ParseInt<uint64_t>(r.Value(name), 16);
}

// An int argument (uid, fd, mode) passed in a register: the low 32 bits.
int64_t IntArg(uint64_t reg) { return static_cast<int32_t>(static_cast<uint32_t>(reg)); }

// The 32-bit "leave unchanged" id (-1) of setreuid/chown and friends.
bool IsUnchangedId(uint64_t reg) { return static_cast<uint32_t>(reg) == 0xffffffffu; }

// Text of a field whose "?" or "(none)" means absent. Written into *out
// (overwritten) so that an event's string keeps its capacity.
void OptionalText(const AuditField* f, std::string* out) {
  if (f == nullptr || f->spelling == ValueSpelling::kUnset || f->spelling == ValueSpelling::kNull) {
    out->clear();
    return;
  }
  out->assign(f->value);
}
void OptionalText(const AuditRecord& r, std::string_view name, std::string* out) {
  OptionalText(r.Find(name), out);
}

// Decodes into *out (overwritten) so a moved-into string is filled in place.
void DecodedText(const AuditField* f, std::string* out) {
  if (f == nullptr || f->spelling == ValueSpelling::kUnset || f->spelling == ValueSpelling::kNull) {
    out->clear();
    return;
  }
  DecodeUntrusted(*f, out);
}
void DecodedText(const AuditRecord& r, std::string_view name, std::string* out) {
  DecodedText(r.Find(name), out);
}

// key= is quoted for one key, hex with 0x01 between keys for several,
// or (null) when the rule had none.
void DecodeKey(const AuditField* f, std::string* out) {
  out->clear();
  if (f == nullptr || f->spelling == ValueSpelling::kNull || f->spelling == ValueSpelling::kUnset)
    return;
  if (f->spelling == ValueSpelling::kBare && AppendHexDecoded(f->value, out)) {
    std::replace(out->begin(), out->end(), '\x01', ',');
    return;
  }
  out->assign(f->value);
  if (*out == "(null)") out->clear();
}

// Lexical normalization of an absolute path: "." and empty components
// dropped, ".." removes the previous one (symlinks are not consulted: the
// log may come from another machine).
void LexicallyNormal(std::string_view path, std::string* out_text) {
  std::string& out = *out_text;  // never `path`'s own buffer
  out.clear();
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    i = end;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      size_t slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
      continue;
    }
    out.push_back('/');
    out.append(part);
  }
  if (out.empty()) out = "/";
}

// `name` made absolute against `base` (a directory) into *out; a relative
// name with no base is kept as logged. `joined` is scratch; none of the
// strings may share a buffer with another.
void Resolve(std::string_view name, std::string_view base, std::string* joined, std::string* out) {
  if (!name.empty() && name[0] == '/') {
    LexicallyNormal(name, out);
    return;
  }
  if (base.empty() || base[0] != '/' || name.empty()) {
    out->assign(name);
    return;
  }
  joined->clear();
  joined->append(base).push_back('/');
  joined->append(name);
  LexicallyNormal(*joined, out);
}

struct PathItem {
  std::string_view nametype;  // CREATE, DELETE, NORMAL, PARENT, UNKNOWN
  const AuditField* name;     // may be null ("name=(null)" or absent)
};

// Splits "a12", "a12_len", "a12[3]" into (index, chunk or -1, is_len).
struct ArgName {
  uint32_t index = 0;
  int32_t chunk = -1;
  bool is_len = false;
};
std::optional<ArgName> ParseArgName(std::string_view name) {
  if (name.size() < 2 || name[0] != 'a') return std::nullopt;
  size_t i = 1;
  uint64_t index = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    index = index * 10 + static_cast<uint64_t>(name[i] - '0');
    if (index > kMaxArgs) return std::nullopt;
    ++i;
  }
  if (i == 1) return std::nullopt;
  ArgName out;
  out.index = static_cast<uint32_t>(index);
  std::string_view rest = name.substr(i);
  if (rest.empty()) return out;
  if (rest == "_len") {
    out.is_len = true;
    return out;
  }
  if (rest.size() >= 3 && rest.front() == '[' && rest.back() == ']') {
    auto chunk = ParseInt<int32_t>(rest.substr(1, rest.size() - 2));
    if (!chunk || *chunk < 0) return std::nullopt;
    out.chunk = *chunk;
    return out;
  }
  return std::nullopt;
}

void CountKind(const TypedEvent& e, NormalizerStats* stats) {
  switch (e.body.index()) {
    case 0: ++stats->process_start; break;
    case 1: ++stats->process_end; break;
    case 2: ++stats->file; break;
    case 3: ++stats->network; break;
    case 4: ++stats->security; break;
    case 5: ++stats->module; break;
  }
}

}  // namespace

// Everything the normalizer carries between events, plus per-event
// scratch vectors kept for their capacity.
struct Normalizer::State {
  explicit State(const NormalizerOptions& o) : options(o) {}

  // What is known about one socket of one process.
  struct SocketInfo {
    std::string protocol;  // from an audited socket(): "tcp"/"udp"
    bool bound = false;    // from an audited, successful bind()
    SocketAddress address;
  };

  void Normalize(const AuditEvent& event, EventBatch* out);

  // Syscall events.
  void NormalizeSyscall(const AuditEvent& event, const AuditRecord& sys, EventBatch* out);
  // Each fills `base`, the batch's last event; ProcessStartEvent may add
  // a second event after it. FileEventFor and NetworkEventFor return
  // false when the syscall yields nothing to store (the caller drops
  // `base` then).
  void ProcessStartEvent(const AuditEvent& event, const AuditRecord& sys, EventBatch* out);
  bool FileEventFor(const AuditEvent& event, SyscallClass klass, std::string_view name,
                    const uint64_t* args, TypedEvent& base);
  bool NetworkEventFor(const AuditEvent& event, SyscallClass klass, const uint64_t* args,
                       TypedEvent& base);
  void PrivilegeEventFor(const AuditRecord& sys, SyscallClass klass, std::string_view name,
                         const uint64_t* args, TypedEvent& base);
  void AbnormalEnd(const AuditEvent& event, const AuditRecord& r, EventBatch* out);
  // User-space (PAM, shadow-utils, sudo) records.
  void NormalizeUserRecord(const AuditEvent& event, const AuditRecord& r, EventBatch* out);

  void CollectPaths(const AuditEvent& event);
  const AuditField* ItemOf(std::string_view nametype) const;
  const AuditField* ItemNot(std::string_view skip1, std::string_view skip2) const;

  SocketInfo* FindSocket(uint64_t key);
  SocketInfo& TouchSocket(uint64_t key);

  NormalizerOptions options;
  SyscallTable syscalls;

  // LRU of sockets by (pid << 32 | fd), most recent first.
  std::list<std::pair<uint64_t, SocketInfo>> sockets;
  std::unordered_map<uint64_t, std::list<std::pair<uint64_t, SocketInfo>>::iterator> socket_index;

  // Scratch.
  std::vector<PathItem> paths;
  std::vector<const AuditField*> whole_args;
  std::vector<int64_t> arg_lens;
  struct Chunk {
    uint32_t arg;
    int32_t chunk;
    const AuditField* field;
  };
  std::vector<Chunk> chunks;
  std::string decoded;
  std::string cwd;
  std::string base_dir;
  std::string item_text;
  std::string path_scratch;
};

Normalizer::Normalizer(NormalizerOptions options)
    : options_(options), state_(std::make_unique<State>(options)) {}
Normalizer::~Normalizer() = default;

void Normalizer::Normalize(const AuditEvent& event, EventBatch* out) {
  ++stats_.events_in;
  const size_t before = out->size();
  state_->Normalize(event, out);
  if (out->size() == before) {
    ++stats_.ignored;
    return;
  }
  const bool partial = event.incomplete();
  for (size_t i = before; i < out->size(); ++i) {
    TypedEvent& e = (*out)[i];
    e.header.partial = partial;
    if (partial) ++stats_.partial;
    CountKind(e, &stats_);
  }
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

// ---------------------------------------------------------------------------
// Syscall events

namespace {

void FillHeader(const AuditEvent& event, EventHeader* h) {
  h->node.assign(event.node());
  h->serial = event.serial();
  h->time_ms = event.time_ms();
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
          if (n == "pid") slot = &pid;
          else if (n == "uid") slot = &uid;
          else if (n == "gid") slot = &gid;
          else if (n == "ses") slot = &ses;
          else if (n == "tty") slot = &tty;
          else if (n == "key") slot = &key;
          else if (n == "exe") slot = &exe;
          break;
        case 4:
          if (n == "arch") slot = &arch;
          else if (n == "ppid") slot = &ppid;
          else if (n == "euid") slot = &euid;
          else if (n == "suid") slot = &suid;
          else if (n == "egid") slot = &egid;
          else if (n == "auid") slot = &auid;
          else if (n == "comm") slot = &comm;
          else if (n == "exit") slot = &exit;
          break;
        case 5:
          if (n == "fsuid") slot = &fsuid;
          break;
        case 7:
          if (n == "syscall") slot = &syscall;
          else if (n == "success") slot = &success;
          break;
        default:
          break;
      }
      if (slot != nullptr && *slot == nullptr) *slot = &f;
    }
  }
};

std::string_view ValueOf(const AuditField* f) { return f ? f->value : std::string_view(); }

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

// The acting user as a security event shows it: auditd's ENRICHED name
// when the log has one, else the number.
std::string ActingUser(const AuditRecord& r, int64_t uid) {
  if (const AuditField* f = r.FindInterpreted("UID"); f != nullptr && !f->value.empty())
    return std::string(f->value);
  return uid == kUnsetId ? std::string() : std::to_string(uid);
}

// i386 socketcall(call, args): the call number picks the operation.
SyscallClass SocketcallClass(uint64_t call, std::string_view* name) {
  switch (call) {
    case 1: *name = "socket"; return SyscallClass::kSocket;
    case 2: *name = "bind"; return SyscallClass::kBind;
    case 3: *name = "connect"; return SyscallClass::kConnect;
    case 4: *name = "listen"; return SyscallClass::kListen;
    case 5: *name = "accept"; return SyscallClass::kAccept;
    case 18: *name = "accept4"; return SyscallClass::kAccept;
    default: return SyscallClass::kOther;
  }
}

}  // namespace

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
  for (int i = 0; i < 4; ++i)
    args[i] = ParseInt<uint64_t>(ValueOf(fields.args[i]), 16).value_or(0);
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
      ProcessStartEvent(event, sys, out);
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
      m.operation = klass == SyscallClass::kModuleLoad ? ModuleOperation::kLoad
                                                       : ModuleOperation::kUnload;
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

void Normalizer::State::ProcessStartEvent(const AuditEvent& event, const AuditRecord& sys,
                                          EventBatch* out) {
  const size_t base_index = out->size() - 1;
  ProcessStart& p = ResetBody<ProcessStart>(&out->back().body);
  const AuditRecord* proctitle_record = nullptr;
  bool have_execve = false;
  int64_t argc = -1;
  whole_args.clear();
  arg_lens.clear();
  chunks.clear();
  uint32_t max_index_plus_one = 0;

  for (const AuditRecord& r : event.records()) {
    if (r.type == audit_type::kCwd) {
      if (p.cwd.empty()) DecodedText(r, "cwd", &p.cwd);
      continue;
    }
    if (r.type == audit_type::kProctitle) {
      proctitle_record = &r;
      continue;
    }
    if (r.type != audit_type::kExecve) continue;
    have_execve = true;
    // The kernel writes a0, a1, ... in order and splits long ones as
    // aN_len, aN[0], aN[1]...; records may be split anywhere between
    // fields. Index everything by number so order never depends on text.
    for (const AuditField& f : r.fields) {
      if (f.interpreted) continue;
      if (f.name == "argc") {
        if (argc < 0) argc = ParseInt<int64_t>(f.value).value_or(-1);
        continue;
      }
      auto an = ParseArgName(f.name);
      if (!an) continue;
      if (an->index + 1 > max_index_plus_one) max_index_plus_one = an->index + 1;
      if (whole_args.size() <= an->index) {
        whole_args.resize(an->index + 1, nullptr);
        arg_lens.resize(an->index + 1, -1);
      }
      if (an->is_len) {
        arg_lens[an->index] = ParseInt<int64_t>(f.value).value_or(-1);
      } else if (an->chunk >= 0) {
        chunks.push_back({an->index, an->chunk, &f});
      } else {
        whole_args[an->index] = &f;
      }
    }
  }

  if (proctitle_record != nullptr) {
    DecodedText(*proctitle_record, "proctitle", &p.proctitle);
  }

  if (have_execve) {
    std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) {
      return a.arg != b.arg ? a.arg < b.arg : a.chunk < b.chunk;
    });
    const size_t count = argc >= 0 ? static_cast<size_t>(std::min<int64_t>(argc, kMaxArgs))
                                   : max_index_plus_one;
    if (argc < 0) p.argv_truncated = true;
    p.argc = argc >= 0 ? argc : static_cast<int64_t>(max_index_plus_one);
    if (argc > static_cast<int64_t>(kMaxArgs)) p.argv_truncated = true;
    p.argv.reserve(std::min(count, whole_args.size()));
    size_t next_chunk = 0;
    for (size_t i = 0; i < count; ++i) {
      if (i >= whole_args.size()) {
        p.argv_truncated = true;  // argc promised more than the records hold
        break;
      }
      while (next_chunk < chunks.size() && chunks[next_chunk].arg < i) ++next_chunk;
      if (next_chunk < chunks.size() && chunks[next_chunk].arg == i) {
        std::string joined;
        bool hex = true;
        int32_t expect = 0;
        for (; next_chunk < chunks.size() && chunks[next_chunk].arg == i; ++next_chunk) {
          const Chunk& c = chunks[next_chunk];
          if (c.chunk != expect) p.argv_truncated = true;  // a chunk is missing
          expect = c.chunk + 1;
          if (!(c.field->spelling == ValueSpelling::kBare && IsHexText(c.field->value)))
            hex = false;
          DecodeUntrusted(*c.field, &decoded);
          joined.append(decoded);
        }
        // aN_len counts the argument's bytes, or (for an argument the
        // kernel hex-encoded into a record's remaining room) its hex digits.
        const int64_t len = arg_lens[i];
        const auto size = static_cast<int64_t>(joined.size());
        if (len < 0 || !(len == size || (hex && len == 2 * size))) p.argv_truncated = true;
        p.argv.push_back(std::move(joined));
      } else if (whole_args[i] != nullptr) {
        p.argv.push_back(DecodeUntrusted(*whole_args[i]));
      } else {
        p.argv_truncated = true;  // a lost record: keep the rest in order
      }
    }
  } else if (out->back().header.success && !p.proctitle.empty()) {
    // No EXECVE record (it was lost, or filtered): PROCTITLE is read at
    // syscall exit, after a successful exec, so it is the new program's
    // command line, NUL-separated and cut at 128 bytes.
    std::string_view title = p.proctitle;
    const bool at_limit = title.size() >= kProctitleLimit;
    if (!title.empty() && title.back() == '\0') title.remove_suffix(1);
    size_t start = 0;
    while (start <= title.size()) {
      size_t nul = title.find('\0', start);
      if (nul == std::string_view::npos) nul = title.size();
      p.argv.emplace_back(title.substr(start, nul - start));
      start = nul + 1;
    }
    p.argv_truncated = at_limit;
    p.argc = static_cast<int64_t>(p.argv.size());
  } else {
    // A failed exec has no EXECVE record and its PROCTITLE is the caller's
    // command line, not the program's: argv is unknown.
    p.argv_truncated = true;
  }
  // The stored proctitle reads like a command line.
  while (!p.proctitle.empty() && p.proctitle.back() == '\0') p.proctitle.pop_back();
  std::replace(p.proctitle.begin(), p.proctitle.end(), '\0', ' ');

  const TypedEvent& exec = out->back();
  const bool setuid_exec = exec.header.success && exec.subject.uid != kUnsetId &&
                           exec.subject.euid != kUnsetId && exec.subject.euid != exec.subject.uid;
  if (!setuid_exec) return;
  // A set-user-ID program ran: the exec itself raised (or changed) the
  // effective user. (Add() may move the batch: the exec is re-read by index.)
  TypedEvent& privilege = out->Add();
  privilege.header = (*out)[base_index].header;
  privilege.subject = (*out)[base_index].subject;
  SecurityEvent& s = ResetBody<SecurityEvent>(&privilege.body);
  s.kind = SecurityKind::kPrivilegeChange;
  s.record_type = "SYSCALL";
  s.user = ActingUser(sys, privilege.subject.uid);
  s.target_user = std::to_string(privilege.subject.euid);
  s.result = "success";
  s.terminal = privilege.subject.tty;
  s.detail = fmt::format("setuid exec {}", privilege.subject.exe);
}

void Normalizer::State::CollectPaths(const AuditEvent& event) {
  paths.clear();
  for (const AuditRecord& r : event.records()) {
    if (r.type != audit_type::kPath) continue;
    const AuditField* name = r.Find("name");
    if (name != nullptr && name->spelling == ValueSpelling::kNull) name = nullptr;
    paths.push_back({r.Value("nametype"), name});
  }
}

const AuditField* Normalizer::State::ItemOf(std::string_view nametype) const {
  for (const PathItem& p : paths)
    if (p.nametype == nametype && p.name != nullptr) return p.name;
  return nullptr;
}

const AuditField* Normalizer::State::ItemNot(std::string_view skip1,
                                             std::string_view skip2) const {
  for (const PathItem& p : paths)
    if (p.nametype != skip1 && p.nametype != skip2 && p.name != nullptr) return p.name;
  return nullptr;
}

bool Normalizer::State::FileEventFor(const AuditEvent& event, SyscallClass klass,
                                     std::string_view name, const uint64_t* args,
                                     TypedEvent& base) {
  using C = SyscallClass;
  FileEvent& f = ResetBody<FileEvent>(&base.body);
  CollectPaths(event);
  // cwd, base_dir, item_text and joined are the State's scratch strings:
  // their capacity is reused from event to event.
  cwd.clear();
  if (const AuditRecord* c = event.Find(audit_type::kCwd)) DecodedText(*c, "cwd", &cwd);
  // *at calls with a real dirfd: the kernel does not log the dirfd's
  // path; the PARENT item's name is its best account of the directory.
  base_dir = cwd;
  const bool at_call = name.size() > 2 && (name.ends_with("at") || name.ends_with("at2"));
  if (at_call && IntArg(args[0]) != kAtFdcwd && klass != C::kSymlink) {
    if (const AuditField* parent = ItemOf("PARENT")) {
      DecodeUntrusted(*parent, &item_text);
      if (!item_text.empty() && item_text[0] == '/') base_dir = item_text;
    }
  }
  auto resolve = [&](const AuditField* item, std::string* path) {
    if (item == nullptr) {
      // A failed call often resolved only the directory: name that
      // (with a trailing '/') rather than nothing.
      const AuditField* parent = ItemOf("PARENT");
      if (parent == nullptr) {
        path->clear();
        return;
      }
      DecodeUntrusted(*parent, &item_text);
      Resolve(item_text, cwd, &path_scratch, path);
      if (!path->empty() && path->back() != '/') path->push_back('/');
      return;
    }
    DecodeUntrusted(*item, &item_text);
    std::string_view text = item_text;
    if (!text.empty() && text[0] != '/' && base_dir != cwd) {
      // Relative to the dirfd's directory: only the last component joins it.
      size_t slash = text.rfind('/');
      if (slash != std::string_view::npos) text.remove_prefix(slash + 1);
    }
    Resolve(text, base_dir, &path_scratch, path);
  };

  switch (klass) {
    case C::kOpen:
    case C::kOpenat:
    case C::kOpenat2:
    case C::kCreat: {
      const AuditField* created = ItemOf("CREATE");
      std::optional<uint64_t> flags;
      if (klass == C::kOpen) flags = args[1];
      if (klass == C::kOpenat) flags = args[2];
      if (klass == C::kOpenat2) {
        // openat2's flags sit behind a pointer; kernels since 5.16 log
        // them in an OPENAT2 record (octal). Without it a CREATE item
        // says create and anything else is taken as a write.
        if (const AuditRecord* how = event.Find(kOpenat2Type))
          flags = ParseInt<uint64_t>(how->Value("oflag"), 8);
      }
      // A read-only open changes nothing; O_TRUNC alone still truncates.
      if (flags && (*flags & (kOWronly | kORdwr | kOCreat | kOTrunc)) == 0) return false;
      if (created != nullptr) {
        f.operation = FileOperation::kCreate;
        resolve(created, &f.path);
      } else {
        f.operation = FileOperation::kWrite;
        resolve(ItemNot("PARENT", ""), &f.path);
      }
      break;
    }
    case C::kUnlink:
    case C::kUnlinkat:
    case C::kRmdir: {
      const bool rmdir = klass == C::kRmdir || (klass == C::kUnlinkat && (args[2] & kAtRemovedir));
      f.operation = rmdir ? FileOperation::kRmdir : FileOperation::kDelete;
      const AuditField* item = ItemOf("DELETE");
      resolve(item != nullptr ? item : ItemNot("PARENT", ""), &f.path);
      break;
    }
    case C::kMkdir:
    case C::kMknod: {
      f.operation = klass == C::kMkdir ? FileOperation::kMkdir : FileOperation::kCreate;
      const AuditField* item = ItemOf("CREATE");
      resolve(item != nullptr ? item : ItemNot("PARENT", ""), &f.path);
      break;
    }
    case C::kRename: {
      f.operation = FileOperation::kRename;
      const AuditField* created = ItemOf("CREATE");
      // Old name: the DELETE item that is not the replaced target (a
      // rename over an existing file also deletes the new name).
      const AuditField* old_item = nullptr;
      for (const PathItem& p : paths) {
        if (p.nametype != "DELETE" || p.name == nullptr) continue;
        if (created != nullptr && p.name->value == created->value) continue;
        old_item = p.name;
        break;
      }
      if (old_item == nullptr) old_item = ItemOf("DELETE");
      if (old_item == nullptr || created == nullptr) {
        // A failed rename resolves no children: take the names in order.
        const AuditField* first = nullptr;
        const AuditField* second = nullptr;
        for (const PathItem& p : paths) {
          if (p.nametype == "PARENT" || p.name == nullptr) continue;
          (first == nullptr ? first : second) = p.name;
          if (second != nullptr) break;
        }
        if (old_item == nullptr) old_item = first;
        if (created == nullptr) created = second;
      }
      resolve(old_item, &f.path);
      resolve(created, &f.new_path);
      break;
    }
    case C::kChmod:
    case C::kChmodAt:
      f.operation = FileOperation::kChmod;
      resolve(ItemNot("PARENT", ""), &f.path);  // empty for fchmod (an fd)
      f.mode = static_cast<int64_t>((klass == C::kChmod ? args[1] : args[2]) & 07777);
      break;
    case C::kChown:
    case C::kChownAt: {
      f.operation = FileOperation::kChown;
      resolve(ItemNot("PARENT", ""), &f.path);
      const uint64_t owner = klass == C::kChown ? args[1] : args[2];
      const uint64_t group = klass == C::kChown ? args[2] : args[3];
      f.owner_uid = IsUnchangedId(owner) ? kUnsetId : IntArg(owner);
      f.owner_gid = IsUnchangedId(group) ? kUnsetId : IntArg(group);
      break;
    }
    case C::kTruncate:
      f.operation = FileOperation::kTruncate;
      resolve(ItemNot("PARENT", ""), &f.path);  // empty for ftruncate
      break;
    case C::kLink:
    case C::kSymlink: {
      // path = the new link (CREATE); new_path = what it points to: the
      // existing file for a hard link, the target string as given for a
      // symlink (it is resolved against the link's directory at use, so
      // it is not made absolute here).
      f.operation = FileOperation::kLink;
      resolve(ItemOf("CREATE"), &f.path);
      const AuditField* target = ItemNot("PARENT", "CREATE");
      if (target != nullptr) {
        if (klass == C::kSymlink) {
          DecodeUntrusted(*target, &f.new_path);
        } else {
          resolve(target, &f.new_path);
        }
      }
      break;
    }
    default:
      return false;
  }
  return true;
}

Normalizer::State::SocketInfo* Normalizer::State::FindSocket(uint64_t key) {
  auto it = socket_index.find(key);
  if (it == socket_index.end()) return nullptr;
  sockets.splice(sockets.begin(), sockets, it->second);
  return &it->second->second;
}

Normalizer::State::SocketInfo& Normalizer::State::TouchSocket(uint64_t key) {
  if (SocketInfo* found = FindSocket(key)) return *found;
  sockets.emplace_front(key, SocketInfo{});
  socket_index[key] = sockets.begin();
  const size_t cap = std::max<size_t>(options.max_tracked_sockets, 1);
  while (sockets.size() > cap) {
    socket_index.erase(sockets.back().first);
    sockets.pop_back();
  }
  return sockets.front().second;
}

bool Normalizer::State::NetworkEventFor(const AuditEvent& event, SyscallClass klass,
                                        const uint64_t* args, TypedEvent& base) {
  using C = SyscallClass;
  const uint64_t pid = static_cast<uint32_t>(base.subject.pid);
  auto key_for = [&](uint64_t fd) { return pid << 32 | static_cast<uint32_t>(fd); };

  if (klass == C::kSocket) {
    // socket(domain, type, protocol) -> fd: remember the transport so a
    // later connect/bind on the fd can name it. Nothing to store itself.
    if (!base.header.success || base.header.exit < 0) return false;
    const uint64_t domain = args[0];
    const uint64_t type = args[1] & 0xf;  // SOCK_NONBLOCK/SOCK_CLOEXEC above
    if (domain != 2 && domain != 10) return false;
    const char* protocol = type == 1 ? "tcp" : type == 2 ? "udp" : nullptr;
    if (protocol == nullptr) return false;
    TouchSocket(key_for(static_cast<uint64_t>(base.header.exit))).protocol = protocol;
    return false;
  }

  std::optional<SocketAddress> addr;
  if (const AuditRecord* sa = event.Find(audit_type::kSockaddr)) {
    auto decoded_addr = DecodeSockaddr(sa->Value("saddr"));
    if (decoded_addr.ok()) addr = std::move(decoded_addr.value());
  }
  const bool keep_unix = options.keep_unix_sockets;

  NetworkEvent& n = ResetBody<NetworkEvent>(&base.body);
  switch (klass) {
    case C::kBind: {
      // Remembered, not stored: a bound socket only serves once it
      // listens (TCP), and the listen event carries the address.
      if (!base.header.success || !addr || addr->family == SocketFamily::kOther) return false;
      SocketInfo& info = TouchSocket(key_for(args[0]));
      info.bound = true;
      info.address = std::move(*addr);
      // Port 0 asks the kernel for an ephemeral port, which audit never
      // reports: the real port is unknown, not 0.
      if (info.address.port == 0 && info.address.family != SocketFamily::kUnix)
        info.address.port = -1;
      return false;
    }
    case C::kListen: {
      SocketInfo* info = FindSocket(key_for(args[0]));
      n.direction = NetworkDirection::kListen;
      n.protocol = "tcp";  // listen(2) exists for stream sockets only
      if (info != nullptr && info->bound) {
        if (info->address.family == SocketFamily::kUnix && !keep_unix) return false;
        n.family.assign(SocketFamilyName(info->address.family));
        n.local_address = info->address.address;
        n.local_port = info->address.port;
        if (info->address.family == SocketFamily::kUnix) n.protocol.clear();
      }
      break;
    }
    case C::kAccept: {
      // A failed accept (EAGAIN on a non-blocking listener) accepted nothing.
      if (!base.header.success) return false;
      n.direction = NetworkDirection::kInbound;
      n.protocol = "tcp";
      SocketInfo* listener = FindSocket(key_for(args[0]));
      SocketFamily family = SocketFamily::kOther;
      if (addr && addr->family != SocketFamily::kOther) {
        family = addr->family;
        n.remote_address = addr->address;
        n.remote_port = addr->port;
      }
      if (listener != nullptr && listener->bound &&
          (family == SocketFamily::kOther || family == listener->address.family)) {
        family = listener->address.family;
        n.local_address = listener->address.address;
        n.local_port = listener->address.port;
      }
      if (family == SocketFamily::kUnix) {
        if (!keep_unix) return false;
        n.protocol.clear();
      }
      // accept(fd, NULL, NULL) on a listener bound before recording began:
      // no address on either side, and most such listeners are AF_UNIX
      // (the rules cannot tell them apart), so there is nothing to store.
      if (family == SocketFamily::kOther) return false;
      n.family.assign(SocketFamilyName(family));
      break;
    }
    case C::kConnect: {
      if (!addr || addr->family == SocketFamily::kOther) return false;  // AF_UNSPEC, netlink
      if (addr->family == SocketFamily::kUnix && !keep_unix) return false;
      n.direction = NetworkDirection::kOutbound;
      n.family.assign(SocketFamilyName(addr->family));
      n.remote_address = std::move(addr->address);
      n.remote_port = addr->port;
      // Audit does not say whether the socket is TCP or UDP; an audited
      // socket() on this fd does.
      // close() is not audited, so the fd may since name another socket:
      // what is remembered must at least be of the same family.
      if (SocketInfo* info = FindSocket(key_for(args[0]))) {
        n.protocol = info->protocol;
        if (info->bound && info->address.family == addr->family) {
          n.local_address = info->address.address;
          n.local_port = info->address.port;
        }
      }
      n.in_progress = !base.header.success && base.header.exit == kEinprogress;
      break;
    }
    default:
      return false;
  }
  return true;
}

void Normalizer::State::PrivilegeEventFor(const AuditRecord& sys, SyscallClass klass,
                                          std::string_view name, const uint64_t* args,
                                          TypedEvent& base) {
  using C = SyscallClass;
  // The id the call moves to: the effective one where there are several
  // (setre*id: effective a1; setres*id: effective a1), falling back to
  // the others when it is left unchanged (-1).
  int count = 1;
  uint64_t target = args[0];
  switch (klass) {
    case C::kSetreuid:
    case C::kSetregid:
      count = 2;
      target = !IsUnchangedId(args[1]) ? args[1] : args[0];
      break;
    case C::kSetresuid:
    case C::kSetresgid:
      count = 3;
      target = !IsUnchangedId(args[1]) ? args[1] : !IsUnchangedId(args[0]) ? args[0] : args[2];
      break;
    default:
      break;
  }
  SecurityEvent& s = ResetBody<SecurityEvent>(&base.body);
  s.kind = SecurityKind::kPrivilegeChange;
  s.record_type = "SYSCALL";
  s.user = ActingUser(sys, base.subject.uid);
  s.target_user = IsUnchangedId(target) ? std::string() : std::to_string(IntArg(target));
  s.result = base.header.success ? "success" : "failed";
  s.terminal = base.subject.tty;
  std::string& detail = s.detail;
  detail.assign(name);
  detail.push_back('(');
  for (int i = 0; i < count; ++i) {
    if (i > 0) detail.push_back(',');
    fmt::format_to(std::back_inserter(detail), "{}", IntArg(args[i]));
  }
  detail.push_back(')');
}

// ---------------------------------------------------------------------------
// User-space records

void Normalizer::State::NormalizeUserRecord(const AuditEvent& event, const AuditRecord& r,
                                            EventBatch* out) {
  const UserRecordKind* kind = nullptr;
  for (const UserRecordKind& k : kUserRecordKinds)
    if (k.type == r.type) kind = &k;
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
  s.record_type.assign(r.type_name);
  s.user = ActingUser(r, subject.uid);
  DecodedText(r, "acct", &s.target_user);
  if (s.target_user.empty()) OptionalText(r, "id", &s.target_user);
  std::string_view res = r.Value("res");
  const bool failed = kind->always_failed || res == "failed" || res == "0" || res == "no";
  s.result = failed ? "failed" : "success";
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
