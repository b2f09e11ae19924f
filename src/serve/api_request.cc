#include "serve/api_request.h"

#include <charconv>
#include <initializer_list>

#include "investigate/time_spec.h"

namespace recorder::serve {
namespace {

struct EndpointSpec {
  std::string_view path;
  ApiEndpoint endpoint;
  std::initializer_list<std::string_view> params;
};

const EndpointSpec kEndpoints[] = {
    {"/api/tree", ApiEndpoint::kTree, {"process", "depth"}},
    {"/api/show", ApiEndpoint::kShow, {"process", "offset", "limit"}},
    {"/api/timeline",
     ApiEndpoint::kTimeline,
     {"since", "until", "kind", "user", "exe", "node", "limit", "after"}},
    {"/api/histogram", ApiEndpoint::kHistogram, {"since", "until", "kind", "user", "exe", "node"}},
    {"/api/search", ApiEndpoint::kSearch, {"q", "node", "limit"}},
};

std::string ParamList(const EndpointSpec& spec) {
  std::string out;
  for (std::string_view name : spec.params) out += (out.empty() ? "" : ", ") + std::string(name);
  return out.empty() ? "none" : out;
}

// Reads the parameters of one request, each at most once.
class Params {
 public:
  Params(const EndpointSpec& spec, const QueryParams& params) : spec_(spec), params_(params) {}

  Status CheckNames() const {
    for (auto it = params_.begin(); it != params_.end(); ++it) {
      bool known = false;
      for (std::string_view name : spec_.params) known = known || it->first == name;
      if (!known)
        return Status::Errorf(StatusCode::kInvalid, "unknown parameter '{}' for {}: use {}",
                              it->first, spec_.path, ParamList(spec_));
      if (params_.count(it->first) > 1)
        return Status::Errorf(StatusCode::kInvalid, "parameter '{}' given more than once",
                              it->first);
    }
    return Status::Ok();
  }

  // The value, or nullptr when absent.
  const std::string* Get(std::string_view name) const {
    auto it = params_.find(std::string(name));
    return it == params_.end() ? nullptr : &it->second;
  }

  // An integer in [low, high]; `fallback` when absent.
  Result<int64_t> Integer(std::string_view name, int64_t low, int64_t high,
                          int64_t fallback) const {
    const std::string* text = Get(name);
    if (text == nullptr) return fallback;
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || ec != std::errc() || ptr != text->data() + text->size() || value < low ||
        value > high)
      return Status::Errorf(StatusCode::kInvalid, "bad {} '{}': give a whole number from {} to {}",
                            name, *text, low, high);
    return value;
  }

 private:
  const EndpointSpec& spec_;
  const QueryParams& params_;
};

Status ParseTimelineFilters(const Params& params, int64_t now_ms,
                            investigate::TimelineQuery* query) {
  for (std::string_view name : {"since", "until"}) {
    const std::string* text = params.Get(name);
    if (text == nullptr) continue;
    Result<int64_t> ms = investigate::ParseTime(*text, now_ms);
    if (!ms.ok())
      return Status::Errorf(StatusCode::kInvalid, "bad {}: {}", name, ms.status().message());
    (name == "since" ? query->since : query->until) = *ms;
  }
  if (query->since && query->until && *query->since > *query->until)
    return Status::Error(StatusCode::kInvalid, "since is after until");
  if (const std::string* kinds = params.Get("kind"); kinds != nullptr && !kinds->empty()) {
    auto parsed = investigate::ParseEventKinds(*kinds);
    if (!parsed.ok()) return parsed.status();
    query->kinds = std::move(*parsed);
  }
  if (const std::string* user = params.Get("user")) query->user = *user;
  if (const std::string* exe = params.Get("exe")) query->exe_glob = *exe;
  if (const std::string* node = params.Get("node")) query->node = *node;
  return Status::Ok();
}

}  // namespace

Result<ApiRequest> ParseApiRequest(std::string_view path, const QueryParams& query_params,
                                   int64_t now_ms) {
  const EndpointSpec* spec = nullptr;
  for (const EndpointSpec& candidate : kEndpoints)
    if (candidate.path == path) spec = &candidate;
  if (spec == nullptr)
    return Status::Errorf(StatusCode::kNotFound,
                          "no API endpoint {}: use /api/tree, /api/show, /api/timeline, "
                          "/api/histogram or /api/search",
                          path);
  const Params params(*spec, query_params);
  if (Status names = params.CheckNames(); !names.ok()) return names;
  ApiRequest request;
  request.endpoint = spec->endpoint;
  switch (spec->endpoint) {
    case ApiEndpoint::kTree:
    case ApiEndpoint::kShow: {
      if (params.Get("process") == nullptr)
        return Status::Errorf(StatusCode::kInvalid, "{} needs process=ID (a process_id)",
                              spec->path);
      auto id = params.Integer("process", 1, INT64_MAX, 0);
      if (!id.ok()) return id.status();
      request.process_id = *id;
      auto depth = params.Integer("depth", 0, kMaxTreeDepth, 3);
      if (!depth.ok()) return depth.status();
      request.depth = static_cast<int>(*depth);
      auto offset = params.Integer("offset", 0, INT64_MAX, 0);
      if (!offset.ok()) return offset.status();
      request.offset = *offset;
      auto limit = params.Integer("limit", 1, kMaxPageLimit, kDefaultActivityLimit);
      if (!limit.ok()) return limit.status();
      request.limit = *limit;
      break;
    }
    case ApiEndpoint::kTimeline:
    case ApiEndpoint::kHistogram: {
      if (Status s = ParseTimelineFilters(params, now_ms, &request.timeline); !s.ok()) return s;
      auto limit = params.Integer("limit", 1, kMaxPageLimit, 100);
      if (!limit.ok()) return limit.status();
      request.timeline.limit = *limit;
      if (const std::string* after = params.Get("after")) request.timeline.after = *after;
      break;
    }
    case ApiEndpoint::kSearch: {
      const std::string* term = params.Get("q");
      if (term == nullptr || term->empty())
        return Status::Error(StatusCode::kInvalid, "/api/search needs q=TERM (not empty)");
      request.term = *term;
      if (const std::string* node = params.Get("node")) request.node = *node;
      auto limit = params.Integer("limit", 1, kMaxPageLimit, kDefaultSearchLimit);
      if (!limit.ok()) return limit.status();
      request.limit = *limit;
      break;
    }
  }
  return request;
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalid:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kBusy:
      return 503;
    default:
      return 500;
  }
}

}  // namespace recorder::serve
