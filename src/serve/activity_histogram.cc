#include "serve/activity_histogram.h"

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "investigate/event_views.h"

namespace recorder::serve {
namespace {

// Parameters by number: ?1 lower, ?2 upper, ?3 user, ?4 exe glob, ?5 bucket
// width, ?6 node.
std::string Union(const investigate::TimelineQuery& query, std::string_view select_format,
                  bool bounded) {
  std::string sql;
  // Each kind's view and time column, as the timeline reads them: exec
  // and exit are the start and end of rows of `processes`.
  for (const investigate::KindSource& source : investigate::KindSources()) {
    if (!investigate::Selects(query, source.kind)) continue;
    std::string where = fmt::format("{} IS NOT NULL", source.time);
    if (bounded || query.since) where += fmt::format(" AND {} >= ?1", source.time);
    if (bounded || query.until) where += fmt::format(" AND {} <= ?2", source.time);
    if (!query.user.empty()) where += " AND user = ?3";
    if (!query.exe_glob.empty()) where += " AND exe GLOB ?4";
    if (!query.node.empty()) where += " AND node = ?6";
    if (!sql.empty()) sql += " UNION ALL ";
    sql += fmt::format(fmt::runtime(select_format), fmt::arg("time", source.time),
                       fmt::arg("view", source.view), fmt::arg("where", where));
  }
  return sql;
}

void BindFilters(store::Statement& stmt, const investigate::TimelineQuery& query,
                 std::optional<int64_t> lower, std::optional<int64_t> upper) {
  if (lower) stmt.BindInt(1, *lower);
  if (upper) stmt.BindInt(2, *upper);
  if (!query.user.empty()) stmt.BindText(3, query.user);
  if (!query.exe_glob.empty()) stmt.BindText(4, query.exe_glob);
  if (!query.node.empty()) stmt.BindText(6, query.node);
}

}  // namespace

int64_t HistogramBucketMs(int64_t span_ms, int64_t max_buckets) {
  constexpr int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
  constexpr int64_t kWidths[] = {
      100,          250,          500,          kSecond, 2 * kSecond, 5 * kSecond,
      10 * kSecond, 15 * kSecond, 30 * kSecond, kMinute, 2 * kMinute, 5 * kMinute,
      10 * kMinute, 15 * kMinute, 30 * kMinute, kHour,   2 * kHour,   3 * kHour,
      6 * kHour,    12 * kHour,   kDay,         7 * kDay};
  if (max_buckets < 1) max_buckets = 1;
  if (span_ms < 0) span_ms = 0;
  for (int64_t width : kWidths)
    if (span_ms / width < max_buckets) return width;
  const int64_t week = 7 * kDay;
  return (span_ms / max_buckets / week + 1) * week;
}

Result<Histogram> LoadHistogram(store::Database& db, const investigate::TimelineQuery& query,
                                int64_t max_buckets) {
  std::optional<int64_t> lower = query.since, upper = query.until;
  if (!lower || !upper) {
    const std::string sql = "SELECT min(lo), max(hi) FROM (" +
                            Union(query,
                                  "SELECT min({time}) AS lo, max({time}) AS hi FROM {view} "
                                  "WHERE {where}",
                                  false) +
                            ")";
    auto stmt = db.Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    BindFilters(**stmt, query, lower, upper);
    Result<bool> row = (*stmt)->Step();
    if (!row.ok()) return row.status();
    if (!*row || (*stmt)->ColumnType(0) == SQLITE_NULL) return Histogram{};
    if (!lower) lower = (*stmt)->ColumnInt(0);
    if (!upper) upper = (*stmt)->ColumnInt(1);
  }
  Histogram histogram;
  if (*upper < *lower) return histogram;
  histogram.bucket_ms = HistogramBucketMs(*upper - *lower, max_buckets);
  histogram.start =
      *lower - ((*lower % histogram.bucket_ms) + histogram.bucket_ms) % histogram.bucket_ms;
  histogram.counts.assign(static_cast<size_t>((*upper - histogram.start) / histogram.bucket_ms + 1),
                          0);
  const std::string sql =
      "SELECT b, sum(n) FROM (" +
      Union(query,
            fmt::format("SELECT ({{time}} - {}) / ?5 AS b, count(*) AS n FROM {{view}} "
                        "WHERE {{where}} GROUP BY b",
                        histogram.start),
            true) +
      ") GROUP BY b";
  auto stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  BindFilters(**stmt, query, lower, upper);
  (*stmt)->BindInt(5, histogram.bucket_ms);
  for (;;) {
    Result<bool> row = (*stmt)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    const int64_t bucket = (*stmt)->ColumnInt(0);
    if (bucket >= 0 && bucket < static_cast<int64_t>(histogram.counts.size()))
      histogram.counts[static_cast<size_t>(bucket)] += (*stmt)->ColumnInt(1);
  }
  return histogram;
}

}  // namespace recorder::serve
