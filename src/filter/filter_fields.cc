#include "filter/filter_fields.h"

#include <iterator>

#include "normalize/event_codes.h"
#include "normalize/typed_event.h"
#include "util/json_text.h"

namespace recorder::filter {
namespace {

constexpr uint8_t Bit(EventType t) { return static_cast<uint8_t>(1u << static_cast<unsigned>(t)); }
constexpr uint8_t kProcessT = Bit(EventType::kProcess);
constexpr uint8_t kFileT = Bit(EventType::kFile);
constexpr uint8_t kNetworkT = Bit(EventType::kNetwork);
constexpr uint8_t kSecurityT = Bit(EventType::kSecurity);
constexpr uint8_t kModuleT = Bit(EventType::kModule);
constexpr uint8_t kImageT = Bit(EventType::kImage);
constexpr uint8_t kDnsT = Bit(EventType::kDns);
constexpr uint8_t kAllT = 0xff;
constexpr uint8_t kSyscallT = kProcessT | kFileT | kNetworkT | kSecurityT | kModuleT;

using K = FieldKind;
using F = Field;

// Order = enum order (checked below).
const std::vector<FieldInfo>& Table() {
  static const std::vector<FieldInfo> table = {
      {F::kExe, "exe", {"process_path", "executable"}, K::kPath, kAllT, true},
      {F::kParentExe, "parent_exe", {"parent_process_path", "parent_executable"}, K::kPath, kAllT},
      {F::kCmdline, "cmdline", {"command_line", "args"}, K::kString, kProcessT},
      {F::kUser, "user", {"user_name", "username"}, K::kString, kAllT},
      {F::kUid, "uid", {"user_id"}, K::kInteger, kAllT, true},
      {F::kAuid, "auid", {"login_uid", "loginuid"}, K::kInteger, kAllT, true},
      {F::kSuccess, "success", {}, K::kBool, kSyscallT, true},
      {F::kSyscall, "syscall", {}, K::kString, kSyscallT, true},
      {F::kPath, "path", {"file", "file_path"}, K::kPath, kFileT | kImageT, true},
      {F::kNewPath, "new_path", {"target_path"}, K::kPath, kFileT},
      {F::kOperation,
       "operation",
       {"op", "kind"},
       K::kEnum,
       kProcessT | kFileT | kSecurityT | kModuleT},
      {F::kDirection, "direction", {}, K::kEnum, kNetworkT},
      {F::kProtocol, "protocol", {"proto", "transport"}, K::kEnum, kNetworkT | kDnsT},
      {F::kFamily, "family", {"address_family"}, K::kEnum, kNetworkT},
      {F::kLocalAddress, "local_address", {"local_ip", "local_addr"}, K::kAddress, kNetworkT},
      {F::kLocalPort, "local_port", {}, K::kInteger, kNetworkT},
      {F::kRemoteAddress,
       "remote_address",
       {"remote_ip", "remote_addr", "address"},
       K::kAddress,
       kNetworkT | kSecurityT | kDnsT},
      {F::kRemotePort, "remote_port", {}, K::kInteger, kNetworkT | kDnsT},
      {F::kTargetUser, "target_user", {"account", "acct"}, K::kString, kSecurityT},
      {F::kResult, "result", {}, K::kEnum, kSecurityT},
      {F::kRecordType, "record_type", {}, K::kString, kSecurityT},
      {F::kTerminal, "terminal", {"tty"}, K::kString, kSecurityT},
      {F::kHostname, "hostname", {"host"}, K::kString, kSecurityT},
      {F::kModuleName, "module", {"module_name"}, K::kString, kModuleT},
      {F::kQuery, "query", {"query_name", "dns_query", "question"}, K::kString, kDnsT},
  };
  return table;
}

struct TypeName {
  EventType type;
  std::vector<std::string_view> names;
};

const std::vector<TypeName>& TypeNames() {
  static const std::vector<TypeName> names = {
      {EventType::kProcess, {"process", "processes"}},
      {EventType::kFile, {"file", "files"}},
      {EventType::kNetwork, {"network", "networks", "net"}},
      {EventType::kSecurity, {"security"}},
      {EventType::kModule, {"module", "modules", "driver", "drivers"}},
      {EventType::kImage, {"image", "images", "image_load", "library"}},
      {EventType::kDns, {"dns"}},
      {EventType::kRegistry, {"registry"}},
  };
  return names;
}

}  // namespace

std::string_view EventTypeName(EventType type) {
  static constexpr std::string_view kNames[] = {"process", "file",  "network", "security",
                                                "module",  "image", "dns",     "registry"};
  static_assert(std::size(kNames) == kEventTypeCount);
  const auto i = static_cast<size_t>(type);
  return i < kEventTypeCount ? kNames[i] : "unknown";
}

std::string_view OperatorName(Operator op) {
  switch (op) {
    case Operator::kEquals:
      return "equals";
    case Operator::kContains:
      return "contains";
    case Operator::kStartsWith:
      return "starts_with";
    case Operator::kEndsWith:
      return "ends_with";
    case Operator::kGlob:
      return "glob";
    case Operator::kRegex:
      return "regex";
    case Operator::kRange:
      return "range";
    case Operator::kCidr:
      return "cidr";
  }
  return "unknown";
}

const std::vector<FieldInfo>& AllFields() { return Table(); }

const FieldInfo& FieldInfoOf(Field field) {
  const auto& table = Table();
  static const bool ordered = [&] {
    for (size_t i = 0; i < table.size(); ++i)
      if (static_cast<size_t>(table[i].field) != i) return false;
    return table.size() == kFieldCount;
  }();
  if (!ordered) std::abort();  // the table above is out of step with the enum
  return table[static_cast<size_t>(field)];
}

std::optional<Field> FieldByName(std::string_view name) {
  const std::string wanted = CanonicalKey(name);
  for (const FieldInfo& info : Table()) {
    if (CanonicalKey(info.name) == wanted) return info.field;
    for (std::string_view alias : info.aliases)
      if (CanonicalKey(alias) == wanted) return info.field;
  }
  return std::nullopt;
}

bool FieldApplies(Field field, EventType type) {
  return (FieldInfoOf(field).types & Bit(type)) != 0;
}

std::vector<std::string> FieldNamesOf(EventType type) {
  std::vector<std::string> names;
  for (const FieldInfo& info : Table())
    if (info.types & Bit(type)) names.emplace_back(info.name);
  return names;
}

namespace {

// The texts of an enum's code table (normalize/event_codes.h): what a
// rule may say is what the views and the JSON print.
template <typename E, size_t N>
std::vector<std::string_view> Texts(const EnumCode<E> (&table)[N]) {
  std::vector<std::string_view> texts;
  for (const EnumCode<E>& code : table) texts.push_back(code.text);
  return texts;
}

}  // namespace

std::vector<std::string_view> EnumValues(Field field, EventType type) {
  switch (field) {
    case F::kOperation:
      switch (type) {
        case EventType::kProcess:
          return {"start", "end", "failed_exec"};
        case EventType::kFile:
          return Texts(kFileOperationCodes);
        case EventType::kSecurity:
          return Texts(kSecurityKindCodes);
        case EventType::kModule:
          return Texts(kModuleOperationCodes);
        default:
          return {};
      }
    case F::kDirection:
      return Texts(kNetworkDirectionCodes);
    case F::kProtocol:
      return Texts(kNetworkProtocolCodes);
    case F::kFamily:
      return Texts(kAddressFamilyCodes);
    case F::kResult:
      return Texts(kSecurityResultCodes);
    default:
      return {};
  }
}

std::optional<EventType> EventTypeByName(std::string_view name) {
  const std::string wanted = CanonicalKey(name);
  for (const TypeName& t : TypeNames())
    for (std::string_view n : t.names)
      if (CanonicalKey(n) == wanted) return t.type;
  return std::nullopt;
}

std::vector<std::string> EventTypeNames() {
  std::vector<std::string> names;
  for (const TypeName& t : TypeNames()) names.emplace_back(t.names.front());
  names.emplace_back("registry");
  return names;
}

OperationMask OperationBit(std::string_view name) {
  for (const EnumCode<FileOperation>& code : kFileOperationCodes)
    if (code.text == name) return static_cast<OperationMask>(1u << static_cast<int>(code.value));
  return 0;
}

}  // namespace recorder::filter
