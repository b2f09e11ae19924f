// Our own EVTX decoder (src/evtx/binxml.h) against libevtx, record by
// record: the same records in the same order, with the same id, time,
// event id, provider, computer and values under the same names. Run on the
// samples in tests/data/evtx and, when EVTX_PARITY_DIR names a folder, on
// every .evtx file in it (the benchmark's seven public samples:
// BENCHMARKS.md "O").
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "evtx/binxml.h"
#include "evtx/evtx_reader.h"

namespace recorder::evtx {
namespace {

const std::string kSamples = std::string(RECORDER_TEST_DATA) + "/evtx/";

struct Row {
  std::string head;  // id, event id, time, provider, computer, recovered
  std::vector<std::pair<std::string, std::string>> fields;
};

struct Read {
  std::vector<Row> records;
  std::vector<std::string> problems;
  EvtxReadStats stats;
};

std::string Show(const Row& row) {
  std::string out = row.head;
  for (const auto& [name, value] : row.fields) out += " " + name + "=" + value;
  return out;
}

Read ReadFile(const std::string& path, bool own_decoder) {
  Read out;
  auto reader = EvtxReader::OpenFile(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return out;
  (*reader)->set_own_decoder(own_decoder);
  (*reader)->ReadAll(
      [&](const EvtxRecord& record) {
        Row row;
        row.head =
            fmt::format("{} {} {} {} {} {}", record.record_id, record.event_id, record.written_ms,
                        record.provider, record.computer, record.recovered);
        for (const EvtxField& field : record.fields)
          row.fields.emplace_back(std::string(field.name), std::string(field.value));
        out.records.push_back(std::move(row));
      },
      [&](const EvtxProblem& problem) {
        out.problems.push_back(problem.where + ": " + problem.reason);
      });
  out.stats = (*reader)->stats();
  return out;
}

// Every record of `path` read both ways; the share of the file's records
// our decoder read itself.
void ExpectParity(const std::string& path, double* own_share) {
  SCOPED_TRACE(path);
  const Read reference = ReadFile(path, /*own_decoder=*/false);
  const Read own = ReadFile(path, /*own_decoder=*/true);
  EXPECT_FALSE(reference.stats.own_decoder);
  ASSERT_EQ(own.records.size(), reference.records.size());
  // The same values in the same order, under the same names; except that
  // where libevtx's path has no name (it takes names from the record's
  // rendered XML, once per event shape, and a control character in one
  // value makes that XML unparsable for the shape), ours has the name of
  // the value's own <Data> element.
  int differences = 0;
  int named_only_here = 0;
  for (size_t i = 0; i < own.records.size() && differences < 5; ++i) {
    const Row& ours = own.records[i];
    const Row& theirs = reference.records[i];
    bool same = ours.head == theirs.head && ours.fields.size() == theirs.fields.size();
    for (size_t f = 0; same && f < ours.fields.size(); ++f) {
      same = ours.fields[f].second == theirs.fields[f].second &&
             (ours.fields[f].first == theirs.fields[f].first || theirs.fields[f].first.empty());
      if (same && ours.fields[f].first != theirs.fields[f].first) ++named_only_here;
    }
    if (same) continue;
    ++differences;
    ADD_FAILURE() << "record " << i << "\n  libevtx: " << Show(theirs)
                  << "\n  our own: " << Show(ours);
  }
  if (named_only_here > 0)
    std::printf("%s: %d values named here, unnamed by libevtx's path\n", path.c_str(),
                named_only_here);
  EXPECT_EQ(own.problems, reference.problems);
  *own_share =
      own.stats.own_decoder && own.stats.records > 0
          ? 1.0 - static_cast<double>(own.stats.by_libevtx) / static_cast<double>(own.stats.records)
          : 0.0;
}

TEST(EvtxDecoderParity, SysmonSampleIsReadAlikeAndByOurDecoder) {
  double own_share = 0;
  ExpectParity(kSamples + "sysmon.evtx", &own_share);
  // The Sysmon log is the one the recorder maps: our decoder must carry it.
  EXPECT_GT(own_share, 0.99);
}

TEST(EvtxDecoderParity, SecuritySampleIsReadAlike) {
  double own_share = 0;
  ExpectParity(kSamples + "Security_short_selected.evtx", &own_share);
  EXPECT_GT(own_share, 0.0);
}

TEST(EvtxDecoderParity, ADamagedFileIsLeftToLibevtx) {
  double own_share = 1;
  ExpectParity(kSamples + "sample_with_a_bad_chunk_magic.evtx", &own_share);
  EXPECT_EQ(own_share, 0.0);
}

TEST(EvtxDecoderParity, EveryFileOfEvtxParityDir) {
  const char* dir = std::getenv("EVTX_PARITY_DIR");
  if (dir == nullptr) GTEST_SKIP() << "EVTX_PARITY_DIR not set";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".evtx") continue;
    double own_share = 0;
    ExpectParity(entry.path(), &own_share);
    std::printf("%-45s own decoder %.1f%%\n", entry.path().filename().c_str(), 100 * own_share);
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace recorder::evtx
