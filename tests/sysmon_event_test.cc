// The Sysmon mapping (src/evtx/sysmon_event.h) on records built here, for
// the event ids the public samples lack (5, 6, 7, 14, 22, 23, 26), and
// their rows once stored. Field names and value forms are Sysmon's (its
// schema, as in the samples' event 1); sysmon_replay_test.cc covers the
// ids the samples hold end to end.
#include "evtx/sysmon_event.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "db_query.h"
#include "normalize/event_batch.h"
#include "store/event_store.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace recorder::evtx {
namespace {

using recorder::ExpectColumns;
using recorder::Query;
using recorder::Scalar;
using recorder::TempDir;

constexpr std::string_view kGuid = "{11111111-2222-3333-4444-555555555555}";
constexpr std::string_view kChildGuid = "{11111111-2222-3333-4444-666666666666}";

// A Sysmon record of `event_id` with `fields` (name, value).
struct BuiltRecord {
  BuiltRecord(uint32_t event_id, uint64_t record_id,
              std::vector<std::pair<std::string, std::string>> values,
              std::string provider = std::string(kSysmonProvider))
      : storage(std::move(values)), provider_name(std::move(provider)) {
    record.event_id = event_id;
    record.record_id = record_id;
    record.written_ms = 1700000000999;
    record.provider = provider_name;
    record.computer = "WIN-HOST";
    for (const auto& [name, value] : storage) record.fields.push_back({name, value});
  }
  std::vector<std::pair<std::string, std::string>> storage;
  std::string provider_name;
  EvtxRecord record;
};

TypedEvent Mapped(const BuiltRecord& built) {
  TypedEvent event;
  EXPECT_EQ(MapSysmonRecord(built.record, &event), SysmonMapping::kMapped);
  return event;
}

BuiltRecord Create(uint64_t record_id, std::string_view guid, std::string_view pid,
                   std::string_view parent_guid, std::string_view time) {
  return BuiltRecord(1, record_id,
                     {{"UtcTime", std::string(time)},
                      {"ProcessGuid", std::string(guid)},
                      {"ProcessId", std::string(pid)},
                      {"Image", "C:\\Windows\\System32\\cmd.exe"},
                      {"CommandLine", R"(cmd.exe /c "dir C:\a b\" x)"},
                      {"CurrentDirectory", "C:\\Users\\u\\"},
                      {"User", "HOST\\u"},
                      {"LogonId", "0x3e7"},
                      {"IntegrityLevel", "High"},
                      {"Hashes", "MD5=AA,SHA256=BB,IMPHASH=CC"},
                      {"ParentProcessGuid", std::string(parent_guid)},
                      {"ParentProcessId", "100"},
                      {"ParentImage", "C:\\Windows\\explorer.exe"},
                      {"ParentCommandLine", "C:\\Windows\\Explorer.EXE"}});
}

TEST(SysmonMapping, HelpersReadSysmonsForms) {
  EXPECT_EQ(SplitWindowsCommandLine(R"(cmd.exe /c "dir C:\a b\" x)"),
            (std::vector<std::string>{"cmd.exe", "/c", "dir C:\\a b\" x"}));
  EXPECT_EQ(SplitWindowsCommandLine(R"("C:\Program Files\a.exe"  -k  "" a\\"b c")"),
            (std::vector<std::string>{"C:\\Program Files\\a.exe", "-k", "", "a\\b c"}));
  EXPECT_EQ(SplitWindowsCommandLine("  "), std::vector<std::string>{});
  SysmonHashes h = ParseSysmonHashes("SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=01");
  EXPECT_EQ(h.sha1, "ab");
  EXPECT_EQ(h.md5, "cd");
  EXPECT_EQ(h.sha256, "ef");
  EXPECT_EQ(h.imphash, "01");
  EXPECT_EQ(ParseSysmonUtcTime("2017-12-26 13:10:29.134"), 1514293829134);
  EXPECT_EQ(ParseSysmonUtcTime("2017-02-30 13:10:29.134"), -1);
  EXPECT_EQ(ParseSysmonUtcTime("2017-12-26T13:10:29"), -1);
}

TEST(SysmonMapping, OtherChannelsAndUnmappedIdsAreSaidSo) {
  TypedEvent event;
  EXPECT_EQ(MapSysmonRecord(BuiltRecord(4624, 1, {}, "Microsoft-Windows-Security-Auditing").record,
                            &event),
            SysmonMapping::kOtherChannel);
  EXPECT_EQ(MapSysmonRecord(BuiltRecord(10, 1, {}).record, &event), SysmonMapping::kUnmapped);
}

TEST(SysmonMapping, RecordWithoutUtcTimeTakesItsWrittenTime) {
  TypedEvent event = Mapped(BuiltRecord(5, 9, {{"ProcessGuid", std::string(kGuid)}}));
  EXPECT_EQ(event.header.time_ms, 1700000000999);
  EXPECT_EQ(event.header.serial, 9u);
  EXPECT_EQ(event.header.node, "WIN-HOST");
  EXPECT_TRUE(std::holds_alternative<ProcessEnd>(event.body));
}

// The ids the samples lack, through the store: each lands in its view,
// on the process of its ProcessGuid.
class SysmonStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = temp_.File("monitor.db");
    auto store = store::EventStore::Open(db_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
  }
  void Store(const std::vector<BuiltRecord>& records) {
    EventBatch batch;
    for (const BuiltRecord& r : records) batch.push_back(Mapped(r));
    ASSERT_TRUE(store_->Add(&batch, 0).ok());
    ASSERT_TRUE(store_->Flush().ok());
  }
  TempDir temp_{"recorder-sysmon-store"};
  std::string db_;
  std::unique_ptr<store::EventStore> store_;
};

TEST_F(SysmonStoreTest, EveryMappedIdLandsInItsView) {
  ASSERT_EQ(Scalar(db_, "PRAGMA user_version"), std::to_string(store::kSchemaVersion));
  const std::string guid(kGuid);
  Store({
      Create(10, guid, "200", "{00000000-0000-0000-0000-000000000001}", "2024-01-02 03:04:05.000"),
      BuiltRecord(7, 11,
                  {{"UtcTime", "2024-01-02 03:04:05.100"},
                   {"ProcessGuid", guid},
                   {"ProcessId", "200"},
                   {"Image", "C:\\Windows\\System32\\cmd.exe"},
                   {"ImageLoaded", "C:\\Windows\\System32\\ntdll.dll"},
                   {"Hashes", "SHA1=01,MD5=02,SHA256=ABCDEF,IMPHASH=03"},
                   {"Signed", "true"},
                   {"Signature", "Microsoft Windows"}}),
      BuiltRecord(22, 12,
                  {{"UtcTime", "2024-01-02 03:04:05.200"},
                   {"ProcessGuid", guid},
                   {"ProcessId", "200"},
                   {"QueryName", "example.com"},
                   {"QueryStatus", "0"},
                   {"QueryResults", "type:  5 edge.example.net;::ffff:93.184.216.34;2001:db8::1;"},
                   {"Image", "C:\\Windows\\System32\\cmd.exe"}}),
      BuiltRecord(23, 13,
                  {{"UtcTime", "2024-01-02 03:04:05.300"},
                   {"ProcessGuid", guid},
                   {"ProcessId", "200"},
                   {"Image", "C:\\Windows\\System32\\cmd.exe"},
                   {"TargetFilename", "C:\\Users\\u\\a.txt"},
                   {"Hashes", "SHA256=00"},
                   {"IsExecutable", "false"},
                   {"Archived", "true"}}),
      BuiltRecord(26, 14,
                  {{"UtcTime", "2024-01-02 03:04:05.400"},
                   {"ProcessGuid", guid},
                   {"ProcessId", "200"},
                   {"Image", "C:\\Windows\\System32\\cmd.exe"},
                   {"TargetFilename", "C:\\Users\\u\\b.txt"}}),
      BuiltRecord(14, 15,
                  {{"EventType", "RenameKey"},
                   {"UtcTime", "2024-01-02 03:04:05.500"},
                   {"ProcessGuid", guid},
                   {"ProcessId", "200"},
                   {"Image", "C:\\Windows\\System32\\cmd.exe"},
                   {"TargetObject", "HKLM\\SOFTWARE\\Old"},
                   {"NewName", "HKLM\\SOFTWARE\\New"}}),
      BuiltRecord(6, 16,
                  {{"UtcTime", "2024-01-02 03:04:05.600"},
                   {"ImageLoaded", "C:\\Windows\\System32\\drivers\\evil.sys"},
                   {"Hashes", "SHA256=FF"},
                   {"Signed", "false"},
                   {"Signature", ""}}),
      BuiltRecord(5, 17,
                  {{"UtcTime", "2024-01-02 03:04:06.000"},
                   {"ProcessGuid", guid},
                   {"ProcessId", "200"},
                   {"Image", "C:\\Windows\\System32\\cmd.exe"}}),
  });
  std::vector<Row> processes =
      Query(db_, "SELECT * FROM processes WHERE process_guid = '" + guid + "'");
  ASSERT_EQ(processes.size(), 1u);
  const std::string id = processes[0]["process_id"];
  ExpectColumns(processes[0], {{"argv", R"(["cmd.exe","/c","dir C:\\a b\" x"])"},
                               {"cmdline", R"(cmd.exe /c "dir C:\a b\" x)"},
                               {"end_time_utc", "2024-01-02T03:04:06.000Z"},
                               {"exit_code", "NULL"},
                               {"sha256", "bb"},
                               {"md5", "aa"},
                               {"sha1", "NULL"},
                               {"imphash", "cc"},
                               {"integrity_level", "High"},
                               {"node", "WIN-HOST"}});
  // The parent's create is missing: a placeholder from the child's record.
  ExpectColumns(Query(db_, "SELECT * FROM processes WHERE process_id = " +
                               processes[0]["parent_process_id"])[0],
                {{"pid", "100"},
                 {"exe", "C:\\Windows\\explorer.exe"},
                 {"cmdline", "C:\\Windows\\Explorer.EXE"},
                 {"placeholder", "1"}});

  std::vector<Row> images = Query(db_, "SELECT * FROM image_events");
  ASSERT_EQ(images.size(), 1u);
  ExpectColumns(images[0], {{"process_id", id},
                            {"path", "C:\\Windows\\System32\\ntdll.dll"},
                            {"sha256", "abcdef"},
                            {"time_utc", "2024-01-02T03:04:05.100Z"}});

  std::vector<Row> dns = Query(db_, "SELECT * FROM dns_events");
  ASSERT_EQ(dns.size(), 1u);
  ExpectColumns(dns[0], {{"process_id", id},
                         {"pid", "200"},
                         {"query", "example.com"},
                         {"response_seen", "1"},
                         {"rcode", "NOERROR"},
                         {"response", "93.184.216.34, 2001:db8::1"},
                         {"node", "WIN-HOST"}});

  std::vector<Row> files = Query(db_, "SELECT * FROM file_events ORDER BY time");
  ASSERT_EQ(files.size(), 2u);
  ExpectColumns(files[0],
                {{"process_id", id}, {"operation", "delete"}, {"path", "C:\\Users\\u\\a.txt"}});
  ExpectColumns(files[1], {{"operation", "delete"}, {"path", "C:\\Users\\u\\b.txt"}});

  std::vector<Row> registry = Query(db_, "SELECT * FROM registry_events");
  ASSERT_EQ(registry.size(), 1u);
  ExpectColumns(registry[0], {{"process_id", id},
                              {"event_type", "RenameKey"},
                              {"target_object", "HKLM\\SOFTWARE\\Old"},
                              {"new_name", "HKLM\\SOFTWARE\\New"},
                              {"details", "NULL"}});

  // A driver is loaded by the System process (pid 4).
  std::vector<Row> modules = Query(db_, "SELECT * FROM module_events");
  ASSERT_EQ(modules.size(), 1u);
  ExpectColumns(modules[0], {{"pid", "4"},
                             {"exe", "System"},
                             {"operation", "load"},
                             {"module", "C:\\Windows\\System32\\drivers\\evil.sys"},
                             {"node", "WIN-HOST"}});
  EXPECT_EQ(Scalar(db_,
                   "SELECT json_extract(data, '$.Signed') || json_extract(data, '$.Hashes') FROM "
                   "sysmon_events WHERE event_id = 6"),
            "falseSHA256=FF");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM sysmon_events"), "8");
}

// A child's events before its create (a process create logged late, or
// files replayed out of order): the placeholder becomes the process.
TEST_F(SysmonStoreTest, APlaceholderBecomesTheProcessItsCreateDescribes) {
  const std::string guid(kChildGuid);
  Store({BuiltRecord(11, 20,
                     {{"UtcTime", "2024-01-02 03:04:05.000"},
                      {"ProcessGuid", guid},
                      {"ProcessId", "300"},
                      {"Image", "C:\\Windows\\System32\\cmd.exe"},
                      {"TargetFilename", "C:\\x"}})});
  EXPECT_EQ(Scalar(db_, "SELECT placeholder FROM processes WHERE process_guid = '" + guid + "'"),
            "1");
  Store({Create(21, guid, "300", std::string(kGuid), "2024-01-02 03:04:04.000")});
  std::vector<Row> rows = Query(db_, "SELECT * FROM processes WHERE process_guid = '" + guid + "'");
  ASSERT_EQ(rows.size(), 1u);
  ExpectColumns(rows[0], {{"placeholder", "0"},
                          {"start_time_utc", "2024-01-02T03:04:04.000Z"},
                          {"cwd", "C:\\Users\\u\\"},
                          {"integrity_level", "High"}});
  EXPECT_EQ(Scalar(db_, "SELECT process_id FROM file_events"), rows[0]["process_id"]);
}

}  // namespace
}  // namespace recorder::evtx
