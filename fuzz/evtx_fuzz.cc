// libFuzzer target for Windows event logs: the header check, libevtx's
// reading through our glue (libevtx itself is Debian's, not instrumented:
// the target catches our misuse of it and what it hands back), and the
// record XML the value names come from; then the Sysmon mapping of every
// record, and its field parsers on the raw input.
//
//   scripts/fuzz [seconds]     (seeded with tests/data/evtx/*.evtx)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "evtx/evtx_reader.h"
#include "evtx/sysmon_event.h"
#include "normalize/typed_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)recorder::evtx::CheckHeader(input.substr(0, 4096), size);
  (void)recorder::evtx::DataNamesFromXml(input);
  (void)recorder::evtx::SplitWindowsCommandLine(input);
  (void)recorder::evtx::ParseSysmonHashes(input);
  (void)recorder::evtx::ParseSysmonUtcTime(input);
  recorder::TypedEvent event;
  auto reader = recorder::evtx::EvtxReader::OpenBytes(std::string(input), "fuzz");
  if (!reader.ok()) return 0;
  size_t sum = 0;
  (*reader)->ReadAll(
      [&](const recorder::evtx::EvtxRecord& record) {
        // Touch every view so sanitizers see a dangling one.
        sum += record.provider.size() + record.computer.size();
        for (const auto& field : record.fields) sum += field.name.size() + field.value.size();
        sum += recorder::evtx::RecordJson(record).size();
        if (recorder::evtx::MapSysmonRecord(record, &event) ==
            recorder::evtx::SysmonMapping::kMapped)
          sum += event.windows->data_json.size();
      },
      [&](const recorder::evtx::EvtxProblem& problem) { sum += problem.reason.size(); });
  return sum == 1 ? 1 : 0;
}
