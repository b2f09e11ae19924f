// The normalizer's parts shared by its source files (normalizer.cc: the
// entry points and syscall dispatch; normalizer_process.cc: execs and
// privilege changes; normalizer_file.cc: file syscalls and their paths;
// normalizer_network.cc: sockets). Internal to src/normalize/.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "assemble/audit_event.h"
#include "normalize/event_batch.h"
#include "normalize/normalizer.h"
#include "normalize/sockaddr.h"
#include "normalize/syscall_table.h"
#include "normalize/typed_event.h"
#include "parse/audit_record.h"
#include "parse/message_types.h"

namespace recorder {

// Record types the normalizer reads that message_types.h does not name.
inline constexpr int kSocketcallType = audit_type::kSocketcall;
inline constexpr int kOpenat2Type = 1337;  // OPENAT2: the open_how that openat2 got
inline constexpr int kAnomAbendType = 1701;

// The user-space records that become security events, by audit message
// type (the SecurityRecordType is the type number).
struct UserRecordKind {
  SecurityRecordType type;
  SecurityKind kind;
  bool always_failed;  // ANOM_LOGIN_* report refusals whatever res= says
};

inline constexpr UserRecordKind kUserRecordKinds[] = {
    {SecurityRecordType::kUserAuth, SecurityKind::kAuthentication, false},
    {SecurityRecordType::kUserErr, SecurityKind::kAuthentication, true},
    {SecurityRecordType::kUserAcct, SecurityKind::kAccount, false},
    {SecurityRecordType::kUserLogin, SecurityKind::kLogin, false},
    {SecurityRecordType::kUserLogout, SecurityKind::kLogout, false},
    {SecurityRecordType::kUserStart, SecurityKind::kSessionStart, false},
    {SecurityRecordType::kUserEnd, SecurityKind::kSessionEnd, false},
    {SecurityRecordType::kCredAcq, SecurityKind::kCredential, false},
    {SecurityRecordType::kCredDisp, SecurityKind::kCredential, false},
    {SecurityRecordType::kCredRefr, SecurityKind::kCredential, false},
    {SecurityRecordType::kUserCmd, SecurityKind::kCommand, false},
    {SecurityRecordType::kUserChauthtok, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kGrpChauthtok, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kAddUser, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kDelUser, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kAddGroup, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kDelGroup, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kUserMgmt, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kGrpMgmt, SecurityKind::kAccountChange, false},
    {SecurityRecordType::kAnomLoginFailures, SecurityKind::kLogin, true},
    {SecurityRecordType::kAnomLoginTime, SecurityKind::kLogin, true},
    {SecurityRecordType::kAnomLoginSessions, SecurityKind::kLogin, true},
    {SecurityRecordType::kAnomLoginAcct, SecurityKind::kLogin, true},
    {SecurityRecordType::kAnomLoginLocation, SecurityKind::kLogin, true},
    {SecurityRecordType::kAnomLoginService, SecurityKind::kLogin, true},
};

// open(2) flags: the same values on x86_64, i386 and aarch64.
inline constexpr uint64_t kOWronly = 01;
inline constexpr uint64_t kORdwr = 02;
inline constexpr uint64_t kOCreat = 0100;
inline constexpr uint64_t kOTrunc = 01000;
inline constexpr uint64_t kAtRemovedir = 0x200;
inline constexpr int32_t kAtFdcwd = -100;
inline constexpr int64_t kEinprogress = -115;
// The kernel logs at most this many bytes of /proc/pid/cmdline as PROCTITLE.
inline constexpr size_t kProctitleLimit = 128;
// Bounds the argv scratch for an EXECVE whose argc is corrupt or hostile;
// the kernel's own record limits keep real events far below it.
inline constexpr size_t kMaxArgs = 1 << 20;

// (uid_t)-1 in a record's decimal id fields means "unset".
int64_t ParseId(std::string_view text);
// Syscall arguments aN are register values in hex.
std::optional<uint64_t> HexArg(const AuditRecord& r, std::string_view name);
// An int argument (uid, fd, mode) passed in a register: the low 32 bits.
inline int64_t IntArg(uint64_t reg) { return static_cast<int32_t>(static_cast<uint32_t>(reg)); }
// The 32-bit "leave unchanged" id (-1) of setreuid/chown and friends.
inline bool IsUnchangedId(uint64_t reg) { return static_cast<uint32_t>(reg) == 0xffffffffu; }
// Text of a field whose "?" or "(none)" means absent. Written into *out
// (overwritten) so that an event's string keeps its capacity.
void OptionalText(const AuditField* f, std::string* out);
void OptionalText(const AuditRecord& r, std::string_view name, std::string* out);
// Decodes into *out (overwritten) so a moved-into string is filled in place.
void DecodedText(const AuditField* f, std::string* out);
void DecodedText(const AuditRecord& r, std::string_view name, std::string* out);
// key= is quoted for one key, hex with 0x01 between keys for several,
// or (null) when the rule had none.
void DecodeKey(const AuditField* f, std::string* out);
// Lexical normalization of an absolute path: "." and empty components
// dropped, ".." removes the previous one (symlinks are not consulted: the
// log may come from another machine).
void LexicallyNormal(std::string_view path, std::string* out_text);
// `name` made absolute against `base` (a directory) into *out; a relative
// name with no base is kept as logged. `joined` is scratch; none of the
// strings may share a buffer with another.
void ResolvePath(std::string_view name, std::string_view base, std::string* joined,
                 std::string* out);
inline std::string_view ValueOf(const AuditField* f) { return f ? f->value : std::string_view(); }
void FillHeader(const AuditEvent& event, EventHeader* h);
// The acting user as a security event shows it: auditd's ENRICHED name
// when the log has one, else the number.
std::string ActingUser(const AuditRecord& r, int64_t uid);

struct PathItem {
  std::string_view nametype;  // CREATE, DELETE, NORMAL, PARENT, UNKNOWN
  const AuditField* name;     // may be null ("name=(null)" or absent)
  const AuditRecord* record;  // the PATH record (inode=, dev=, mode=)
};

// Everything the normalizer carries between events, plus per-event
// scratch vectors kept for their capacity.
struct Normalizer::State {
  explicit State(const NormalizerOptions& o) : options(o) {}

  // What is known about one socket of one process.
  struct SocketInfo {
    NetworkProtocol protocol = NetworkProtocol::kUnknown;  // from an audited socket()
    bool bound = false;                                    // from an audited, successful bind()
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
  void ExecFailureEvent(const AuditEvent& event, TypedEvent& base);
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
  // Which of a rename's PARENT items is the old name's and which the
  // new's; null for both when the event cannot tell.
  void PairRenameParents(const PathItem* old_item, const PathItem* new_item,
                         const PathItem** old_parent, const PathItem** new_parent);
  // The first item of that nametype (not of those) with a name.
  const PathItem* ItemOf(std::string_view nametype) const;
  const PathItem* ItemNot(std::string_view skip1, std::string_view skip2) const;

  SocketInfo* FindSocket(uint64_t key);
  SocketInfo& TouchSocket(uint64_t key);

  NormalizerOptions options;
  SyscallTable syscalls;

  // Set by the caller before Normalize: whether a successful exec should
  // name the program it asked for in exec_name (a PATH search is held).
  bool want_exec_name = false;
  // The last component of a successful exec's first PATH item; valid
  // until the next Normalize.
  std::string_view exec_name;
  std::string exec_path;

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
  std::string item_text;
  std::string path_scratch;
};

}  // namespace recorder
