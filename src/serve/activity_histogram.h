// Events per time bucket over the same filters as a timeline page: the
// bars the web view's timeline draws and brushes. Buckets are a minute
// wide unless the range needs fewer, wider ones (or a short range,
// narrower ones, down to 100 ms); the width is chosen by a pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "investigate/event_stream.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::serve {

inline constexpr int64_t kMaxHistogramBuckets = 240;

struct Histogram {
  int64_t start = 0;  // ms: the first bucket's start
  int64_t bucket_ms = 60000;
  std::vector<int64_t> counts;  // events per bucket; empty when none match
};

// The narrowest of 100, 250, 500 ms, 1 s, 2 s, 5 s, 10 s, 15 s, 30 s, 1, 2, 5, 10, 15, 30
// minutes, 1, 2, 3, 6, 12 hours, 1, 7 days, then whole weeks, that
// covers `span_ms` in at most `max_buckets` buckets; a minute for spans
// from max_buckets seconds to max_buckets minutes.
int64_t HistogramBucketMs(int64_t span_ms, int64_t max_buckets);

// The histogram of the events `query` selects (its since, until, kinds,
// user and exe; not its limit or cursor). Without since or until, the
// first or last matching event bounds it.
Result<Histogram> LoadHistogram(store::Database& db, const investigate::TimelineQuery& query,
                                int64_t max_buckets = kMaxHistogramBuckets);

}  // namespace recorder::serve
