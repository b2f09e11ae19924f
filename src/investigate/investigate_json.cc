// The JSON renderings of investigate_format.h. Absent values are null,
// so every object of one kind has the same keys.
#include "investigate/investigate_format.h"
#include "investigate/time_spec.h"

namespace recorder::investigate {
namespace {

using Json = nlohmann::ordered_json;

Json Optional(const std::optional<int64_t>& value) { return value ? Json(*value) : Json(nullptr); }
Json Text(const std::string& value) { return value.empty() ? Json(nullptr) : Json(value); }

// A time as ms and as ISO-8601 UTC text, under `name` and `name`_utc.
void PutTime(Json* object, const std::string& name, const std::optional<int64_t>& ms) {
  (*object)[name] = Optional(ms);
  (*object)[name + "_utc"] = ms ? Json(FormatTime(*ms, true)) : Json(nullptr);
}

Json NodeJson(const TreeNode& node) {
  Json out = ProcessJson(node.process);
  out["count"] = node.count;
  PutTime(&out, "last_start_time", node.last_start);
  out["hidden_children"] = node.hidden_children;
  Json children = Json::array();
  for (const TreeNode& child : node.children) children.push_back(NodeJson(child));
  out["children"] = std::move(children);
  return out;
}

}  // namespace

Json ProcessJson(const ProcessInfo& p) {
  Json out;
  out["process_id"] = p.process_id;
  out["pid"] = p.pid;
  out["ppid"] = Optional(p.ppid);
  out["parent_process_id"] = Optional(p.parent_process_id);
  PutTime(&out, "start_time", p.start_time);
  PutTime(&out, "end_time", p.end_time);
  out["exit_code"] = Optional(p.exit_code);
  out["exe"] = Text(p.exe);
  out["cmdline"] = Text(p.cmdline);
  // The argv column is JSON already; a damaged value stays text.
  Json argv = Json::parse(p.argv, nullptr, false);
  out["argv"] = p.argv.empty() ? Json(nullptr) : argv.is_discarded() ? Json(p.argv) : argv;
  out["cwd"] = Text(p.cwd);
  out["uid"] = Optional(p.uid);
  out["user"] = Text(p.user);
  out["euid"] = Optional(p.euid);
  out["euser"] = Text(p.euser);
  out["auid"] = Optional(p.auid);
  out["login_user"] = Text(p.login_user);
  out["session"] = Optional(p.session);
  out["tty"] = Text(p.tty);
  out["sha256"] = Text(p.sha256);
  out["md5"] = Text(p.md5);
  out["hash_note"] = Text(p.hash_note);
  out["comm"] = Text(p.comm);
  out["node"] = Text(p.node);
  out["placeholder"] = p.placeholder;
  out["inferred"] = p.inferred;
  return out;
}

Json EventJson(const EventRow& e) {
  Json out;
  PutTime(&out, "time", e.time);
  out["kind"] = std::string(EventKindName(e.kind));
  out["process_id"] = e.process_id;
  out["pid"] = e.pid;
  out["exe"] = Text(e.exe);
  out["user"] = Text(e.user);
  out["success"] = e.success ? Json(*e.success) : Json(nullptr);
  out["detail"] = e.detail;
  return out;
}

Json TreeJson(const ProcessTree& tree) {
  Json out;
  Json ancestors = Json::array();
  for (const ProcessInfo& p : tree.ancestors) ancestors.push_back(ProcessJson(p));
  out["ancestors"] = std::move(ancestors);
  out["tree"] = NodeJson(tree.root);
  return out;
}

Json ReportJson(const ProcessReport& report) {
  Json out;
  out["process"] = ProcessJson(report.process);
  Json parents = Json::array();
  for (const ProcessInfo& p : report.ancestors) parents.push_back(ProcessJson(p));
  out["parents"] = std::move(parents);
  Json counts = Json::object();
  for (const auto& [kind, count] : report.counts) counts[std::string(EventKindName(kind))] = count;
  out["counts"] = std::move(counts);
  Json activity = Json::array();
  for (const EventRow& e : report.activity) activity.push_back(EventJson(e));
  out["activity"] = std::move(activity);
  return out;
}

Json TimelineJson(const TimelinePage& page) {
  Json out;
  Json events = Json::array();
  for (const EventRow& e : page.events) events.push_back(EventJson(e));
  out["events"] = std::move(events);
  out["next"] = Text(page.next);
  return out;
}

Json SearchJson(const std::vector<SearchGroup>& groups) {
  Json out = Json::object();
  for (const SearchGroup& group : groups) {
    Json hits = Json::array();
    for (const EventRow& e : group.hits) {
      Json hit = EventJson(e);
      // A process hit is the process, not its exec: no event kind.
      if (group.kind == "process") hit.erase("kind");
      hits.push_back(std::move(hit));
    }
    out[group.kind] = Json{{"hits", std::move(hits)}, {"more", group.more}};
  }
  return out;
}

Json HistogramJson(const std::vector<MinuteCount>& minutes) {
  Json out = Json::array();
  for (const MinuteCount& m : minutes) {
    Json minute;
    PutTime(&minute, "minute", m.minute);
    minute["count"] = m.count;
    out.push_back(std::move(minute));
  }
  return out;
}

}  // namespace recorder::investigate
