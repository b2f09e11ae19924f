// libFuzzer target for Windows event logs: the header check, libevtx's
// reading through our glue (libevtx itself is Debian's, not instrumented:
// the target catches our misuse of it and what it hands back), and the
// record XML the value names come from; then the Sysmon mapping of every
// record, and its field parsers on the raw input. Our own chunk decoder
// (evtx/binxml.h) runs only on chunks whose CRCs hold, which mutated input
// seldom has: it is also run straight on the input's first chunk, every
// record header it can walk, checksums unchecked.
//
//   scripts/fuzz [seconds]     (seeded with tests/data/evtx/*.evtx)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "evtx/binxml.h"
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
  {
    std::string chunk(input.substr(input.size() > 4096 ? 4096 : 0, recorder::evtx::kChunkSize));
    chunk.resize(recorder::evtx::kChunkSize, '\0');
    recorder::evtx::ChunkDecoder decoder(chunk);
    recorder::evtx::DecodedRecord decoded;
    std::string why;
    for (size_t at = 512; at + 28 <= chunk.size();) {
      uint32_t record_size = 0;
      std::memcpy(&record_size, chunk.data() + at + 4, 4);
      (void)decoder.Decode(static_cast<uint32_t>(at), &decoded, &why);
      if (record_size < 28) break;
      at += record_size;
    }
  }
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
