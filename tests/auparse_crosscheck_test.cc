// Cross-check: recorder's parser and assembler group the captured kernel
// logs into exactly the events that audit-userspace's own auparse finds,
// with the same records in each.
#include <auparse.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include "assemble/event_assembler.h"
#include "parse/record_parser.h"

namespace recorder {
namespace {

using EventKey = std::tuple<int64_t, uint64_t>;  // (time ms, serial)
using RecordCounts = std::map<EventKey, unsigned>;

RecordCounts WithAuparse(const std::string& path) {
  RecordCounts counts;
  auparse_state_t* au = auparse_init(AUSOURCE_FILE, path.c_str());
  if (au == nullptr) return counts;
  while (auparse_next_event(au) > 0) {
    const au_event_t* stamp = auparse_get_timestamp(au);
    // += : auparse closes LOGIN as an event by itself although this kernel
    // follows it with the SYSCALL and PROCTITLE of the same serial; recorder
    // keeps the three together. Summing per serial compares the records.
    counts[{static_cast<int64_t>(stamp->sec) * 1000 + stamp->milli, stamp->serial}] +=
        auparse_get_num_records(au);
  }
  auparse_destroy(au);
  return counts;
}

RecordCounts WithRecorder(const std::string& path) {
  RecordCounts counts;
  std::ifstream in(path);
  EventAssembler assembler;
  EventAssembler::EventList done;
  AuditRecord record;
  for (std::string line; std::getline(in, line);) {
    if (ParseRecordLine(line, &record) != ParseError::kNone) continue;
    assembler.Feed(record, record.time_ms(), &done);
  }
  assembler.Flush(&done);
  for (const auto& event : done)
    counts[{event->time_ms(), event->serial()}] += event->records().size();
  return counts;
}

class AuparseCrossCheck : public ::testing::TestWithParam<const char*> {};

TEST_P(AuparseCrossCheck, SameEventsAndRecordsAsAuparse) {
  const std::string path = std::string(RECORDER_TEST_DATA) + "/" + GetParam();
  RecordCounts theirs = WithAuparse(path);
  RecordCounts ours = WithRecorder(path);
  ASSERT_GT(theirs.size(), 300u) << "auparse could not read " << path;
  EXPECT_EQ(ours.size(), theirs.size());
  for (const auto& [key, records] : theirs) {
    auto it = ours.find(key);
    ASSERT_NE(it, ours.end()) << "missing event serial " << std::get<1>(key);
    EXPECT_EQ(it->second, records) << "serial " << std::get<1>(key);
  }
}

INSTANTIATE_TEST_SUITE_P(CapturedLogs, AuparseCrossCheck,
                         ::testing::Values("capture-raw.log", "capture-enriched.log"));

}  // namespace
}  // namespace recorder
