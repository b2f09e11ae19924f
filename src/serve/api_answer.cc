#include "serve/api_answer.h"

#include <nlohmann/json.hpp>

#include "investigate/event_search.h"
#include "investigate/event_stream.h"
#include "investigate/investigate_format.h"
#include "investigate/process_report.h"
#include "investigate/process_tree.h"
#include "investigate/time_spec.h"
#include "serve/activity_histogram.h"

namespace recorder::serve {
namespace {

using Json = nlohmann::ordered_json;

ApiResponse Ok(const Json& json) {
  // Text from the database may hold invalid UTF-8 (a file name is bytes).
  return {200, json.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

// `show` with its activity cut to one page: the report's JSON as the
// command prints it, with "activity" holding events offset..offset+limit
// and the page's place in "activity_page".
Result<Json> ShowPage(store::Database& db, const ApiRequest& request) {
  Result<investigate::ProcessReport> report =
      investigate::LoadProcessReport(db, request.process_id);
  if (!report.ok()) return report.status();
  const auto total = static_cast<int64_t>(report->activity.size());
  const int64_t first = std::min(request.offset, total);
  const int64_t end = std::min(total, first + request.limit);
  report->activity.erase(report->activity.begin() + end, report->activity.end());
  report->activity.erase(report->activity.begin(), report->activity.begin() + first);
  Json json = investigate::ReportJson(*report);
  json["activity_page"] = Json{{"offset", first},
                               {"total", total},
                               {"next_offset", end < total ? Json(end) : Json(nullptr)}};
  return json;
}

Json HistogramJson(const Histogram& histogram) {
  Json out;
  out["start"] = histogram.start;
  out["start_utc"] = investigate::FormatTime(histogram.start, true);
  out["bucket_ms"] = histogram.bucket_ms;
  out["counts"] = histogram.counts;
  return out;
}

}  // namespace

ApiResponse ErrorResponse(const Status& status) {
  return {HttpStatusFor(status),
          Json{{"error", status.message()}}.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

ApiResponse AnswerApiRequest(store::Database& db, const ApiRequest& request) {
  switch (request.endpoint) {
    case ApiEndpoint::kTree: {
      auto tree = investigate::LoadTree(db, request.process_id, request.depth);
      if (!tree.ok()) return ErrorResponse(tree.status());
      return Ok(investigate::TreeJson(*tree));
    }
    case ApiEndpoint::kShow: {
      Result<Json> page = ShowPage(db, request);
      if (!page.ok()) return ErrorResponse(page.status());
      return Ok(*page);
    }
    case ApiEndpoint::kTimeline: {
      auto page = investigate::LoadTimeline(db, request.timeline);
      if (!page.ok()) return ErrorResponse(page.status());
      return Ok(investigate::TimelineJson(*page));
    }
    case ApiEndpoint::kHistogram: {
      auto histogram =
          serve::LoadHistogram(db, request.timeline);  // not investigate's per-minute one
      if (!histogram.ok()) return ErrorResponse(histogram.status());
      return Ok(HistogramJson(*histogram));
    }
    case ApiEndpoint::kSearch: {
      auto groups = investigate::Search(db, request.term, request.limit, request.node);
      if (!groups.ok()) return ErrorResponse(groups.status());
      return Ok(investigate::SearchJson(*groups));
    }
  }
  return ErrorResponse(Status::Error(StatusCode::kInvalid, "unknown endpoint"));
}

}  // namespace recorder::serve
