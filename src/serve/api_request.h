// The JSON API of `recorder serve`, as pure translation: a path and its
// query parameters become an ApiRequest (the same queries the `tree`,
// `show`, `timeline` and `search` commands run), or an error the server
// answers with 400 or 404. Tested without a server or a database.
//
//   /api/tree?process=ID[&depth=N]
//   /api/show?process=ID[&offset=N][&limit=N]        activity paged
//   /api/timeline?[since=T][&until=T][&kind=K,..][&user=U][&exe=GLOB][&limit=N][&after=CURSOR]
//   /api/histogram?[since=T][&until=T][&kind=..][&user=U][&exe=GLOB]
//   /api/search?q=TERM[&limit=N]
//
// Times take every form of investigate::ParseTime (ISO-8601, -15m, epoch
// seconds with a fraction).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "investigate/event_stream.h"
#include "util/status.h"

namespace recorder::serve {

// A query string's parameters, name -> value, as httplib::Params holds them.
using QueryParams = std::multimap<std::string, std::string>;

enum class ApiEndpoint { kTree, kShow, kTimeline, kHistogram, kSearch };

// Bounds of what one request may ask for: a page, never the database.
inline constexpr int kMaxTreeDepth = 50;
inline constexpr int64_t kMaxPageLimit = 1000;
inline constexpr int64_t kDefaultActivityLimit = 100;
inline constexpr int64_t kDefaultSearchLimit = 20;

struct ApiRequest {
  ApiEndpoint endpoint = ApiEndpoint::kTimeline;
  int64_t process_id = 0;               // tree, show
  int depth = 3;                        // tree
  int64_t offset = 0;                   // show: the first activity event sent
  int64_t limit = 100;                  // show: activity events; search: hits per kind
  investigate::TimelineQuery timeline;  // timeline and histogram (limit too)
  std::string term;                     // search
  std::string node;                     // search: only this host's hits; empty: any
};

// kNotFound for a path that is not an endpoint; kInvalid naming the
// parameter and what it takes for a bad, repeated or unknown parameter.
Result<ApiRequest> ParseApiRequest(std::string_view path, const QueryParams& params,
                                   int64_t now_ms);

// The HTTP status for a failed Status: 400 for kInvalid, 404 for
// kNotFound, 503 for kBusy, 500 otherwise.
int HttpStatusFor(const Status& status);

}  // namespace recorder::serve
