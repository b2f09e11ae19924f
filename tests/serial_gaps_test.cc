// SerialGapCounter: interleaved serials and repeated ones are not losses;
// a serial that never comes is, once its hold time passed.
#include "source/serial_gaps.h"

#include <gtest/gtest.h>

namespace recorder {
namespace {

TEST(SerialGapTest, InOrderAndRepeatedSerialsLoseNothing) {
  SerialGapCounter gaps;
  for (uint64_t serial : {100, 100, 100, 101, 102, 102, 103}) gaps.Note(serial, 0);
  gaps.Finish();
  EXPECT_EQ(gaps.lost(), 0u);
  EXPECT_EQ(gaps.gaps(), 0u);
}

TEST(SerialGapTest, InterleavedEventsWithinTheHoldTimeLoseNothing) {
  SerialGapCounter gaps({.hold_ms = 1000});
  // Two CPUs: 11 and 13 are queued before 10 and 12; 12's records come
  // after 14's, all within the hold time.
  int64_t now = 0;
  for (uint64_t serial : {9, 11, 13, 10, 14, 12, 12, 15}) gaps.Note(serial, now += 100);
  EXPECT_EQ(gaps.open_holes(), 0u);
  gaps.Finish();
  EXPECT_EQ(gaps.lost(), 0u);
}

TEST(SerialGapTest, MissingSerialsCountOnceTheHoldTimePassed) {
  SerialGapCounter gaps({.hold_ms = 1000});
  gaps.Note(1, 0);
  gaps.Note(2, 0);
  gaps.Note(6, 10);  // 3, 4, 5 missing
  gaps.Note(4, 20);  // 4 came late: 3 and 5 remain
  gaps.Expire(900);
  EXPECT_EQ(gaps.lost(), 0u) << "still within the hold time";
  EXPECT_EQ(gaps.open_holes(), 2u);
  gaps.Note(7, 1010);  // ages the holes: 3 and 5 are lost
  EXPECT_EQ(gaps.lost(), 2u);
  EXPECT_EQ(gaps.gaps(), 2u);
  gaps.Note(5, 1020);  // too late: not taken back
  EXPECT_EQ(gaps.lost(), 2u);
}

TEST(SerialGapTest, FinishCountsOpenHolesAndTooManyHolesGoOldestFirst) {
  SerialGapCounter gaps({.hold_ms = 1'000'000, .max_holes = 2});
  gaps.Note(10, 0);
  gaps.Note(12, 1);  // hole 11
  gaps.Note(20, 2);  // hole 13..19
  gaps.Note(22, 3);  // hole 21: three open, 11 goes
  EXPECT_EQ(gaps.lost(), 1u);
  EXPECT_EQ(gaps.open_holes(), 2u);
  gaps.Finish();
  EXPECT_EQ(gaps.lost(), 1u + 7u + 1u);
  EXPECT_EQ(gaps.gaps(), 3u);
}

TEST(SerialGapTest, WrapStartsOverAndSerialZeroIsIgnored) {
  SerialGapCounter gaps;
  gaps.Note(0xfffffffe, 0);
  gaps.Note(0xffffffff, 0);
  gaps.Note(0, 0);
  gaps.Note(1, 0);  // the 32-bit counter wrapped
  gaps.Note(2, 0);
  gaps.Finish();
  EXPECT_EQ(gaps.lost(), 0u);
}

}  // namespace
}  // namespace recorder
