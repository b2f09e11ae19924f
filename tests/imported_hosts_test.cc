// One database, three hosts: a Linux capture (tests/data/capture-raw.log),
// a Windows host from Sysmon EVTX (tests/data/evtx/sysmon.evtx) and a
// macOS host from a BSM trail (bsm_sample_trail.h), each replayed by the
// real binary with `--signals DIR`. Windows rules fire on the imported
// Sysmon records by Sysmon's field names, a macOS rule on the BSM exec,
// a Linux rule on the Linux exec, and no rule fires on another product's
// events; `tree`, `show`, `timeline` and `search` answer on every host.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "bsm_sample_trail.h"
#include "db_query.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace recorder {
namespace {

const std::string kData = RECORDER_TEST_DATA;
const std::string kPingGuid = "{94F748D5-4A45-5A42-0000-0010D265F20F}";  // record 1742
const std::string kRegistryKey =
    "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\MpKsle59912eb\\Start";

std::string Rule(const std::string& id, const std::string& product, const std::string& category,
                 const std::string& selection) {
  return "title: " + id + "\nid: " + id + "\nauthor: recorder tests\nlevel: high\n" +
         "logsource:\n  product: " + product + "\n  category: " + category +
         "\ndetection:\n  selection:\n" + selection + "  condition: selection\n";
}

void WriteRules(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& id, const std::string& text) {
    std::ofstream(dir + "/" + id + ".yml") << text;
  };
  // Windows: Sysmon's own names, ParentImage, Hashes and ProcessGuid
  // straight from the record (the log holds 131 such pings; the GUID
  // picks one).
  write("win-ping", Rule("win-ping", "windows", "process_creation",
                         "    Image|endswith: '\\PING.EXE'\n"
                         "    ParentImage|endswith: '\\cmd.exe'\n"
                         "    CommandLine|contains: '-n 6 127.0.0.1'\n"
                         "    Hashes|contains: 'IMPHASH=0EB64EACA8C951D760EEA1A941A2A3F7'\n"
                         "    ProcessGuid: '" +
                             kPingGuid + "'\n"));
  write("win-registry", Rule("win-registry", "windows", "registry_set",
                             "    TargetObject|endswith: '\\Services\\MpKsle59912eb\\Start'\n"
                             "    Details: 'DWORD (0x00000004)'\n"));
  // The same key as registry_add: a SetValue is no key creation.
  write("win-registry-add", Rule("win-registry-add", "windows", "registry_add",
                                 "    TargetObject|endswith: '\\MpKsle59912eb\\Start'\n"));
  // Image and CommandLine are the exec's own; ParentImage is the shell
  // that forked it, asked of the process table on the trail's host (--node).
  write("mac-curl", Rule("mac-curl", "macos", "process_creation",
                         "    Image|endswith: /curl\n"
                         "    CommandLine|contains: 127.0.0.1\n"
                         "    ParentImage|endswith: /zsh\n"));
  write("linux-marker", Rule("linux-marker", "linux", "process_creation",
                             "    Image|endswith: /echo\n"
                             "    CommandLine|contains: RECORDER-GOLDEN-MARKER-SPECIAL\n"));
  // Each would match another product's exec: none may fire.
  write("linux-ping",
        Rule("linux-ping", "linux", "process_creation", "    Image|endswith: '\\PING.EXE'\n"));
  write("linux-curl",
        Rule("linux-curl", "linux", "process_creation", "    Image|endswith: /curl\n"));
  write("win-marker", Rule("win-marker", "windows", "process_creation",
                           "    Image|endswith: /echo\n"
                           "    CommandLine|contains: RECORDER-GOLDEN-MARKER-SPECIAL\n"));
  write("win-curl", Rule("win-curl", "windows", "process_creation", "    Image|endswith: /curl\n"));
  write("mac-marker", Rule("mac-marker", "macos", "process_creation",
                           "    Image|endswith: /echo\n"
                           "    CommandLine|contains: RECORDER-GOLDEN-MARKER-SPECIAL\n"));
  write("mac-ping",
        Rule("mac-ping", "macos", "process_creation", "    Image|endswith: '\\PING.EXE'\n"));
  // Skipped, saying why.
  write("win-security",
        "title: logons\nid: win-security\nlogsource:\n  product: windows\n"
        "  service: security\ndetection:\n  selection:\n    EventID: 4624\n"
        "  condition: selection\n");
  write("mac-file", Rule("mac-file", "macos", "file_event", "    TargetFilename: /x\n"));
  write("win-unknown-field",
        Rule("win-unknown-field", "windows", "registry_set", "    CommandLine: x\n"));
}

class ImportedHostsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir("recorder-imported-hosts");
    db_ = temp_->File("monitor.db");
    rules_ = temp_->File("rules");
    WriteRules(rules_);
    std::ofstream(temp_->File("recorder.json")) << R"({"RecordSignalMatches": 1000})";
    const std::string trail = temp_->File("trail");
    std::ofstream(trail, std::ios::binary)
        << bsm::testing::FirstHalf() << bsm::testing::SecondHalf();
    const std::string common = "replay --no-progress --config " + ShellQuote(temp_->path()) +
                               " --db " + ShellQuote(db_) + " --signals " + ShellQuote(rules_);
    for (const std::string& inputs :
         {ShellQuote(kData + "/capture-raw.log"),
          "--node mac-ann " + ShellQuote(kData + "/evtx/sysmon.evtx") + " " + ShellQuote(trail)}) {
      RecorderRun run = RunRecorder(common + " " + inputs + " 2>&1");
      ASSERT_EQ(run.exit_code, 0) << run.text;
      summaries_ += run.text;
    }
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }
  static std::vector<Row> Matches(const std::string& rule) {
    return Query(db_, "SELECT * FROM signal_matches WHERE rule_id = '" + rule + "'");
  }
  static nlohmann::json Json(const std::string& args) {
    RecorderRun r = RunRecorder(args + " --json --utc --db " + ShellQuote(db_) + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.text;
    return nlohmann::json::parse(r.text, nullptr, false);
  }
  // `signals hunt --json` with every rule of the suite over its database.
  static RecorderRun HuntAll() {
    return RunRecorderApart("signals hunt --json --config " + ShellQuote(temp_->path()) + " --db " +
                                ShellQuote(db_) + " " + ShellQuote(rules_),
                            temp_->File("hunt.err"));
  }
  static TempDir* temp_;
  static std::string db_;
  static std::string rules_;
  static std::string summaries_;
};
TempDir* ImportedHostsTest::temp_ = nullptr;
std::string ImportedHostsTest::db_;
std::string ImportedHostsTest::rules_;
std::string ImportedHostsTest::summaries_;

TEST_F(ImportedHostsTest, AWindowsRuleFiresOnTheSysmonProcessCreate) {
  std::vector<Row> matches = Matches("win-ping");
  ASSERT_EQ(matches.size(), 1u) << summaries_;
  const std::string ping =
      Scalar(db_, "SELECT process_id FROM processes WHERE process_guid = '" + kPingGuid + "'");
  ExpectColumns(matches[0], {{"event_table", "processes"},
                             {"event_row", ping},
                             {"process_id", ping},
                             {"pid", "9112"},
                             {"exe", "C:\\Windows\\SysWOW64\\PING.EXE"},
                             {"time_utc", "2017-12-26T13:10:29.134Z"},
                             {"level", "high"},
                             {"selection", "selection"}});
}

TEST_F(ImportedHostsTest, ARegistryRuleFiresOnTheRegistryRow) {
  std::vector<Row> matches = Matches("win-registry");
  ASSERT_EQ(matches.size(), 1u) << summaries_;
  const Row registry = Query(db_, "SELECT id, process_id FROM registry_data WHERE id = " +
                                      matches[0].at("event_row"))
                           .at(0);
  EXPECT_EQ(matches[0].at("event_table"), "registry_events");
  EXPECT_EQ(registry.at("process_id"), matches[0].at("process_id"));
  ExpectColumns(
      Query(db_, "SELECT * FROM registry_events WHERE target_object = '" + kRegistryKey +
                     "' AND event_type = 'SetValue'")
          .at(0),
      {{"exe", "C:\\Windows\\system32\\services.exe"}, {"details", "DWORD (0x00000004)"}});
  EXPECT_TRUE(Matches("win-registry-add").empty());
}

TEST_F(ImportedHostsTest, AMacosRuleFiresOnTheBsmExecAndALinuxRuleOnTheLinuxExec) {
  std::vector<Row> mac = Matches("mac-curl");
  ASSERT_EQ(mac.size(), 1u) << summaries_;
  ExpectColumns(mac[0], {{"event_table", "processes"},
                         {"event_row", Scalar(db_,
                                              "SELECT process_id FROM processes WHERE "
                                              "node = 'mac-ann' AND pid = 4300")},
                         {"pid", "4300"},
                         {"exe", "/usr/bin/curl"}});
  std::vector<Row> linux_marker = Matches("linux-marker");
  ASSERT_EQ(linux_marker.size(), 1u);
  EXPECT_EQ(linux_marker[0].at("pid"), "13050");
}

TEST_F(ImportedHostsTest, NoRuleFiresOnAnotherProductsEvents) {
  for (const char* rule :
       {"linux-ping", "linux-curl", "win-marker", "win-curl", "mac-marker", "mac-ping"})
    EXPECT_TRUE(Matches(rule).empty()) << rule;
}

// A hunt keeps replay's rule: a Linux rule never matches an imported
// Windows process (hunts rebuild Linux events only, and leave those rows
// out, saying so). A BSM exec is stored like a Linux one and cannot be
// told apart in monitor.db: linux-curl is not asserted here (README).
TEST_F(ImportedHostsTest, AHuntMatchesNoLinuxRuleOnAnImportedWindowsProcess) {
  const RecorderRun run = HuntAll();
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  std::vector<std::string> rules;
  for (const nlohmann::json& match : JsonLines(run.text))
    rules.push_back(match.value("rule_id", ""));
  EXPECT_NE(std::find(rules.begin(), rules.end(), "linux-marker"), rules.end()) << run.text;
  EXPECT_EQ(std::find(rules.begin(), rules.end(), "linux-ping"), rules.end()) << run.text;
  EXPECT_NE(run.err.find("row(s) of hosts imported from Sysmon logs left to the Windows rules"),
            std::string::npos)
      << run.err;
}

// A hunt's Windows rules run over the Sysmon records kept whole and find
// what replay found, pointing at the same rows; the macOS rule is not
// hunted, saying why.
TEST_F(ImportedHostsTest, AHuntFindsWhatReplayFoundOnTheSysmonRecords) {
  const RecorderRun run = HuntAll();
  ASSERT_EQ(run.exit_code, 0) << run.text << run.err;
  std::set<std::string> hunted;
  for (const nlohmann::json& match : JsonLines(run.text)) {
    const std::string rule = match.value("rule_id", "");
    if (rule.rfind("win-", 0) == 0)
      hunted.insert(rule + " " + match.value("event_table", "") + " " +
                    std::to_string(match.value("event_row", int64_t{0})));
  }
  std::set<std::string> replayed;
  for (const Row& row : Query(db_,
                              "SELECT rule_id, event_table, event_row FROM signal_matches WHERE "
                              "rule_id LIKE 'win-%' AND hunt_time IS NULL"))
    replayed.insert(row.at("rule_id") + " " + row.at("event_table") + " " + row.at("event_row"));
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(hunted, replayed);
  EXPECT_NE(run.err.find("not hunted " + rules_ + "/mac-curl.yml"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("295 Sysmon record(s)"), std::string::npos) << run.err;
}

TEST_F(ImportedHostsTest, SignalsCheckSaysWhichRulesLoad) {
  RecorderRun run = RunRecorder("signals check --config " + ShellQuote(temp_->path()) + " " +
                                ShellQuote(rules_) + " 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.text;
  for (const char* loaded : {"win-ping", "win-registry", "mac-curl"})
    EXPECT_NE(run.text.find("loaded     " + rules_ + "/" + loaded + ".yml"), std::string::npos)
        << loaded << run.text;
  for (const char* reason :
       {"win-security.yml (logons): log source not recorded: windows service \"security\" "
        "(only Sysmon's categories)",
        "mac-file.yml (mac-file): log source not recorded: macos category \"file_event\" "
        "(only process_creation)",
        "win-unknown-field.yml (win-unknown-field): selection: unknown field \"CommandLine\" "
        "for windows/registry_set"})
    EXPECT_NE(run.text.find(std::string("skipped    ") + rules_ + "/" + reason), std::string::npos)
        << reason << run.text;
  EXPECT_EQ(Scalar(db_, "SELECT logsource FROM signal_rules WHERE rule_id = 'win-registry'"),
            "windows/registry_set");
}

// tree, show, timeline and search on the imported hosts, in the database
// that also holds the Linux one.
TEST_F(ImportedHostsTest, InvestigationCommandsWorkOnImportedHosts) {
  const std::string ping =
      Scalar(db_, "SELECT process_id FROM processes WHERE process_guid = '" + kPingGuid + "'");
  nlohmann::json tree = Json("tree " + ping);
  EXPECT_EQ(tree["tree"]["exe"], "C:\\Windows\\SysWOW64\\PING.EXE");
  ASSERT_FALSE(tree["ancestors"].empty()) << tree.dump();
  EXPECT_EQ(tree["ancestors"].back()["exe"], "C:\\Windows\\SysWOW64\\cmd.exe");

  const std::string curl =
      Scalar(db_, "SELECT process_id FROM processes WHERE node = 'mac-ann' AND pid = 4300");
  nlohmann::json mac_tree = Json("tree " + curl);
  ASSERT_FALSE(mac_tree["ancestors"].empty()) << mac_tree.dump();
  EXPECT_EQ(mac_tree["ancestors"].back()["exe"], "/bin/zsh");
  nlohmann::json show = Json("show " + curl);
  EXPECT_EQ(show["process"]["exe"], "/usr/bin/curl");
  EXPECT_EQ(show["counts"]["file"], 3) << show["counts"].dump();
  EXPECT_EQ(show["counts"]["network"], 1) << show["counts"].dump();
  EXPECT_EQ(show["counts"]["exit"], 1) << show["counts"].dump();

  // The BSM trail's ten seconds: only its events.
  nlohmann::json timeline =
      Json("timeline --since 2023-11-14T22:13:20Z --until 2023-11-14T22:13:30Z --limit 100");
  ASSERT_EQ(timeline["events"].size(), 9u) << timeline.dump();
  EXPECT_EQ(timeline["events"][0]["kind"], "exec");
  EXPECT_EQ(timeline["events"][0]["exe"], "/bin/zsh");
  // Sysmon's registry rows are in the timeline too.
  nlohmann::json registry = Json("timeline --kind registry --limit 1000");
  EXPECT_EQ(registry["events"].size(), 32u);

  nlohmann::json win = Json("search PING.EXE");
  ASSERT_TRUE(win.contains("process")) << win.dump();
  EXPECT_EQ(win["process"]["hits"][0]["process_id"], std::stoll(ping));
  nlohmann::json mac = Json("search /Users/ann/out.txt");
  ASSERT_TRUE(mac.contains("file")) << mac.dump();
  EXPECT_EQ(mac["file"]["hits"][0]["process_id"], std::stoll(curl));
  nlohmann::json linux_hit = Json("search RECORDER-GOLDEN-MARKER-SPECIAL");
  ASSERT_TRUE(linux_hit.contains("process")) << linux_hit.dump();
}

// --node narrows timeline, its histogram and search to one host's events.
TEST_F(ImportedHostsTest, TimelineAndSearchNarrowToOneHost) {
  // The trail's nine events are all of mac-ann's.
  nlohmann::json mac = Json("timeline --node mac-ann --limit 1000");
  EXPECT_EQ(mac["events"].size(), 9u) << mac.dump();
  nlohmann::json minutes = Json("timeline --node mac-ann --histogram");
  int64_t counted = 0;
  for (const auto& minute : minutes) counted += minute["count"].get<int64_t>();
  EXPECT_EQ(counted, 9) << minutes.dump();
  const std::string windows = Scalar(db_, "SELECT DISTINCT node FROM registry_events");
  ASSERT_FALSE(windows.empty());
  EXPECT_EQ(
      Json("timeline --kind registry --limit 1000 --node " + ShellQuote(windows))["events"].size(),
      32u);
  EXPECT_TRUE(Json("timeline --kind registry --node mac-ann")["events"].empty());
  EXPECT_TRUE(Json("timeline --node no-such-host")["events"].empty());

  // "/bin/" is in processes of the Linux host and of mac-ann: with --node,
  // only mac-ann's.
  const std::string mac_processes =
      "SELECT count(*) FROM processes WHERE node = 'mac-ann' AND process_id = ";
  nlohmann::json all = Json("search /bin/ --limit 1000");
  nlohmann::json only_mac = Json("search /bin/ --limit 1000 --node mac-ann");
  ASSERT_TRUE(only_mac.contains("process")) << only_mac.dump();
  EXPECT_LT(only_mac["process"]["hits"].size(), all["process"]["hits"].size());
  for (const auto& hit : only_mac["process"]["hits"])
    EXPECT_EQ(Scalar(db_, mac_processes + std::to_string(hit["process_id"].get<int64_t>())), "1")
        << hit.dump();
  nlohmann::json mac_files = Json("search /Users/ann --node mac-ann");
  EXPECT_TRUE(mac_files.contains("file")) << mac_files.dump();
  EXPECT_FALSE(Json("search PING.EXE --node mac-ann").contains("process"));
  EXPECT_TRUE(Json("search PING.EXE --node " + ShellQuote(windows)).contains("process"));
}

}  // namespace
}  // namespace recorder
