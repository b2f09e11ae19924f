// Typed events: what the recorder stores. The normalizer derives them from
// whole audit events; the store writes them; nothing here refers to audit
// text any more, so these outlive the buffers they came from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace recorder {

// Audit writes 4294967295 ((uid_t)-1) for "not set" ids (auid of a daemon,
// ses outside a login); we keep that as kUnsetId so the store writes NULL.
inline constexpr int64_t kUnsetId = -1;

// Who did it: the SYSCALL record's task fields (or a user-space record's).
struct Subject {
  int32_t pid = 0;
  int32_t ppid = 0;
  int64_t uid = kUnsetId;
  int64_t euid = kUnsetId;
  int64_t suid = kUnsetId;
  int64_t fsuid = kUnsetId;
  int64_t gid = kUnsetId;
  int64_t egid = kUnsetId;
  int64_t auid = kUnsetId;  // login user; kUnsetId when never logged in
  int64_t ses = kUnsetId;
  std::string tty;   // "pts0"; empty for "(none)"
  std::string comm;  // decoded
  std::string exe;   // decoded

  bool operator==(const Subject&) const = default;
};

// What every typed event carries about its audit event.
struct EventHeader {
  std::string node;     // empty for the local machine
  uint64_t serial = 0;  // audit serial
  int64_t time_ms = 0;  // ms since the Unix epoch
  std::string arch;     // "x86_64", "i386", "aarch64"; empty for user-space records
  std::string syscall;  // name from libaudit's table ("execve"); empty for user-space records
  std::string key;      // audit rule key(s), comma separated; empty when none
  bool success = true;
  int64_t exit = 0;  // the syscall's return value (negative errno on failure)
  // The audit event was cut short (truncated record, no EOE seen): the
  // fields below are what could be derived, and may miss some.
  bool partial = false;

  bool operator==(const EventHeader&) const = default;
};

// A successful exec: a new program runs under the pid.
struct ProcessStart {
  std::vector<std::string> argv;  // exact, in order, decoded
  int64_t argc = 0;               // as the kernel reported it
  bool argv_truncated = false;    // fewer args or bytes than argc / aN_len said
  std::string cwd;
  std::string proctitle;  // decoded; used for argv when EXECVE is missing
  // ENOENT attempts of the same program name by the same pid just before
  // this exec (a PATH search), folded into it rather than reported as
  // failed execs (see PathSearches, path_search.h).
  int32_t path_search_attempts = 0;

  bool operator==(const ProcessStart&) const = default;
};

// An execve/execveat that failed: the caller goes on running the program
// it was, so this is an event of the caller, not a new process. The
// kernel logs no EXECVE record for it and its PROCTITLE is the caller's
// command line: what was attempted is only the path.
struct ExecFailure {
  std::string path;   // the PATH record's name, absolute when the cwd was known
  int32_t error = 0;  // errno (2 ENOENT, 13 EACCES, ...); ErrnoName() names it
  std::string cwd;

  bool operator==(const ExecFailure&) const = default;
};

struct ProcessEnd {
  int64_t exit_code = 0;  // exit_group's argument

  bool operator==(const ProcessEnd&) const = default;
};

// The closed sets below are stored as their integer values; their text
// (JSON, counters, the SQL views) comes from one table per enum in
// event_codes.h. A new enumerator needs a row there; a stored value
// never changes meaning.
enum class FileOperation : uint8_t {
  kCreate,
  kWrite,
  kRename,
  kDelete,
  kChmod,
  kChown,
  kMkdir,
  kRmdir,
  kLink,
  kTruncate,
  kSetTimes,  // utimensat, utimes...: access/modification times set
};

// Where a file event's name sits in the file system. The kernel logs a
// name relative to a directory descriptor (the *at calls' dirfd other than
// AT_FDCWD) as given, and neither the descriptor's path nor its inode; the
// PATH items do give the inode of the directory that holds the name's last
// component (nametype=PARENT) and of the file itself. The enrich stage's
// PathResolver (src/enrich/path_resolver.h) uses these to make the name
// absolute, from other events or from /proc while recording live.
// Devices are st_dev values (makedev(major, minor)); inode 0 is "not known".
struct PathOrigin {
  static constexpr int32_t kAtFdcwd = -100;
  int32_t dirfd = kAtFdcwd;  // the descriptor the logged name was relative to
  uint64_t dir_dev = 0;      // the directory holding the last component
  uint64_t dir_inode = 0;
  uint64_t dev = 0;  // the file itself
  uint64_t inode = 0;
  bool directory = false;  // the file is a directory
  // The path is not absolute. From the normalizer: relative to `dirfd`
  // (or to an unknown working directory when dirfd is AT_FDCWD); after the
  // enrich stage: relative to the directory (dir_dev, dir_inode), or with
  // no directory known when dir_inode is 0. Never joined to anything else.
  bool unresolved = false;

  bool operator==(const PathOrigin&) const = default;
};

struct FileEvent {
  FileOperation operation = FileOperation::kWrite;
  std::string path;              // absolute unless path_origin.unresolved
  std::string new_path;          // rename, link/symlink target; empty otherwise
  int64_t mode = -1;             // chmod's new mode; -1 otherwise
  int64_t owner_uid = kUnsetId;  // chown's new owner
  int64_t owner_gid = kUnsetId;
  PathOrigin path_origin;
  // Of new_path for rename and link. A symlink's target is text, kept as
  // given (it is resolved against the link's directory at use): its
  // origin stays default, never unresolved.
  PathOrigin new_path_origin;

  bool operator==(const FileEvent&) const = default;
};

enum class NetworkDirection : uint8_t { kOutbound, kInbound, kListen };
// kUnknown: audit does not say (a connect whose socket() was not audited).
enum class NetworkProtocol : uint8_t { kUnknown, kTcp, kUdp };
// kOther: not known (a listen whose bind was not seen), or a family the
// recorder does not store (AF_NETLINK, AF_PACKET, ...).
enum class AddressFamily : uint8_t { kOther, kInet, kInet6, kUnix };

struct NetworkEvent {
  NetworkDirection direction = NetworkDirection::kOutbound;
  NetworkProtocol protocol = NetworkProtocol::kUnknown;
  AddressFamily family = AddressFamily::kOther;
  std::string local_address;
  int32_t local_port = -1;
  std::string remote_address;  // for unix sockets: the socket path
  int32_t remote_port = -1;
  bool in_progress = false;  // non-blocking connect returned EINPROGRESS
  // The live enrich stage looked for the local address and port in the
  // kernel (src/enrich/socket_ports.h) and the socket was gone or no
  // longer the event's: they stay empty. Counted in runs.unresolved_ports.
  bool local_unresolved = false;
  // The same for the remote address and port of an accept that audit
  // gave none (accept(fd, NULL, NULL)): the accepted socket was gone.
  bool remote_unresolved = false;
  // The socket's descriptor in the subject process: the listener for
  // listen and accept, the connecting socket for connect; -1 when not
  // known. Not stored: the live enrich stage looks the socket up by it.
  int32_t fd = -1;
  // accept/accept4: the accepted socket's descriptor (the call's return
  // value); -1 otherwise. Not stored, like fd.
  int32_t accepted_fd = -1;

  bool operator==(const NetworkEvent&) const = default;
};

enum class SecurityKind : uint8_t {
  kAuthentication,
  kAccount,
  kLogin,
  kLogout,
  kSessionStart,
  kSessionEnd,
  kCredential,
  kCommand,
  kAccountChange,
  kPrivilegeChange,
};
enum class SecurityResult : uint8_t { kFailed, kSuccess };
// The audit record a security event came from, by its message type number
// (linux/audit.h): the user-space records the normalizer maps, and SYSCALL
// for set*id calls and set-user-ID execs.
enum class SecurityRecordType : uint16_t {
  kUserAuth = 1100,
  kUserAcct = 1101,
  kUserMgmt = 1102,
  kCredAcq = 1103,
  kCredDisp = 1104,
  kUserStart = 1105,
  kUserEnd = 1106,
  kUserChauthtok = 1108,
  kUserErr = 1109,
  kCredRefr = 1110,
  kUserLogin = 1112,
  kUserLogout = 1113,
  kAddUser = 1114,
  kDelUser = 1115,
  kAddGroup = 1116,
  kDelGroup = 1117,
  kUserCmd = 1123,
  kGrpMgmt = 1132,
  kGrpChauthtok = 1133,
  kSyscall = 1300,
  kAnomLoginFailures = 2100,
  kAnomLoginTime = 2101,
  kAnomLoginSessions = 2102,
  kAnomLoginAcct = 2103,
  kAnomLoginLocation = 2104,
  kAnomLoginService = 2118,
};

struct SecurityEvent {
  SecurityKind kind = SecurityKind::kAuthentication;
  SecurityRecordType record_type = SecurityRecordType::kUserAuth;
  std::string user;         // acting user name (or uid as text)
  std::string target_user;  // acct= / id= / new uid
  SecurityResult result = SecurityResult::kSuccess;
  std::string terminal;
  std::string address;
  std::string hostname;
  std::string detail;  // op=..., grantors, the command for USER_CMD

  bool operator==(const SecurityEvent&) const = default;
};

enum class ModuleOperation : uint8_t { kLoad, kUnload };
struct ModuleEvent {
  ModuleOperation operation = ModuleOperation::kLoad;
  std::string module;

  bool operator==(const ModuleEvent&) const = default;
};

// A shared library (or an executable image) a process opened for loading.
// Not from audit: the image load monitor (fanotify, src/enrich/) makes
// these, with header.serial 0 and no syscall; docs/enrichment.md says what
// it sees and misses.
struct ImageLoadEvent {
  std::string path;
  bool executable = false;  // the execve'd program or its ELF interpreter
  std::string sha256;       // of the file when it was read; empty when not known
  std::string hash_note;    // why sha256 is empty ("pending", "too large", ...)

  bool operator==(const ImageLoadEvent&) const = default;
};

// One answer record of a DNS response.
struct DnsAnswerRecord {
  std::string name;
  uint16_t type = 0;  // the record type's number (1 A, 5 CNAME, 28 AAAA, ...)
  uint32_t ttl = 0;
  std::string data;  // A/AAAA: the address; CNAME/PTR: the target; else empty

  bool operator==(const DnsAnswerRecord&) const = default;
};

// How a DNS query's process was found.
enum class DnsAttribution : uint8_t {
  kNone,       // not found: pid 0, counted in runs.dns_unattributed
  kSocket,     // the cgroup BPF socket hooks (the socket's own process)
  kLocalPort,  // packet socket: the query's source port -> the socket
               // (sock_diag) -> the process holding it (/proc/PID/fd)
};

// A DNS query a process sent and the answer it got (or none). Not from
// audit: the DNS monitor (cgroup BPF, src/source/dns_capture.h) makes
// these, with header.serial 0 and no syscall; the time is the query's.
// docs/schema.md "dns_events" says what it sees and misses.
struct DnsEvent {
  std::string query;        // the question's name, dotted, no trailing dot
  uint16_t query_type = 0;  // 1 A, 28 AAAA, ...
  uint16_t query_class = 0;
  uint16_t id = 0;  // the DNS message id
  bool response_seen = false;
  uint16_t rcode = 0;  // meaningful only when response_seen
  std::vector<DnsAnswerRecord> answers;
  NetworkProtocol transport = NetworkProtocol::kUdp;
  AddressFamily family = AddressFamily::kOther;
  std::string server_address;
  int32_t server_port = -1;
  int64_t latency_us = -1;  // query to response; -1 without a response
  DnsAttribution attribution = DnsAttribution::kNone;

  bool operator==(const DnsEvent&) const = default;
};

// A Windows registry change (Sysmon events 12, 13, 14). Not from audit:
// imported from Sysmon logs (src/evtx/sysmon_event.h).
struct RegistryEvent {
  // Sysmon's EventType as written ("CreateKey", "DeleteKey", "SetValue",
  // "DeleteValue", "RenameKey", ...): Sigma rules match Sysmon's text, so
  // it is kept as given rather than narrowed to a closed set.
  std::string event_type;
  std::string target_object;  // the key or value, as Sysmon names it
  std::string details;        // 13: the value written ("DWORD (0x00000004)")
  std::string new_name;       // 14: the key's new name

  bool operator==(const RegistryEvent&) const = default;
};

// New alternatives go at the end: the index is a counter's slot
// (EventKindName, the daemon's EventCounters).
using EventBody = std::variant<ProcessStart, ProcessEnd, FileEvent, NetworkEvent, SecurityEvent,
                               ModuleEvent, ImageLoadEvent, ExecFailure, DnsEvent, RegistryEvent>;

// What an event imported from a Windows (Sysmon) log carries besides its
// typed body. Windows names a process instance by its ProcessGuid, so the
// store links such events to process rows by GUID, never by pid; the
// record's EventData is kept whole under Sysmon's field names (the names
// Sigma's Windows rules use).
struct WindowsRecord {
  uint32_t event_id = 0;            // the Sysmon event id (1 process create, ...)
  uint64_t record_id = 0;           // EventRecordID
  std::string process_guid;         // the subject's ProcessGuid; empty when none
  std::string parent_process_guid;  // event 1: ParentProcessGuid
  // Event 1's process details that have no Linux column.
  std::string command_line;  // CommandLine as written (argv is its split)
  std::string logon_id;
  std::string integrity_level;
  std::string sha1;
  std::string imphash;
  // Event 1's parent as the record describes it, for a parent row when
  // the parent's own event 1 is not in the logs.
  std::string parent_image;
  std::string parent_command_line;
  std::string data_json;  // EventData: a JSON object of every field by name

  bool operator==(const WindowsRecord&) const = default;
};

// Context the enrich stage (src/enrich/) adds after normalization; empty
// strings / -1 where it has not run or could not tell.
struct Enrichment {
  std::string user;        // name of subject.uid
  std::string euser;       // name of subject.euid
  std::string login_user;  // name of subject.auid
  std::string exe_sha256;  // of subject.exe as it was on disk at event time
  std::string exe_md5;
  std::string hash_note;          // why a hash is empty: "pending", "too large", "unreadable", ...
  int64_t process_start_ms = -1;  // subject process's start time, from the process table
  int64_t parent_start_ms = -1;   // its parent's start time, when known

  bool operator==(const Enrichment&) const = default;
};

// "process_start", "process_end", "file", "network", "security",
// "module", "image", "failed_exec", "dns", "registry": the name of EventBody alternative
// `body_index`
// ("unknown" past the end), used by the JSON output and the counters.
std::string_view EventKindName(size_t body_index);

// A detection rule (src/signals/) that matched the event: the signal
// stage adds these, the store writes one signal_matches row per hit,
// pointing at the event's row. Empty for nearly every event.
struct SignalHit {
  std::string rule_id;
  std::string title;
  std::string level;      // informational, low, medium, high, critical
  std::string author;     // shown with every match: the Sigma rules' licence asks for it
  std::string selection;  // the selections that held, comma-separated

  bool operator==(const SignalHit&) const = default;
};

// Which kind of system recorded the event: the log source a detection
// rule names belongs to one (a Windows rule never matches a Linux exec).
enum class Platform : uint8_t {
  kLinux,    // the audit subsystem, live or replayed
  kWindows,  // imported from a Sysmon log (`windows` is set)
  kMacos,    // imported from an OpenBSM trail (src/bsm/)
};

struct TypedEvent {
  EventHeader header;
  Subject subject;
  EventBody body;
  Enrichment enrichment;
  // Set for an event imported from a Windows log (shared: it is
  // read-only once made); null for audit's. Compared by pointer.
  std::shared_ptr<const WindowsRecord> windows;
  std::vector<SignalHit> signals;
  Platform platform = Platform::kLinux;

  bool operator==(const TypedEvent&) const = default;
};

}  // namespace recorder
