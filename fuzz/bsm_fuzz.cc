// libFuzzer target for BSM audit trails: the token reader (every read
// bounds-checked against its record), resynchronisation after damage,
// the JSON a record becomes and its mapping to the Linux event kinds.
//
//   scripts/fuzz [seconds]
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bsm/bsm_mapping.h"
#include "bsm/bsm_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)recorder::bsm::LooksLikeBsm(input);
  size_t sum = 0;
  recorder::bsm::BsmMapper mapper("fuzz");
  std::vector<recorder::TypedEvent> events;
  recorder::bsm::ParseTrail(
      input,
      [&](const recorder::bsm::BsmRecord& record) {
        // Touch every view so sanitizers see one that points outside.
        for (std::string_view path : record.paths) sum += path.size();
        for (std::string_view arg : record.exec_args) sum += arg.size();
        for (std::string_view text : record.texts) sum += text.size();
        sum += record.socket.unix_path.size() + record.zonename.size();
        sum += recorder::bsm::RecordJson(record).size();
        mapper.Map(record, &events);
      },
      [&](const recorder::bsm::BsmProblem& problem) { sum += problem.reason.size(); });
  return sum + events.size() == 1 ? 1 : 0;
}
