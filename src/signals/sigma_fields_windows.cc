// The Windows and macOS sides of the field mapping (sigma_fields.h).
//
// Windows: Sigma's Windows taxonomy is Sysmon's own EventData names, and
// every imported Sysmon record keeps its EventData whole
// (WindowsRecord::data_json), so a field's value is exactly the text
// Sysmon wrote, nothing derived. The table says which names each Sysmon
// event carries, so a rule naming a field its category never has is
// skipped at load (unknown field) rather than silently never matching.
//
// macOS: a BSM exec is the same ProcessStart an audit exec is, so its
// rules use the Linux process_creation fields (LookupField).
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "signals/sigma_fields.h"

namespace recorder::signals {
namespace {

constexpr SourceMask kProcess = Bit(LogSource::kWindowsProcessCreation);
constexpr SourceMask kNetwork = Bit(LogSource::kWindowsNetworkConnection);
constexpr SourceMask kFile = Bit(LogSource::kWindowsFileEvent);
constexpr SourceMask kDelete = Bit(LogSource::kWindowsFileDelete);
constexpr SourceMask kRegistry =
    Bit(LogSource::kWindowsRegistryAdd) | Bit(LogSource::kWindowsRegistryDelete) |
    Bit(LogSource::kWindowsRegistrySet) | Bit(LogSource::kWindowsRegistryEvent);
constexpr SourceMask kDns = Bit(LogSource::kWindowsDnsQuery);
constexpr SourceMask kImage = Bit(LogSource::kWindowsImageLoad);
constexpr SourceMask kDriver = Bit(LogSource::kWindowsDriverLoad);
// Every source whose events are a process's (all but driver loads).
constexpr SourceMask kOfProcess = kProcess | kNetwork | kFile | kDelete | kRegistry | kDns | kImage;
constexpr SourceMask kAll = kOfProcess | kDriver;

// Reads the event's EventData into scratch->sysmon (by table index) once.
void ReadEventData(const WindowsRecord& record, ValueScratch* scratch) {
  if (scratch->sysmon_of == &record) return;
  scratch->sysmon_of = &record;
  const std::vector<WindowsFieldInfo>& table = WindowsFieldTable();
  scratch->sysmon.assign(table.size(), std::string());
  scratch->sysmon_extra.clear();
  nlohmann::json data = nlohmann::json::parse(record.data_json, nullptr, false);
  if (!data.is_object()) return;
  // Sysmon's names as it writes them, to their table index: built once.
  static const std::unordered_map<std::string_view, size_t> kIndex = [&table] {
    std::unordered_map<std::string_view, size_t> index;
    for (size_t i = 0; i < table.size(); ++i) index.emplace(table[i].name, i);
    return index;
  }();
  for (auto it = data.begin(); it != data.end(); ++it) {
    if (!it.value().is_string()) continue;
    auto named = kIndex.find(it.key());
    if (named != kIndex.end()) {
      scratch->sysmon[named->second] = it.value().get<std::string>();
    } else {
      scratch->sysmon_extra.push_back(it.value().get<std::string>());
    }
  }
}

}  // namespace

const std::vector<WindowsFieldInfo>& WindowsFieldTable() {
  // Sysmon's schema (events 1, 3, 6, 7, 11, 12-14, 22, 23, 26).
  static const std::vector<WindowsFieldInfo> kTable = {
      {"RuleName", kAll},
      {"UtcTime", kAll},
      {"ProcessGuid", kOfProcess},
      {"ProcessId", kOfProcess},
      {"Image", kOfProcess},
      {"User", kOfProcess},
      {"FileVersion", kProcess | kImage},
      {"Description", kProcess | kImage},
      {"Product", kProcess | kImage},
      {"Company", kProcess | kImage},
      {"OriginalFileName", kProcess | kImage},
      {"CommandLine", kProcess},
      {"CurrentDirectory", kProcess},
      {"LogonGuid", kProcess},
      {"LogonId", kProcess},
      {"TerminalSessionId", kProcess},
      {"IntegrityLevel", kProcess},
      {"Hashes", kProcess | kImage | kDriver | kDelete},
      {"ParentProcessGuid", kProcess},
      {"ParentProcessId", kProcess},
      {"ParentImage", kProcess},
      {"ParentCommandLine", kProcess},
      {"ParentUser", kProcess},
      {"Protocol", kNetwork},
      {"Initiated", kNetwork},
      {"SourceIsIpv6", kNetwork},
      {"SourceIp", kNetwork},
      {"SourceHostname", kNetwork},
      {"SourcePort", kNetwork},
      {"SourcePortName", kNetwork},
      {"DestinationIsIpv6", kNetwork},
      {"DestinationIp", kNetwork},
      {"DestinationHostname", kNetwork},
      {"DestinationPort", kNetwork},
      {"DestinationPortName", kNetwork},
      {"ImageLoaded", kImage | kDriver},
      {"Signed", kImage | kDriver},
      {"Signature", kImage | kDriver},
      {"SignatureStatus", kImage | kDriver},
      {"TargetFilename", kFile | kDelete},
      {"CreationUtcTime", kFile},
      {"IsExecutable", kDelete},
      {"Archived", kDelete},
      {"EventType", kRegistry},
      {"TargetObject", kRegistry},
      {"Details", kRegistry},
      {"NewName", kRegistry},
      {"QueryName", kDns},
      {"QueryStatus", kDns},
      {"QueryResults", kDns},
  };
  return kTable;
}

std::optional<FieldRef> LookupWindowsField(LogSource source, std::string_view name) {
  const std::vector<WindowsFieldInfo>& table = WindowsFieldTable();
  for (size_t i = 0; i < table.size(); ++i)
    if ((table[i].sources & Bit(source)) != 0 && EqualsNoCase(table[i].name, name))
      return FieldRef{SignalField::kSysmonField, static_cast<uint32_t>(i)};
  return std::nullopt;
}

SourceMask WindowsSourcesOf(const TypedEvent& event) {
  if (event.windows == nullptr) return 0;
  switch (event.windows->event_id) {
    case 1:
      return kProcess;
    case 3:
      return kNetwork;
    case 6:
      return kDriver;
    case 7:
      return kImage;
    case 11:
      return kFile;
    case 23:
    case 26:
      return kDelete;
    case 12: {
      // Sigma splits Sysmon's event 12 by what it did to the key.
      const auto* registry = std::get_if<RegistryEvent>(&event.body);
      // Both arms views: a std::string against "" would make a temporary.
      const std::string_view type =
          registry != nullptr ? std::string_view(registry->event_type) : std::string_view();
      SourceMask mask = Bit(LogSource::kWindowsRegistryEvent);
      if (type == "CreateKey") mask |= Bit(LogSource::kWindowsRegistryAdd);
      if (type == "DeleteKey" || type == "DeleteValue")
        mask |= Bit(LogSource::kWindowsRegistryDelete);
      return mask;
    }
    case 13:
      return Bit(LogSource::kWindowsRegistrySet) | Bit(LogSource::kWindowsRegistryEvent);
    case 14:
      return Bit(LogSource::kWindowsRegistryEvent);
    case 22:
      return kDns;
    default:
      return 0;  // 5 (process end): no Sigma category the recorder loads
  }
}

SourceMask MacosSourcesOf(const TypedEvent& event) {
  return std::holds_alternative<ProcessStart>(event.body) ? Bit(LogSource::kMacosProcessCreation)
                                                          : 0;
}

void WindowsValues(const FieldRef& field, const TypedEvent& event, ValueScratch* scratch,
                   std::vector<std::string_view>* out) {
  if (event.windows == nullptr) return;
  ReadEventData(*event.windows, scratch);
  if (field.field == SignalField::kSysmonField) {
    if (field.arg < scratch->sysmon.size() && !scratch->sysmon[field.arg].empty())
      out->push_back(scratch->sysmon[field.arg]);
    return;
  }
  if (field.field != SignalField::kKeywords) return;
  // Keywords: every value the record holds.
  for (const std::string& value : scratch->sysmon)
    if (!value.empty()) out->push_back(value);
  for (const std::string& value : scratch->sysmon_extra)
    if (!value.empty()) out->push_back(value);
}

}  // namespace recorder::signals
