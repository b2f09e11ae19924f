#include "signals/sigma_fields.h"

#include <charconv>
#include <type_traits>
#include <utility>
#include <variant>

#include "filter/event_fields.h"
#include "normalize/event_codes.h"

namespace recorder::signals {
namespace {

constexpr SourceMask kP = Bit(LogSource::kProcessCreation);
constexpr SourceMask kF = Bit(LogSource::kFileEvent);
constexpr SourceMask kN = Bit(LogSource::kNetworkConnection);
constexpr SourceMask kA = Bit(LogSource::kAuditd);

void Push(std::string_view value, std::vector<std::string_view>* out) {
  if (!value.empty()) out->push_back(value);
}

// kUnsetId (-1, audit's "not set") is no value, unless `any` (exit codes).
void PushNumber(int64_t value, ValueScratch* scratch, std::vector<std::string_view>* out,
                bool any = false) {
  if (value == kUnsetId && !any) return;
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  scratch->number.assign(buffer, end);
  out->push_back(scratch->number);
}

// The event's process (once per event: ValueScratch).
const filter::ProcessFacts* Self(const TypedEvent& event, const filter::ProcessLineage* lineage,
                                 ValueScratch* scratch) {
  if (scratch->self_state == 0) {
    scratch->self_state =
        lineage != nullptr && lineage->Instance(event.header.node, event.subject.pid,
                                                event.enrichment.process_start_ms,
                                                event.header.time_ms, &scratch->self)
            ? 1
            : -1;
  }
  return scratch->self_state > 0 ? &scratch->self : nullptr;
}

// The command line of the event's own process: its argv for an exec, else
// what the process table remembers (once per event).
bool CommandLine(const TypedEvent& event, const filter::ProcessLineage* lineage,
                 ValueScratch* scratch) {
  if (scratch->cmdline_state != 0) return scratch->cmdline_state > 0;
  bool known = false;
  if (const auto* start = std::get_if<ProcessStart>(&event.body)) {
    if (start->argv.empty()) {
      scratch->cmdline = start->proctitle;
    } else {
      filter::JoinArgv(start->argv, &scratch->cmdline);
    }
    known = !scratch->cmdline.empty();
  } else if (const filter::ProcessFacts* self = Self(event, lineage, scratch);
             self != nullptr && self->argv != nullptr) {
    filter::JoinArgv(*self->argv, &scratch->cmdline);
    known = true;
  }
  scratch->cmdline_state = known ? 1 : -1;
  return known;
}

// The parent instance of the event's process (once per event).
const filter::ProcessFacts* Parent(const TypedEvent& event, const filter::ProcessLineage* lineage,
                                   ValueScratch* scratch) {
  if (scratch->parent_state == 0) {
    const filter::ProcessFacts* self = Self(event, lineage, scratch);
    scratch->parent_state =
        self != nullptr && self->ppid > 0 &&
                lineage->Instance(event.header.node, self->ppid, self->parent_start_ms,
                                  event.header.time_ms, &scratch->parent)
            ? 1
            : -1;
  }
  return scratch->parent_state > 0 ? &scratch->parent : nullptr;
}

// The file a file_event is about: the new name of a rename or link.
std::string_view TargetFilename(const FileEvent& file) {
  if ((file.operation == FileOperation::kRename || file.operation == FileOperation::kLink) &&
      !file.new_path.empty())
    return file.new_path;
  return file.path;
}

// Sysmon's convention, which the public rules follow: for a connection
// this machine initiated the source is local; for one it accepted the
// destination is local.
void Endpoint(const NetworkEvent& net, bool destination, bool port, ValueScratch* scratch,
              std::vector<std::string_view>* out) {
  const bool remote = destination == (net.direction == NetworkDirection::kOutbound);
  if (port) {
    PushNumber(remote ? net.remote_port : net.local_port, scratch, out);  // -1: none
  } else {
    Push(remote ? net.remote_address : net.local_address, out);
  }
}

}  // namespace

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view LogSourceName(LogSource source) {
  switch (source) {
    case LogSource::kProcessCreation:
      return "process_creation";
    case LogSource::kFileEvent:
      return "file_event";
    case LogSource::kNetworkConnection:
      return "network_connection";
    case LogSource::kAuditd:
      return "auditd";
    case LogSource::kWindowsProcessCreation:
      return "windows/process_creation";
    case LogSource::kWindowsNetworkConnection:
      return "windows/network_connection";
    case LogSource::kWindowsFileEvent:
      return "windows/file_event";
    case LogSource::kWindowsFileDelete:
      return "windows/file_delete";
    case LogSource::kWindowsRegistryAdd:
      return "windows/registry_add";
    case LogSource::kWindowsRegistryDelete:
      return "windows/registry_delete";
    case LogSource::kWindowsRegistrySet:
      return "windows/registry_set";
    case LogSource::kWindowsRegistryEvent:
      return "windows/registry_event";
    case LogSource::kWindowsDnsQuery:
      return "windows/dns_query";
    case LogSource::kWindowsImageLoad:
      return "windows/image_load";
    case LogSource::kWindowsDriverLoad:
      return "windows/driver_load";
    case LogSource::kMacosProcessCreation:
      return "macos/process_creation";
  }
  return "unknown";
}

Platform PlatformOf(LogSource source) {
  if (source == LogSource::kMacosProcessCreation) return Platform::kMacos;
  if (source >= LogSource::kWindowsProcessCreation) return Platform::kWindows;
  return Platform::kLinux;
}

const std::vector<FieldInfo>& FieldTable() {
  static const std::vector<FieldInfo> kTable = {
      {"Image", SignalField::kImage, kP | kF | kN, "the process's executable (processes.exe)"},
      {"CommandLine", SignalField::kCommandLine, kP | kF | kN,
       "argv joined by spaces (processes.cmdline); for file and network events the process's"},
      {"ParentImage", SignalField::kParentImage, kP, "the parent process's executable"},
      {"ParentCommandLine", SignalField::kParentCommandLine, kP,
       "the parent process's command line"},
      {"User", SignalField::kUser, kP | kF | kN,
       "the name of the process's uid (live only; replay knows no names)"},
      {"LogonId", SignalField::kLogonId, kP | kF | kN, "the login uid (auid), in decimal"},
      {"CurrentDirectory", SignalField::kCurrentDirectory, kP, "the exec's working directory"},
      {"ProcessId", SignalField::kProcessId, kP | kF | kN, "the pid"},
      {"ParentProcessId", SignalField::kParentProcessId, kP, "the parent's pid"},
      {"TargetFilename", SignalField::kTargetFilename, kF,
       "the file's path; the new name of a rename or link"},
      {"DestinationIp", SignalField::kDestinationIp, kN,
       "the remote address of a connect, the local one of an accept"},
      {"DestinationPort", SignalField::kDestinationPort, kN, "likewise, the port"},
      {"DestinationHostname", SignalField::kDestinationHostname, kN,
       "the name a recorded DNS answer gave the destination address: the process's own within an "
       "hour, else any process's within 5 minutes (docs/signals.md)"},
      {"DestinationIsIpv6", SignalField::kDestinationIsIpv6, kN, "\"true\" for IPv6"},
      {"SourceIp", SignalField::kSourceIp, kN,
       "the local address of a connect, the remote one of an accept"},
      {"SourcePort", SignalField::kSourcePort, kN, "likewise, the port"},
      {"Initiated", SignalField::kInitiated, kN, "\"true\" for a connect, \"false\" for an accept"},
      {"Protocol", SignalField::kProtocol, kN, "tcp or udp"},
      {"type", SignalField::kType, kA,
       "the event's record types: SYSCALL, EXECVE, PATH, CWD, PROCTITLE, SOCKADDR, USER_*..."},
      {"SYSCALL", SignalField::kSyscall, kA, "the syscall's name (execve, openat, ...)"},
      {"syscall", SignalField::kSyscall, kA, "the same"},
      {"exe", SignalField::kExe, kA, "SYSCALL exe"},
      {"comm", SignalField::kComm, kA, "SYSCALL comm"},
      {"key", SignalField::kKey, kA, "the audit rule's key"},
      {"uid", SignalField::kUid, kA, "SYSCALL uid, in decimal"},
      {"euid", SignalField::kEuid, kA, "SYSCALL euid"},
      {"suid", SignalField::kSuid, kA, "SYSCALL suid"},
      {"fsuid", SignalField::kFsuid, kA, "SYSCALL fsuid"},
      {"gid", SignalField::kGid, kA, "SYSCALL gid"},
      {"egid", SignalField::kEgid, kA, "SYSCALL egid"},
      {"auid", SignalField::kAuid, kA, "SYSCALL auid"},
      {"ses", SignalField::kSes, kA, "SYSCALL ses"},
      {"pid", SignalField::kPid, kA, "SYSCALL pid"},
      {"ppid", SignalField::kPpid, kA, "SYSCALL ppid"},
      {"tty", SignalField::kTty, kA, "SYSCALL tty (pts0, ...)"},
      {"success", SignalField::kSuccess, kA, "yes or no"},
      {"exit", SignalField::kExit, kA, "the syscall's return value"},
      {"argc", SignalField::kArgc, kA, "EXECVE argc"},
      {"a<N>", SignalField::kArg, kA,
       "EXECVE a0, a1, ...: the exec's arguments (not SYSCALL's a0-a3, which are not kept)"},
      {"name", SignalField::kName, kA,
       "PATH name: a file event's path and new path, an exec's program"},
      {"nametype", SignalField::kNameType, kA,
       "PATH nametype as the event implies it: CREATE (a file or directory created, a link, a "
       "rename's new name), DELETE (a file or directory removed, a rename's old name), NORMAL "
       "(any other file event, an exec's program)"},
      {"cwd", SignalField::kCwd, kA, "CWD cwd of an exec"},
      {"proctitle", SignalField::kProctitle, kA, "PROCTITLE, as argv joined by spaces"},
  };
  return kTable;
}

std::optional<FieldRef> LookupField(LogSource source, std::string_view name) {
  switch (PlatformOf(source)) {
    case Platform::kWindows:
      return LookupWindowsField(source, name);
    case Platform::kMacos:
      // A BSM exec becomes the same ProcessStart an audit exec does.
      return LookupField(LogSource::kProcessCreation, name);
    case Platform::kLinux:
      break;
  }
  if (source == LogSource::kAuditd && name.size() >= 2 && name[0] == 'a' &&
      name.find_first_not_of("0123456789", 1) == std::string_view::npos && name.size() <= 4) {
    FieldRef ref{SignalField::kArg, 0};
    std::from_chars(name.data() + 1, name.data() + name.size(), ref.arg);
    return ref;
  }
  for (const FieldInfo& info : FieldTable()) {
    if ((info.sources & Bit(source)) == 0 || info.field == SignalField::kArg) continue;
    // auditd's field names are lower-case and SYSCALL is spelled both ways.
    if (source == LogSource::kAuditd ? info.name == name : EqualsNoCase(info.name, name))
      return FieldRef{info.field, 0};
  }
  return std::nullopt;
}

SourceMask SourcesOf(const TypedEvent& event) {
  switch (event.platform) {
    case Platform::kWindows:
      return WindowsSourcesOf(event);
    case Platform::kMacos:
      return MacosSourcesOf(event);
    case Platform::kLinux:
      break;
  }
  return std::visit(
      [&](const auto& body) -> SourceMask {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ProcessStart>) {
          return kP | kA;
        } else if constexpr (std::is_same_v<T, FileEvent>) {
          return body.operation == FileOperation::kDelete || body.operation == FileOperation::kRmdir
                     ? kA
                     : kF | kA;
        } else if constexpr (std::is_same_v<T, NetworkEvent>) {
          return body.direction == NetworkDirection::kListen ? kA : kN | kA;
        } else if constexpr (std::is_same_v<T, ImageLoadEvent>) {
          return 0;  // not from audit
        } else {
          return kA;
        }
      },
      event.body);
}

FieldRef SameValuesAs(FieldRef field) {
  static constexpr std::pair<SignalField, SignalField> kSameValues[] = {
      {SignalField::kExe, SignalField::kImage},
      {SignalField::kProctitle, SignalField::kCommandLine},
      {SignalField::kCwd, SignalField::kCurrentDirectory},
      {SignalField::kPid, SignalField::kProcessId},
      {SignalField::kPpid, SignalField::kParentProcessId},
      {SignalField::kAuid, SignalField::kLogonId},
  };
  for (const auto& [alias, same] : kSameValues)
    if (field.field == alias) return {same, 0};
  return field;
}

void Values(const FieldRef& ref, const TypedEvent& event, const filter::ProcessLineage* lineage,
            ValueScratch* scratch, std::vector<std::string_view>* out) {
  const Subject& s = event.subject;
  const auto* start = std::get_if<ProcessStart>(&event.body);
  const auto* file = std::get_if<FileEvent>(&event.body);
  const auto* net = std::get_if<NetworkEvent>(&event.body);
  if (event.platform == Platform::kWindows &&
      (ref.field == SignalField::kSysmonField || ref.field == SignalField::kKeywords))
    return WindowsValues(ref, event, scratch, out);
  switch (ref.field) {
    case SignalField::kImage:
    case SignalField::kExe:
      return Push(s.exe, out);
    case SignalField::kCommandLine:
      if (CommandLine(event, lineage, scratch)) out->push_back(scratch->cmdline);
      return;
    case SignalField::kParentImage:
      if (const filter::ProcessFacts* parent = Parent(event, lineage, scratch))
        Push(parent->exe, out);
      return;
    case SignalField::kParentCommandLine:
      if (const filter::ProcessFacts* parent = Parent(event, lineage, scratch);
          parent != nullptr && parent->argv != nullptr) {
        filter::JoinArgv(*parent->argv, &scratch->parent_cmdline);
        Push(scratch->parent_cmdline, out);
      }
      return;
    case SignalField::kUser:
      return Push(event.enrichment.user, out);
    case SignalField::kLogonId:
    case SignalField::kAuid:
      return PushNumber(s.auid, scratch, out);
    case SignalField::kCurrentDirectory:
    case SignalField::kCwd:
      if (start != nullptr) Push(start->cwd, out);
      if (const auto* failed = std::get_if<ExecFailure>(&event.body)) Push(failed->cwd, out);
      return;
    case SignalField::kProcessId:
    case SignalField::kPid:
      return PushNumber(s.pid, scratch, out);
    case SignalField::kParentProcessId:
    case SignalField::kPpid:
      return PushNumber(s.ppid, scratch, out);
    case SignalField::kTargetFilename:
      if (file != nullptr) Push(TargetFilename(*file), out);
      return;
    case SignalField::kDestinationIp:
    case SignalField::kSourceIp:
    case SignalField::kDestinationPort:
    case SignalField::kSourcePort:
      if (net != nullptr)
        Endpoint(
            *net,
            ref.field == SignalField::kDestinationIp || ref.field == SignalField::kDestinationPort,
            ref.field == SignalField::kDestinationPort || ref.field == SignalField::kSourcePort,
            scratch, out);
      return;
    case SignalField::kDestinationHostname:
      if (net != nullptr) Push(scratch->destination_hostname, out);
      return;
    case SignalField::kDestinationIsIpv6:
      if (net != nullptr) out->push_back(net->family == AddressFamily::kInet6 ? "true" : "false");
      return;
    case SignalField::kInitiated:
      if (net != nullptr)
        out->push_back(net->direction == NetworkDirection::kOutbound ? "true" : "false");
      return;
    case SignalField::kProtocol:
      if (net != nullptr) Push(Name(net->protocol), out);
      return;
    case SignalField::kType:
      if (const auto* security = std::get_if<SecurityEvent>(&event.body)) {
        Push(Name(security->record_type), out);
        return;
      }
      if (!event.header.syscall.empty()) out->push_back("SYSCALL");
      if (start != nullptr) {
        for (std::string_view t : {"EXECVE", "CWD", "PATH", "PROCTITLE"}) out->push_back(t);
      } else if (file != nullptr || std::holds_alternative<ExecFailure>(event.body)) {
        for (std::string_view t : {"CWD", "PATH", "PROCTITLE"}) out->push_back(t);
      } else if (net != nullptr) {
        for (std::string_view t : {"SOCKADDR", "PROCTITLE"}) out->push_back(t);
      }
      return;
    case SignalField::kSyscall:
      return Push(event.header.syscall, out);
    case SignalField::kComm:
      return Push(s.comm, out);
    case SignalField::kKey:
      return Push(event.header.key, out);
    case SignalField::kUid:
      return PushNumber(s.uid, scratch, out);
    case SignalField::kEuid:
      return PushNumber(s.euid, scratch, out);
    case SignalField::kSuid:
      return PushNumber(s.suid, scratch, out);
    case SignalField::kFsuid:
      return PushNumber(s.fsuid, scratch, out);
    case SignalField::kGid:
      return PushNumber(s.gid, scratch, out);
    case SignalField::kEgid:
      return PushNumber(s.egid, scratch, out);
    case SignalField::kSes:
      return PushNumber(s.ses, scratch, out);
    case SignalField::kTty:
      return Push(s.tty, out);
    case SignalField::kSuccess:
      if (!event.header.syscall.empty()) out->push_back(event.header.success ? "yes" : "no");
      return;
    case SignalField::kExit:
      if (!event.header.syscall.empty()) PushNumber(event.header.exit, scratch, out, true);
      return;
    case SignalField::kArgc:
      if (start != nullptr) PushNumber(start->argc, scratch, out);
      return;
    case SignalField::kArg:
      if (start != nullptr && ref.arg < start->argv.size()) out->push_back(start->argv[ref.arg]);
      return;
    case SignalField::kName:
      if (file != nullptr) {
        Push(file->path, out);
        Push(file->new_path, out);
      } else if (start != nullptr) {
        Push(s.exe, out);
      } else if (const auto* failed = std::get_if<ExecFailure>(&event.body)) {
        Push(failed->path, out);
      }
      return;
    case SignalField::kNameType:
      // The records are not kept: the nametype the kernel gives each PATH
      // of such an event.
      if (file != nullptr) {
        switch (file->operation) {
          case FileOperation::kCreate:
          case FileOperation::kMkdir:
          case FileOperation::kLink:
            out->push_back("CREATE");
            break;
          case FileOperation::kDelete:
          case FileOperation::kRmdir:
            out->push_back("DELETE");
            break;
          case FileOperation::kRename:
            out->push_back("DELETE");
            out->push_back("CREATE");
            break;
          default:
            out->push_back("NORMAL");
        }
      } else if (start != nullptr) {
        out->push_back("NORMAL");
      }
      return;
    case SignalField::kProctitle:
      if (CommandLine(event, lineage, scratch)) out->push_back(scratch->cmdline);
      return;
    case SignalField::kKeywords:
      // Every text a record of the event held that the recorder keeps.
      Push(s.exe, out);
      Push(s.comm, out);
      Push(event.header.key, out);
      if (CommandLine(event, lineage, scratch)) out->push_back(scratch->cmdline);
      if (start != nullptr) Push(start->cwd, out);
      if (file != nullptr) {
        Push(file->path, out);
        Push(file->new_path, out);
      }
      if (net != nullptr) {
        Push(net->local_address, out);
        Push(net->remote_address, out);
      }
      if (const auto* security = std::get_if<SecurityEvent>(&event.body)) {
        Push(security->user, out);
        Push(security->target_user, out);
        Push(security->address, out);
        Push(security->hostname, out);
        Push(security->detail, out);
      }
      if (const auto* module = std::get_if<ModuleEvent>(&event.body)) Push(module->module, out);
      if (const auto* failed = std::get_if<ExecFailure>(&event.body)) Push(failed->path, out);
      return;
    case SignalField::kSysmonField:
      return;  // only Windows events have Sysmon's fields
  }
}

}  // namespace recorder::signals
