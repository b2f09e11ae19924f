// Sigma's field names -> the values of our typed events: the one table
// (sigma_fields.cc, documented in docs/signals.md) that says which log
// source knows which field and where its value comes from.
//
// Every value is text, as Sigma compares it: numbers in decimal, booleans
// as "true"/"false" (auditd's `success` as "yes"/"no"). Some fields have
// several values (auditd's `type`, the record types of the event; `name`,
// every path; keywords, every text of the event): a test matches when any
// value does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/process_lineage.h"
#include "normalize/typed_event.h"

namespace recorder::signals {

// The log sources a rule may name. Bits of a mask (SourceMask). Each
// belongs to one product: an event matches only its own platform's
// sources (TypedEvent::platform), so a Windows rule never sees a Linux
// exec, nor a Linux rule a Sysmon record.
enum class LogSource : uint8_t {
  // product: linux, on audit events.
  kProcessCreation,    // category: process_creation — an exec
  kFileEvent,          // category: file_event — a file created, written, renamed, linked
  kNetworkConnection,  // category: network_connection — a connect or an accept
  kAuditd,             // service: auditd — any audit event, by its records' fields
  // product: windows, on events imported from Sysmon logs; the fields are
  // Sysmon's EventData names (sigma_fields_windows.cc).
  kWindowsProcessCreation,    // Sysmon 1
  kWindowsNetworkConnection,  // 3
  kWindowsFileEvent,          // 11
  kWindowsFileDelete,         // 23, 26
  kWindowsRegistryAdd,        // 12 CreateKey
  kWindowsRegistryDelete,     // 12 DeleteKey, DeleteValue
  kWindowsRegistrySet,        // 13
  kWindowsRegistryEvent,      // 12, 13, 14
  kWindowsDnsQuery,           // 22
  kWindowsImageLoad,          // 7
  kWindowsDriverLoad,         // 6
  // product: macos, on events imported from OpenBSM trails; the fields are
  // those of Linux's process_creation.
  kMacosProcessCreation,
};
inline constexpr size_t kLogSourceCount = 16;
// "process_creation", ...; "windows/registry_set", "macos/process_creation".
std::string_view LogSourceName(LogSource source);
// ASCII case-insensitive equality: field names (Sigma matches them so).
bool EqualsNoCase(std::string_view a, std::string_view b);
using SourceMask = uint32_t;
inline constexpr SourceMask Bit(LogSource s) {
  return static_cast<SourceMask>(1u << static_cast<int>(s));
}
// The product a source belongs to.
Platform PlatformOf(LogSource source);

enum class SignalField : uint8_t {
  kImage,
  kCommandLine,
  kParentImage,
  kParentCommandLine,
  kUser,
  kLogonId,
  kCurrentDirectory,
  kProcessId,
  kParentProcessId,
  kTargetFilename,
  kDestinationIp,
  kDestinationPort,
  kDestinationHostname,
  kDestinationIsIpv6,
  kSourceIp,
  kSourcePort,
  kInitiated,
  kProtocol,
  // auditd record fields.
  kType,
  kSyscall,
  kExe,
  kComm,
  kKey,
  kUid,
  kEuid,
  kSuid,
  kFsuid,
  kGid,
  kEgid,
  kAuid,
  kSes,
  kPid,
  kPpid,
  kTty,
  kSuccess,
  kExit,
  kArgc,
  kArg,  // a0, a1, ...: FieldRef::arg
  kName,
  kCwd,
  kProctitle,
  kNameType,
  kKeywords,  // unkeyed values: every text of the event
  // A Sysmon EventData field of a Windows source: FieldRef::arg indexes
  // WindowsFieldTable().
  kSysmonField,
};
inline constexpr size_t kSignalFieldCount = static_cast<size_t>(SignalField::kSysmonField) + 1;

struct FieldRef {
  SignalField field = SignalField::kKeywords;
  uint32_t arg = 0;  // kArg: the argument's index; kSysmonField: the field's
  bool operator==(const FieldRef&) const = default;
  // One number per distinct field (a matcher's key).
  uint32_t slot() const { return static_cast<uint32_t>(field) + 64 * arg; }
};

struct FieldInfo {
  std::string_view name;  // as Sigma spells it (matched case-insensitively)
  SignalField field;
  SourceMask sources;
  std::string_view meaning;  // for docs/signals.md and `signals check`
};
// The table, in documentation order (a0..aN is one row, "a<N>").
const std::vector<FieldInfo>& FieldTable();

// The field `name` names in `source`; nullopt when the source has no such
// field (the rule is reported as skipped: unknown field).
std::optional<FieldRef> LookupField(LogSource source, std::string_view name);

// The log sources `event` belongs to (0 for none).
SourceMask SourcesOf(const TypedEvent& event);

// Scratch the values are built in; valid until the next Values call.
struct ValueScratch {
  // The event's process, its parent and its command line: asked of the
  // lineage once per event, however many fields want them. A state is
  // 0 not asked yet, 1 known, -1 not known.
  int8_t self_state = 0;
  int8_t parent_state = 0;
  int8_t cmdline_state = 0;
  filter::ProcessFacts self;
  filter::ProcessFacts parent;
  std::string cmdline;
  std::string parent_cmdline;
  std::string number;
  // Input: the DNS name of a network event's destination (dns_names.h),
  // set by the matcher's caller; empty when not known.
  std::string_view destination_hostname;
  // A Windows event's EventData by WindowsFieldTable() index, parsed once
  // per event (ForgetEvent clears it).
  const void* sysmon_of = nullptr;  // the WindowsRecord they were read from
  std::vector<std::string> sysmon;
  std::vector<std::string> sysmon_extra;  // fields the table does not name (keywords)
  // Call before the first Values of each event.
  void ForgetEvent() {
    sysmon_of = nullptr;
    self_state = parent_state = cmdline_state = 0;
  }
};

// The Windows side (sigma_fields_windows.cc): Sysmon's EventData names,
// each with the Windows sources whose events carry it.
struct WindowsFieldInfo {
  std::string_view name;  // as Sysmon spells it (matched case-insensitively)
  SourceMask sources;
};
const std::vector<WindowsFieldInfo>& WindowsFieldTable();
std::optional<FieldRef> LookupWindowsField(LogSource source, std::string_view name);
SourceMask WindowsSourcesOf(const TypedEvent& event);
SourceMask MacosSourcesOf(const TypedEvent& event);
void WindowsValues(const FieldRef& field, const TypedEvent& event, ValueScratch* scratch,
                   std::vector<std::string_view>* out);

// The field whose values `field` always shares (Sigma's taxonomy and
// auditd's names for one thing: Image and exe, CommandLine and
// proctitle, CurrentDirectory and cwd, ProcessId and pid,
// ParentProcessId and ppid, LogonId and auid); `field` itself for the
// rest. The matcher reads such a pair once (a test holds the two to the
// same values).
FieldRef SameValuesAs(FieldRef field);

// Appends the values of `field` on `event` to *out (nothing when the event
// has none). `lineage` (may be null) answers ParentImage,
// ParentCommandLine and the command line of a non-exec event's process.
void Values(const FieldRef& field, const TypedEvent& event, const filter::ProcessLineage* lineage,
            ValueScratch* scratch, std::vector<std::string_view>* out);

}  // namespace recorder::signals
