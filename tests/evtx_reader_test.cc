// The EVTX reader on public sample files (tests/data/evtx/README.md) and
// on files damaged here: cut short, not EVTX at all.
#include "evtx/evtx_reader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "temp_dir.h"

namespace recorder::evtx {
namespace {

const std::string kSamples = std::string(RECORDER_TEST_DATA) + "/evtx/";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A record's values copied out of the reader (its views end with the
// callback).
struct Row {
  uint64_t record_id = 0;
  uint32_t event_id = 0;
  int64_t written_ms = 0;
  bool recovered = false;
  std::string provider;
  std::string computer;
};

struct Collected {
  std::vector<Row> records;
  std::vector<std::map<std::string, std::string>> fields;
  std::vector<EvtxProblem> problems;
};

Collected ReadAll(EvtxReader& reader) {
  Collected out;
  reader.ReadAll(
      [&](const EvtxRecord& record) {
        out.records.push_back({record.record_id, record.event_id, record.written_ms,
                               record.recovered, std::string(record.provider),
                               std::string(record.computer)});
        std::map<std::string, std::string> named;
        for (const EvtxField& field : record.fields)
          named[std::string(field.name)] = std::string(field.value);
        out.fields.push_back(std::move(named));
      },
      [&](const EvtxProblem& problem) { out.problems.push_back(problem); });
  return out;
}

TEST(EvtxReaderTest, SysmonLogRecordsHaveTheirNamedValues) {
  auto reader = EvtxReader::OpenFile(kSamples + "sysmon.evtx");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  Collected got = ReadAll(**reader);
  EXPECT_TRUE(got.problems.empty()) << got.problems[0].where << ": " << got.problems[0].reason;
  ASSERT_EQ(got.records.size(), 358u);
  EXPECT_EQ((*reader)->stats().records, 358u);
  EXPECT_EQ((*reader)->stats().name_misses, 0u);

  std::map<uint32_t, int> by_id;
  for (const Row& r : got.records) ++by_id[r.event_id];
  EXPECT_EQ(by_id, (std::map<uint32_t, int>{
                       {1, 227}, {3, 2}, {10, 60}, {11, 34}, {12, 8}, {13, 24}, {15, 2}, {16, 1}}));

  // The first process creation, field by field as evtxexport prints it.
  size_t first = 0;
  while (got.records[first].event_id != 1) ++first;
  const Row& create = got.records[first];
  const auto& f = got.fields[first];
  EXPECT_EQ(create.record_id, 1742u);
  EXPECT_EQ(create.computer, "DESKTOP-2KGM189");
  EXPECT_EQ(create.provider, "Microsoft-Windows-Sysmon");
  EXPECT_EQ(create.written_ms, 1514293829136);  // 2017-12-26T13:10:29.136Z
  EXPECT_EQ(f.at("ProcessId"), "9112");
  EXPECT_EQ(f.at("Image"), "C:\\Windows\\SysWOW64\\PING.EXE");
  EXPECT_EQ(f.at("CommandLine"), "ping  -n 6 127.0.0.1 ");
  EXPECT_EQ(f.at("ProcessGuid"), "{94F748D5-4A45-5A42-0000-0010D265F20F}");
  EXPECT_EQ(f.at("ParentProcessGuid"), "{94F748D5-D211-597D-0000-00109BD2C107}");
  EXPECT_EQ(f.at("ParentImage"), "C:\\Windows\\SysWOW64\\cmd.exe");
  EXPECT_EQ(f.at("User"), "NT AUTHORITY\\SYSTEM");
  EXPECT_EQ(f.at("Hashes").substr(0, 46), "SHA1=CE8E487CB76704FE5FBB821A78A1E969EFBE71F9,");
}

TEST(EvtxReaderTest, TheSameFileFromMemoryReadsTheSame) {
  auto from_disk = EvtxReader::OpenFile(kSamples + "sysmon.evtx");
  auto from_memory = EvtxReader::OpenBytes(ReadBytes(kSamples + "sysmon.evtx"), "-");
  ASSERT_TRUE(from_disk.ok() && from_memory.ok());
  Collected disk = ReadAll(**from_disk);
  Collected memory = ReadAll(**from_memory);
  ASSERT_EQ(disk.records.size(), memory.records.size());
  EXPECT_EQ(disk.fields, memory.fields);
  EXPECT_EQ((*from_memory)->name(), "-");
}

TEST(EvtxReaderTest, ADamagedChunkIsReportedAndItsRecordsRecovered) {
  auto reader = EvtxReader::OpenFile(kSamples + "sample_with_a_bad_chunk_magic.evtx");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  Collected got = ReadAll(**reader);
  // libevtx reads 81 of the damaged chunk's 163 records back; each it
  // cannot read is a problem naming it.
  const EvtxReadStats& stats = (*reader)->stats();
  EXPECT_EQ(stats.records, 267u + stats.recovered);
  EXPECT_EQ(stats.recovered, 81u);
  EXPECT_EQ(stats.unreadable, 163u - 81u);
  ASSERT_EQ(got.problems.size(), stats.unreadable);
  EXPECT_EQ(got.problems[0].where, "recovered record 0");
  ASSERT_FALSE(got.records.empty());
  EXPECT_FALSE(got.records.front().recovered);
  EXPECT_TRUE(got.records.back().recovered);
  EXPECT_EQ(got.records.front().provider, "Microsoft-Windows-AppXDeployment");
}

TEST(EvtxReaderTest, AFileCutShortSaysSoAndKeepsWhatItHas) {
  TempDir temp("evtx");
  const std::string whole = ReadBytes(kSamples + "sysmon.evtx");
  const std::string cut = temp.path() + "/cut.evtx";
  std::ofstream(cut, std::ios::binary) << whole.substr(0, 200'000);
  auto reader = EvtxReader::OpenFile(cut);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  Collected got = ReadAll(**reader);
  ASSERT_EQ(got.problems.size(), 1u);
  EXPECT_EQ(got.problems[0].where, "header");
  EXPECT_NE(got.problems[0].reason.find("file cut short"), std::string::npos)
      << got.problems[0].reason;
  EXPECT_GT(got.records.size(), 0u);
  EXPECT_LT(got.records.size(), 358u);
}

// The same cut, from memory (stdin, a .gz): nothing is read past the end.
TEST(EvtxReaderTest, AFileCutShortInMemoryIsReadWithinItsBytes) {
  const std::string whole = ReadBytes(kSamples + "sysmon.evtx");
  for (size_t size : {size_t{5000}, size_t{70'000}, size_t{200'000}}) {
    auto reader = EvtxReader::OpenBytes(whole.substr(0, size), "-");
    ASSERT_TRUE(reader.ok()) << size << ": " << reader.status().message();
    Collected got = ReadAll(**reader);
    ASSERT_FALSE(got.problems.empty()) << size;
    EXPECT_NE(got.problems[0].reason.find("file cut short"), std::string::npos) << size;
  }
}

TEST(EvtxReaderTest, NotEvtxIsAClearError) {
  TempDir temp("evtx");
  const std::string garbage = temp.path() + "/audit.log";
  std::ofstream(garbage) << "type=SYSCALL msg=audit(1.000:1): arch=c000003e\n";
  auto reader = EvtxReader::OpenFile(garbage);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find(garbage + ": cannot open as an EVTX file"),
            std::string::npos)
      << reader.status().message();
  auto missing = EvtxReader::OpenFile(temp.path() + "/nosuch.evtx");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto tiny = EvtxReader::OpenBytes(std::string("ElfFile\0", 8), "-");
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("shorter than its 4096-byte header block"),
            std::string::npos)
      << tiny.status().message();
}

TEST(EvtxReaderTest, HeaderChecks) {
  EXPECT_TRUE(LooksLikeEvtx(std::string_view("ElfFile\0xyz", 11)));
  EXPECT_FALSE(LooksLikeEvtx("ElfFilex"));
  EXPECT_FALSE(LooksLikeEvtx(""));
  std::string header(4096, '\0');
  header.replace(0, 8, std::string_view("ElfFile\0", 8));
  header[42] = 2;  // two chunks: 4096 + 2 * 65536 bytes
  EXPECT_TRUE(CheckHeader(header, 4096 + 2 * 65536).empty());
  EXPECT_TRUE(CheckHeader(header, 4096 + 3 * 65536).empty());  // dirty: more than it says
  auto fewer = CheckHeader(header, 4096 + 65536);
  ASSERT_EQ(fewer.size(), 1u);
  EXPECT_NE(fewer[0].reason.find("hold 1 whole chunks of 64 KiB (the header names 2)"),
            std::string::npos)
      << fewer[0].reason;
  auto partial = CheckHeader(header, 4096 + 3 * 65536 + 10);
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_NE(partial[0].reason.find("3 whole chunks of 64 KiB and 10 bytes of another"),
            std::string::npos)
      << partial[0].reason;
  EXPECT_EQ(CheckHeader("short", 5).size(), 1u);
}

TEST(EvtxReaderTest, FileTimeConversion) {
  EXPECT_EQ(FileTimeToUnixMs(116'444'736'000'000'000ULL), 0);  // 1970-01-01
  EXPECT_EQ(FileTimeToUnixMs(116'444'736'000'000'000ULL + 15'000), 1);
}

TEST(EvtxReaderTest, DataNamesComeFromEventDataInOrder) {
  auto names = DataNamesFromXml(
      R"(<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">)"
      R"(<System><Data Name="NotThis">x</Data></System>)"
      R"(<EventData><Data Name="A">1</Data><Data Name="B&amp;C"/><Data>unnamed</Data></EventData>)"
      R"(</Event>)");
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(*names, (std::vector<std::string>{"A", "B&C", ""}));
  auto broken = DataNamesFromXml("<Event><EventData>");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("does not parse"), std::string::npos);
}

}  // namespace
}  // namespace recorder::evtx
