// The web API's request translation (serve/api_request.h) as a pure
// function: each endpoint's parameters become the investigate queries the
// commands run; bad values, unknown or repeated parameters and unknown
// paths are refused with a message (400, 404). And the histogram's bucket
// widths.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "serve/activity_histogram.h"
#include "serve/api_request.h"

namespace recorder::serve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1795629433000;  // 2026-11-25T17:57:13Z

Result<ApiRequest> Parse(std::string_view path, QueryParams params) {
  return ParseApiRequest(path, params, kNow);
}

// The message of a refused request, and that it maps to `http`.
std::string Refusal(std::string_view path, QueryParams params, int http = 400) {
  Result<ApiRequest> request = Parse(path, std::move(params));
  EXPECT_FALSE(request.ok()) << path;
  if (request.ok()) return "";
  EXPECT_EQ(HttpStatusFor(request.status()), http) << request.status().message();
  return request.status().message();
}

TEST(ServeRequestTest, TreeAndShowTakeAProcessId) {
  Result<ApiRequest> tree = Parse("/api/tree", {{"process", "53"}, {"depth", "7"}});
  ASSERT_TRUE(tree.ok()) << tree.status().message();
  EXPECT_EQ(tree->endpoint, ApiEndpoint::kTree);
  EXPECT_EQ(tree->process_id, 53);
  EXPECT_EQ(tree->depth, 7);
  Result<ApiRequest> show = Parse("/api/show", {{"process", "9"}, {"offset", "100"}});
  ASSERT_TRUE(show.ok());
  EXPECT_EQ(show->endpoint, ApiEndpoint::kShow);
  EXPECT_EQ(show->offset, 100);
  EXPECT_EQ(show->limit, kDefaultActivityLimit);
}

TEST(ServeRequestTest, BadProcessIdsAreRefused) {
  EXPECT_THAT(Refusal("/api/tree", {}), HasSubstr("needs process=ID"));
  EXPECT_THAT(Refusal("/api/show", {{"process", "abc"}}), HasSubstr("bad process 'abc'"));
  EXPECT_THAT(Refusal("/api/show", {{"process", "0"}}), HasSubstr("bad process '0'"));
  EXPECT_THAT(Refusal("/api/show", {{"process", "12x"}}), HasSubstr("bad process '12x'"));
  EXPECT_THAT(Refusal("/api/show", {{"process", "99999999999999999999"}}),
              HasSubstr("whole number"));
  EXPECT_THAT(Refusal("/api/tree", {{"process", "1"}, {"depth", "51"}}),
              HasSubstr("bad depth '51': give a whole number from 0 to 50"));
  EXPECT_THAT(Refusal("/api/show", {{"process", "1"}, {"limit", "5000"}}), HasSubstr("bad limit"));
}

TEST(ServeRequestTest, TimelineTakesTheCommandsTimesKindsAndCursor) {
  Result<ApiRequest> timeline = Parse("/api/timeline", {{"since", "2026-11-25T17:57:13Z"},
                                                        {"until", "1795629434.5"},
                                                        {"kind", "process,file"},
                                                        {"user", "0"},
                                                        {"exe", "*/su"},
                                                        {"node", "mac-ann"},
                                                        {"limit", "10"},
                                                        {"after", "1795629433783.1"}});
  ASSERT_TRUE(timeline.ok()) << timeline.status().message();
  EXPECT_EQ(timeline->endpoint, ApiEndpoint::kTimeline);
  EXPECT_EQ(timeline->timeline.since, 1795629433000);
  EXPECT_EQ(timeline->timeline.until, 1795629434500);
  using investigate::EventKind;
  EXPECT_THAT(timeline->timeline.kinds,
              ElementsAre(EventKind::kExec, EventKind::kExit, EventKind::kFile));
  EXPECT_EQ(timeline->timeline.user, "0");
  EXPECT_EQ(timeline->timeline.exe_glob, "*/su");
  EXPECT_EQ(timeline->timeline.node, "mac-ann");
  EXPECT_EQ(timeline->timeline.limit, 10);
  EXPECT_EQ(timeline->timeline.after, "1795629433783.1");

  Result<ApiRequest> relative = Parse("/api/histogram", {{"since", "-15m"}});
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->endpoint, ApiEndpoint::kHistogram);
  EXPECT_EQ(relative->timeline.since, kNow - 15 * 60 * 1000);
  EXPECT_FALSE(relative->timeline.until.has_value());
}

TEST(ServeRequestTest, BadTimesAndKindsAreRefused) {
  EXPECT_THAT(Refusal("/api/timeline", {{"since", "yesterday"}}), HasSubstr("bad since: "));
  EXPECT_THAT(Refusal("/api/histogram", {{"until", "2026-13-40"}}), HasSubstr("bad until: "));
  EXPECT_THAT(Refusal("/api/timeline", {{"since", "1795629434"}, {"until", "1795629433"}}),
              HasSubstr("since is after until"));
  EXPECT_THAT(Refusal("/api/timeline", {{"kind", "file,bogus"}}),
              HasSubstr("unknown event kind 'bogus'"));
}

TEST(ServeRequestTest, SearchNeedsATerm) {
  Result<ApiRequest> search =
      Parse("/api/search", {{"q", "/etc/passwd"}, {"node", "web-1"}, {"limit", "5"}});
  ASSERT_TRUE(search.ok());
  EXPECT_EQ(search->term, "/etc/passwd");
  EXPECT_EQ(search->node, "web-1");
  EXPECT_EQ(search->limit, 5);
  EXPECT_THAT(Refusal("/api/search", {}), HasSubstr("needs q=TERM"));
  EXPECT_THAT(Refusal("/api/search", {{"q", ""}}), HasSubstr("needs q=TERM"));
}

TEST(ServeRequestTest, UnknownAndRepeatedParametersAreRefused) {
  EXPECT_THAT(Refusal("/api/tree", {{"process", "1"}, {"pid", "1"}}),
              HasSubstr("unknown parameter 'pid' for /api/tree: use process, depth"));
  EXPECT_THAT(Refusal("/api/search", {{"q", "a"}, {"q", "b"}}),
              HasSubstr("parameter 'q' given more than once"));
}

TEST(ServeRequestTest, UnknownPathsAreNotFound) {
  EXPECT_THAT(Refusal("/api/sql", {}, 404), HasSubstr("no API endpoint /api/sql"));
  EXPECT_THAT(Refusal("/api/tree/1", {}, 404), HasSubstr("no API endpoint"));
}

TEST(ServeRequestTest, StatusCodesMapToHttp) {
  EXPECT_EQ(HttpStatusFor(Status::Error(StatusCode::kInvalid, "x")), 400);
  EXPECT_EQ(HttpStatusFor(Status::Error(StatusCode::kNotFound, "x")), 404);
  EXPECT_EQ(HttpStatusFor(Status::Error(StatusCode::kBusy, "x")), 503);
  EXPECT_EQ(HttpStatusFor(Status::Error(StatusCode::kCorrupt, "x")), 500);
}

TEST(ServeRequestTest, HistogramBucketsAreMinutesForTypicalRanges) {
  constexpr int64_t kMinute = 60000;
  EXPECT_EQ(HistogramBucketMs(10 * 1000, 240), 100);
  EXPECT_EQ(HistogramBucketMs(7 * 1000, 240), 100);
  EXPECT_EQ(HistogramBucketMs(100 * 1000, 240), 500);
  EXPECT_EQ(HistogramBucketMs(60 * kMinute, 240), kMinute / 2);
  EXPECT_EQ(HistogramBucketMs(239 * kMinute, 240), kMinute);
  EXPECT_EQ(HistogramBucketMs(240 * kMinute, 240), 2 * kMinute);
  EXPECT_EQ(HistogramBucketMs(24 * 60 * kMinute, 240), 10 * kMinute);
  // A year: whole weeks, and never more than the buckets asked for.
  const int64_t year = 365LL * 24 * 60 * kMinute;
  const int64_t width = HistogramBucketMs(year, 20);
  EXPECT_EQ(width % (7 * 24 * 60 * kMinute), 0);
  EXPECT_LT(year / width, 20);
  EXPECT_EQ(HistogramBucketMs(0, 240), 100);
  EXPECT_EQ(HistogramBucketMs(-5, 0), 100);
}

}  // namespace
}  // namespace recorder::serve
