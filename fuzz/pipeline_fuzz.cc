// libFuzzer target for everything that reads outside input: the record
// parser (file lines and netlink bodies), the assembler and the normalizer.
//
//   scripts/fuzz [seconds]     (builds with clang into build-fuzz and runs)
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/pipeline.h"

namespace {

class DiscardSink : public recorder::EventSink {
 public:
  recorder::Status Consume(recorder::EventBatch* events) override {
    // Touch every string so sanitizers see any dangling view.
    for (const auto& e : *events) sum_ += e.subject.exe.size() + e.header.key.size();
    return recorder::Status::Ok();
  }
  size_t sum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  DiscardSink sink;
  recorder::PipelineOptions options;
  options.assembler.max_open_events = 64;  // exercise the capacity path
  options.sink_batch = 4;
  recorder::Pipeline pipeline(options, nullptr, &sink);
  size_t pos = 0;
  int64_t now = 0;
  while (pos <= input.size()) {
    size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(pos, end - pos);
    // Alternate between file lines and netlink bodies typed by the
    // line's first byte, and let time jump now and then.
    if (!line.empty() && line[0] == '#')
      (void)pipeline.FeedBody(1300 + static_cast<uint8_t>(line.size() % 40), line.substr(1), now);
    else
      (void)pipeline.FeedLine(line, (pos & 1) ? -1 : now);
    if (line.size() % 7 == 0) (void)pipeline.Age(now += 5000);
    pos = end + 1;
  }
  (void)pipeline.Finish();
  return 0;
}
