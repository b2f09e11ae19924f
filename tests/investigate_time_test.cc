// The investigation commands' time parser and formatter: every accepted
// form, relative times against a given now, and the refusals.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "investigate/time_spec.h"

namespace {

using recorder::StatusCode;
using recorder::investigate::FormatTime;
using recorder::investigate::ParseTime;

constexpr int64_t kNow = 1795629433000;  // 2026-11-25T17:57:13Z

int64_t Parse(const std::string& text) {
  auto t = ParseTime(text, kNow);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().message();
  return t.ok() ? *t : -1;
}

// Sets TZ for one test and puts the old value back.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    const char* old = std::getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (had_)
      setenv("TZ", old_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST(InvestigateTimeTest, IsoWithZone) {
  EXPECT_EQ(Parse("2026-11-25T17:57:13Z"), 1795629433000);
  EXPECT_EQ(Parse("2026-11-25T17:57:13.583Z"), 1795629433583);
  EXPECT_EQ(Parse("2026-11-25T17:57:13.5Z"), 1795629433500);
  EXPECT_EQ(Parse("2026-11-25T18:57:13+01:00"), 1795629433000);
  EXPECT_EQ(Parse("2026-11-25T12:27:13-0530"), 1795629433000);
  EXPECT_EQ(Parse("2026-11-25T17:57Z"), 1795629420000);
  EXPECT_EQ(Parse("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Parse("2000-02-29T00:00:00Z"), 951782400000);
}

TEST(InvestigateTimeTest, IsoWithoutZoneIsLocalTime) {
  ScopedTz tz("Europe/Berlin");  // UTC+1 in November
  EXPECT_EQ(Parse("2026-11-25T18:57:13"), 1795629433000);
  EXPECT_EQ(Parse("2026-11-25 18:57:13.250"), 1795629433250);
  EXPECT_EQ(Parse("2026-11-25 18:57"), 1795629420000);
  EXPECT_EQ(Parse("2026-11-25"), 1795561200000);  // local midnight
}

TEST(InvestigateTimeTest, RelativeToNow) {
  EXPECT_EQ(Parse("-30s"), kNow - 30000);
  EXPECT_EQ(Parse("-15m"), kNow - 15 * 60000);
  EXPECT_EQ(Parse("-2h"), kNow - 2 * 3600000);
  EXPECT_EQ(Parse("-3d"), kNow - 3 * 86400000LL);
  EXPECT_EQ(Parse("now"), kNow);
}

TEST(InvestigateTimeTest, EpochSeconds) {
  EXPECT_EQ(Parse("1795629433"), 1795629433000);
  EXPECT_EQ(Parse("1795629433.25"), 1795629433250);
  EXPECT_EQ(Parse("0"), 0);
}

TEST(InvestigateTimeTest, BadTimesAreRefusedNamingTheText) {
  for (const char* bad : {"", "yesterday", "-15x", "-m", "-15", "2026-13-01", "2026-11-25T25:00",
                          "2026-11-25T17:57:13+1", "2026-11-25T17:57:13Zjunk", "17:57", "12.3.4",
                          "2026-11-25T17:57:13.Z", "--5m"}) {
    auto t = ParseTime(bad, kNow);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalid) << bad;
    EXPECT_NE(t.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << t.status().message();
  }
}

TEST(InvestigateTimeTest, FormatsUtcAndLocalWithOffset) {
  EXPECT_EQ(FormatTime(1795629433583, true), "2026-11-25T17:57:13.583Z");
  EXPECT_EQ(FormatTime(0, true), "1970-01-01T00:00:00.000Z");
  ScopedTz tz("Asia/Kolkata");  // UTC+5:30, no daylight saving
  EXPECT_EQ(FormatTime(1795629433583, false), "2026-11-25T23:27:13.583+05:30");
  ScopedTz west("America/New_York");
  EXPECT_EQ(FormatTime(1795629433583, false), "2026-11-25T12:57:13.583-05:00");
}

TEST(InvestigateTimeTest, FormattedTimesParseBack) {
  ScopedTz tz("Europe/Berlin");
  for (int64_t ms : {int64_t{0}, int64_t{1795629433583}, int64_t{1783000000123}}) {
    EXPECT_EQ(Parse(FormatTime(ms, true)), ms);
    EXPECT_EQ(Parse(FormatTime(ms, false)), ms);
  }
}

}  // namespace
