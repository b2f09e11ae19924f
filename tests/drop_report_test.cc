// What the daemon reports about PendingEventCap drops and audit serial
// gaps: the runs row (LiveRunStats) and `recorder status` (JSON and text).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/daemon_status.h"
#include "daemon/run_report.h"
#include "daemon/status_report.h"

namespace recorder::daemon {
namespace {

constexpr size_t kFile = 2;     // EventKindName(2) == "file"
constexpr size_t kNetwork = 3;  // EventKindName(3) == "network"

TEST(DropReport, CapDropsAndSerialGapsReachTheRunsRow) {
  LiveRunCounts counts;
  counts.image_dropped = 8;
  counts.cap_dropped[kFile] = 5;
  counts.cap_dropped[kNetwork] = 2;
  counts.serial_gaps = 11;
  store::RunStats stats = LiveRunStats(counts, RunOutcome());
  EXPECT_EQ(stats.cap_dropped_by_kind[kFile], 5u);
  EXPECT_EQ(stats.cap_dropped_by_kind[kNetwork], 2u);
  EXPECT_EQ(stats.dropped_queue_full, 8u + 5u + 2u);
  EXPECT_EQ(stats.serial_gaps, 11u);
}

TEST(DropReport, StatusShowsTheCapItsDropsByKindAndSerialGaps) {
  ASSERT_EQ(EventKindName(kFile), "file");
  ASSERT_EQ(EventKindName(kNetwork), "network");
  StatusSnapshot s;
  s.pending_event_cap = 5000;
  s.in_flight = 12;
  s.cap_dropped[kFile] = 5;
  s.cap_dropped[kNetwork] = 2;
  s.netlink = true;
  s.serial_gaps = 3;
  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["pending_events"]["cap"], 5000);
  EXPECT_EQ(j["pending_events"]["in_flight"], 12);
  EXPECT_EQ(j["pending_events"]["dropped"], 7);
  EXPECT_EQ(j["pending_events"]["dropped_by_kind"]["file"], 5);
  EXPECT_EQ(j["pending_events"]["dropped_by_kind"]["process_start"], 0);
  EXPECT_EQ(j["serial_gaps"], 3);
  const std::string text = FormatStatusText(j);
  EXPECT_NE(text.find("dropped at PendingEventCap (5000): 7 (file 5, network 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("audit serial gaps: 3"), std::string::npos) << text;

  s.netlink = false;  // the plugin: auditd may filter, gaps mean nothing
  EXPECT_FALSE(StatusJson(s).contains("serial_gaps"));
}

// Writing stops for the disk's floor or for the database's hard size
// limit: the status names the one that holds.
TEST(DropReport, StatusSaysWhichLimitStoppedWriting) {
  StatusSnapshot s;
  s.disk = StatusSnapshot::Disk{};
  s.disk->free_bytes = 70LL << 30;
  s.disk->floor_bytes = 2LL << 30;
  s.disk->writing = false;
  s.disk->over_size_limit = true;
  s.disk->dropped = 9;
  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["limits"]["disk"]["over_size_limit"], true);
  EXPECT_NE(j["limits"]["disk"]["warning"].get<std::string>().find("hard size limit"),
            std::string::npos)
      << j.dump();
  EXPECT_NE(FormatStatusText(j).find("NOT WRITING: past the hard size limit"), std::string::npos)
      << FormatStatusText(j);
  s.disk->over_size_limit = false;  // the disk's floor
  j = StatusJson(s);
  EXPECT_NE(j["limits"]["disk"]["warning"].get<std::string>().find("below the floor"),
            std::string::npos)
      << j.dump();
  EXPECT_NE(FormatStatusText(j).find("NOT WRITING: below the floor"), std::string::npos);
  s.disk->writing = true;
  EXPECT_FALSE(StatusJson(s)["limits"]["disk"].contains("warning"));
}

}  // namespace
}  // namespace recorder::daemon
