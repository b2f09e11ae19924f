// The runs columns serial_gaps, and one dropped_cap_<kind> and one
// filtered_out_<kind> per EventKindName (a kind added to EventBody without
// its columns fails here), each holding what RecordRunStats was given.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "db_query.h"
#include "normalize/typed_event.h"
#include "store/event_store.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

TEST(RunStatsColumnsTest, SerialGapsAndCapDropsByKindReachTheirColumns) {
  TempDir dir;
  const std::string path = dir.File("monitor.db");
  {
    Result<std::unique_ptr<EventStore>> store = EventStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    ASSERT_TRUE((*store)->BeginRun("live:unicast", 1700000000000).ok());
    RunStats stats;
    stats.serial_gaps = 42;
    for (size_t kind = 0; kind < kRunEventKinds; ++kind) {
      stats.cap_dropped_by_kind[kind] = kind + 1;
      stats.filtered_out_by_kind[kind] = 100 + kind;
    }
    ASSERT_TRUE((*store)->RecordRunStats(stats, 1700000001000).ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }
  EXPECT_EQ(ScalarInt(path, "SELECT serial_gaps FROM runs"), 42);
  for (size_t kind = 0; kind < kRunEventKinds; ++kind) {
    EXPECT_EQ(ScalarInt(path, fmt::format("SELECT dropped_cap_{} FROM runs", EventKindName(kind))),
              static_cast<int64_t>(kind + 1))
        << EventKindName(kind);
  }
  for (size_t kind = 0; kind < kRunEventKinds; ++kind) {
    EXPECT_EQ(ScalarInt(path, fmt::format("SELECT filtered_out_{} FROM runs", EventKindName(kind))),
              static_cast<int64_t>(100 + kind))
        << EventKindName(kind);
  }
  // Serial gaps overlap kernel_lost: not in events_lost; what the filters
  // left out is chosen, not lost.
  EXPECT_EQ(ScalarInt(path, "SELECT events_lost FROM runs"), 0);
}

}  // namespace
}  // namespace recorder::store
