#include "bsm/bsm_mapping.h"

#include <fmt/format.h>

#include <cctype>

namespace recorder::bsm {
namespace {

// audit_event(5) numbers of the events mapped here.
enum Event : uint16_t {
  kExit = 1,
  kFork = 2,
  kCreat = 4,
  kLink = 5,
  kUnlink = 6,
  kExec = 7,
  kChmod = 10,
  kChown = 11,
  kSymlink = 21,
  kExecve = 23,
  kVfork = 25,
  kConnect = 32,
  kAccept = 33,
  kRename = 42,
  kTruncate = 43,
  kMkdir = 47,
  kRmdir = 48,
  kOpenFirst = 72,  // AUE_OPEN_R .. AUE_OPEN_RWTC
  kOpenLast = 83,
  kOpenAtFirst = 270,  // AUE_OPENAT_R .. AUE_OPENAT_RWTC
  kOpenAtLast = 281,
  kRenameAt = 282,
  kUnlinkAt = 286,
  kLogin = 6152,
  kLogout = 6153,
  kSu = 6159,
  kSsh = 6172,
  kOpenSsh = 32800,
  kMacExecve = 43131,
  kPosixSpawn = 43190,
  kLwLogin = 45021,
  kAuthUser = 45023,
  kSudo = 45028,
};
constexpr uint32_t kUnsetAuditId = 0xffffffff;
// SOCK_STREAM and SOCK_DGRAM, as socket_ex tokens give the type.
constexpr uint16_t kSockStream = 1;
constexpr uint16_t kSockDgram = 2;

// The open variants in order: R, RC, RT, RTC, W, WC, WT, WTC, RW, RWC, RWT,
// RWTC. Bit 0 of the index is "C" (O_CREAT); indexes 4 and up write.
struct OpenKind {
  bool create = false;
  bool write = false;
};
OpenKind OpenKindOf(uint16_t event) {
  const int index =
      event >= kOpenAtFirst ? event - kOpenAtFirst : static_cast<int>(event) - kOpenFirst;
  return {(index & 1) != 0, index >= 4};
}

bool IsOpen(uint16_t event) {
  return (event >= kOpenFirst && event <= kOpenLast) ||
         (event >= kOpenAtFirst && event <= kOpenAtLast);
}

std::string SyscallName(uint16_t event) {
  std::string_view name = EventName(event);
  if (name.starts_with("AUE_")) name.remove_prefix(4);
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.empty() ? fmt::format("bsm_event_{}", event) : lower;
}

int64_t AuditId(uint32_t id) { return id == kUnsetAuditId ? kUnsetId : int64_t{id}; }

std::string Basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The child a fork or spawn record names: an argument token called
// "child PID" (how xnu and FreeBSD record it), else a process token.
uint32_t ChildPid(const BsmRecord& record) {
  for (const BsmArg& arg : record.args)
    if (arg.text == "child PID") return static_cast<uint32_t>(arg.value);
  return record.process.present ? record.process.pid : 0;
}

AddressFamily FamilyOf(const BsmAddress& address) {
  if (address.type == kAuIPv4) return AddressFamily::kInet;
  if (address.type == kAuIPv6) return AddressFamily::kInet6;
  return AddressFamily::kOther;
}

std::string JoinTexts(const BsmRecord& record) {
  std::string out;
  for (std::string_view text : record.texts) {
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

}  // namespace

EventHeader BsmMapper::HeaderOf(const BsmRecord& record) const {
  EventHeader header;
  header.node = node_;
  // The record's place in its trail: unique within a file, and what a
  // responder can find again with `recorder parse`.
  header.serial = record.offset + 1;
  header.time_ms = record.time_ms;
  header.syscall = SyscallName(record.event_type);
  header.success = record.succeeded();
  header.exit = record.succeeded() ? record.return_value : -int64_t{record.return_error};
  header.partial = record.incomplete;
  return header;
}

Subject BsmMapper::SubjectOf(const BsmRecord& record) {
  Subject subject;
  const BsmSubject& s = record.subject;
  subject.pid = static_cast<int32_t>(s.pid);
  subject.uid = s.ruid;
  subject.euid = s.euid;
  subject.gid = s.rgid;
  subject.egid = s.egid;
  subject.auid = AuditId(s.auid);
  subject.ses = AuditId(s.sid);
  auto known = by_pid_.find(s.pid);
  if (known != by_pid_.end()) {
    subject.ppid = known->second.ppid;
    subject.exe = known->second.exe;
    subject.comm = Basename(subject.exe);
  }
  return subject;
}

void BsmMapper::Map(const BsmRecord& record, std::vector<TypedEvent>* out) {
  const uint16_t event = record.event_type;
  if (!record.subject.present) {
    ++stats_.unmapped;
    return;
  }
  TypedEvent typed;
  typed.platform = Platform::kMacos;
  typed.header = HeaderOf(record);
  typed.subject = SubjectOf(record);
  const std::string_view first_path = record.paths.empty() ? "" : record.paths.front();

  switch (event) {
    case kFork:
    case kVfork: {
      const uint32_t child = ChildPid(record);
      if (child != 0 && record.succeeded()) {
        by_pid_[child] = {typed.subject.pid, typed.subject.exe};
        ++stats_.forks;
      }
      ++stats_.unmapped;
      return;
    }
    case kExecve:
    case kMacExecve:
    case kExec:
    case kPosixSpawn: {
      // The resolved program is the last path token (the first is the
      // name as given, when the kernel records both).
      const std::string program(record.paths.empty() ? "" : record.paths.back());
      if (!record.succeeded()) {
        typed.body = ExecFailure{program, record.return_error, ""};
        break;
      }
      if (event == kPosixSpawn) {
        const uint32_t child = ChildPid(record);
        if (child != 0) {
          typed.subject.ppid = typed.subject.pid;
          typed.subject.pid = static_cast<int32_t>(child);
        }
      }
      by_pid_[static_cast<uint32_t>(typed.subject.pid)] = {typed.subject.ppid, program};
      typed.subject.exe = program;
      typed.subject.comm = Basename(program);
      ProcessStart start;
      start.argv.assign(record.exec_args.begin(), record.exec_args.end());
      start.argc = static_cast<int64_t>(record.exec_args.size());
      typed.body = std::move(start);
      break;
    }
    case kExit:
      typed.body = ProcessEnd{record.has_exit ? record.exit_status : 0};
      by_pid_.erase(record.subject.pid);
      break;
    case kCreat:
    case kUnlink:
    case kUnlinkAt:
    case kRename:
    case kRenameAt:
    case kMkdir:
    case kRmdir:
    case kChmod:
    case kChown:
    case kLink:
    case kSymlink:
    case kTruncate: {
      FileEvent file;
      file.path = std::string(first_path);
      if (record.paths.size() > 1) file.new_path = std::string(record.paths[1]);
      switch (event) {
        case kCreat:
          file.operation = FileOperation::kCreate;
          break;
        case kUnlink:
        case kUnlinkAt:
          file.operation = FileOperation::kDelete;
          break;
        case kRename:
        case kRenameAt:
          file.operation = FileOperation::kRename;
          break;
        case kMkdir:
          file.operation = FileOperation::kMkdir;
          break;
        case kRmdir:
          file.operation = FileOperation::kRmdir;
          break;
        case kChmod:
          file.operation = FileOperation::kChmod;
          break;
        case kChown:
          file.operation = FileOperation::kChown;
          break;
        case kTruncate:
          file.operation = FileOperation::kTruncate;
          break;
        default:
          file.operation = FileOperation::kLink;
          break;
      }
      if (event == kChmod) {
        for (const BsmArg& arg : record.args)
          if (arg.text == "new file mode") file.mode = static_cast<int64_t>(arg.value);
      }
      if (record.attr.present) {
        file.path_origin.dev = record.attr.device;
        file.path_origin.inode = record.attr.inode;
      }
      typed.body = std::move(file);
      break;
    }
    case kConnect:
    case kAccept: {
      if (!record.socket.present) {
        ++stats_.unmapped;
        return;
      }
      NetworkEvent network;
      network.direction =
          event == kConnect ? NetworkDirection::kOutbound : NetworkDirection::kInbound;
      const BsmSocket& socket = record.socket;
      if (!socket.unix_path.empty()) {
        network.family = AddressFamily::kUnix;
        network.remote_address = std::string(socket.unix_path);
      } else {
        network.family = FamilyOf(socket.remote);
        network.remote_address = socket.remote.ToString();
        network.remote_port = socket.remote_port;
        if (socket.local.type != 0) {
          network.local_address = socket.local.ToString();
          network.local_port = socket.local_port;
          if (socket.type == kSockStream) network.protocol = NetworkProtocol::kTcp;
          if (socket.type == kSockDgram) network.protocol = NetworkProtocol::kUdp;
        }
      }
      typed.body = std::move(network);
      break;
    }
    case kLogin:
    case kLogout:
    case kSu:
    case kSsh:
    case kOpenSsh:
    case kLwLogin:
    case kAuthUser:
    case kSudo: {
      SecurityEvent security;
      switch (event) {
        case kLogout:
          security.kind = SecurityKind::kLogout;
          security.record_type = SecurityRecordType::kUserLogout;
          break;
        case kAuthUser:
          security.kind = SecurityKind::kAuthentication;
          security.record_type = SecurityRecordType::kUserAuth;
          break;
        case kSu:
        case kSudo:
          security.kind = SecurityKind::kPrivilegeChange;
          security.record_type = SecurityRecordType::kUserCmd;
          break;
        default:
          security.kind = SecurityKind::kLogin;
          security.record_type = SecurityRecordType::kUserLogin;
          break;
      }
      security.user = record.subject.auid == kUnsetAuditId ? std::to_string(record.subject.euid)
                                                           : std::to_string(record.subject.auid);
      security.result = record.succeeded() ? SecurityResult::kSuccess : SecurityResult::kFailed;
      security.address = record.subject.terminal.ToString();
      if (security.address == "0.0.0.0") security.address.clear();
      security.detail = JoinTexts(record);
      typed.body = std::move(security);
      break;
    }
    default:
      if (IsOpen(event)) {
        const OpenKind kind = OpenKindOf(event);
        if (kind.create || kind.write) {
          FileEvent file;
          file.operation = kind.create ? FileOperation::kCreate : FileOperation::kWrite;
          file.path = std::string(record.paths.empty() ? "" : record.paths.back());
          if (record.attr.present) {
            file.path_origin.dev = record.attr.device;
            file.path_origin.inode = record.attr.inode;
          }
          typed.body = std::move(file);
          break;
        }
      }
      ++stats_.unmapped;
      return;
  }
  ++stats_.mapped;
  out->push_back(std::move(typed));
}

}  // namespace recorder::bsm
