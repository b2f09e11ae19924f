// The event loop's pacing of netlink reads (daemon/read_pacer.h): when a
// read arms it, when it is due, and what disarms it. Time is passed in.
#include "daemon/read_pacer.h"

#include <gtest/gtest.h>

namespace recorder::daemon {
namespace {

TEST(ReadPacer, ASmallReadThatEmptiedTheSocketDefersTheNextRead) {
  ReadPacer pacer(100, 1000);
  EXPECT_FALSE(pacer.armed()) << "before any read the loop polls the socket";
  pacer.AfterRead(5000, /*drained=*/true, 40);
  ASSERT_TRUE(pacer.armed());
  EXPECT_EQ(pacer.next_read_ms(), 5100);
  EXPECT_FALSE(pacer.ReadDue(5099));
  EXPECT_TRUE(pacer.ReadDue(5100));
  EXPECT_TRUE(pacer.ReadDue(5250)) << "a late loop still reads";
  // The paced read found more: paced again, from its own time.
  pacer.AfterRead(5110, true, 120);
  EXPECT_TRUE(pacer.armed());
  EXPECT_EQ(pacer.next_read_ms(), 5210);
}

TEST(ReadPacer, AnEmptyReadDisarmsSoAnIdleLoopSleepsInPoll) {
  ReadPacer pacer(100, 1000);
  pacer.AfterRead(0, true, 10);
  ASSERT_TRUE(pacer.armed());
  pacer.AfterRead(100, true, 0);
  EXPECT_FALSE(pacer.armed());
  EXPECT_FALSE(pacer.ReadDue(1'000'000));
}

TEST(ReadPacer, AFloodIsReadAtOnce) {
  ReadPacer pacer(100, 1000);
  // Stopped at the per-read limit: the socket still holds records.
  pacer.AfterRead(0, /*drained=*/false, 4096);
  EXPECT_FALSE(pacer.armed());
  // Emptied the socket, but as many records as a paced socket may hold.
  pacer.AfterRead(10, true, 1000);
  EXPECT_FALSE(pacer.armed());
  pacer.AfterRead(20, true, 999);
  EXPECT_TRUE(pacer.armed());
}

TEST(ReadPacer, NoPacingWithoutRoomOrPace) {
  ReadPacer no_room(100, 0);
  no_room.AfterRead(0, true, 1);
  EXPECT_FALSE(no_room.armed());
  ReadPacer no_pace(0, 1000);
  no_pace.AfterRead(0, true, 1);
  EXPECT_FALSE(no_pace.armed());
}

TEST(ReadPacer, PacedRecordsAreAnEighthOfTheBufferAtFourKiBEach) {
  // 16 MiB granted, reported doubled by the kernel.
  EXPECT_EQ(MaxPacedRecords(int64_t{32} << 20), 1024u);
  // The default rmem_max (208 KiB, reported 416 KiB): a dozen records.
  EXPECT_EQ(MaxPacedRecords(425984), 13u);
  EXPECT_EQ(MaxPacedRecords(0), 0u);
  EXPECT_EQ(MaxPacedRecords(-1), 0u);
}

}  // namespace
}  // namespace recorder::daemon
