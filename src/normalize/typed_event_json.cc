#include "normalize/typed_event_json.h"

#include "normalize/event_codes.h"
#include "parse/dns_message.h"

namespace recorder {
namespace {

using nlohmann::json;

// Ids that audit left unset are null, as in the database.
json Id(int64_t id) { return id == kUnsetId ? json(nullptr) : json(id); }

// Decoded text may hold any bytes; JSON needs valid UTF-8, so invalid
// sequences are replaced rather than failing the whole event.
json Text(const std::string& s) {
  return json(s);  // dump() below uses error_handler::replace
}

struct BodyToJson {
  json& out;
  void operator()(const ProcessStart& p) const {
    json argv = json::array();
    for (const auto& a : p.argv) argv.push_back(Text(a));
    out["argv"] = std::move(argv);
    out["argc"] = p.argc;
    out["argv_truncated"] = p.argv_truncated;
    if (p.path_search_attempts > 0) out["path_search_attempts"] = p.path_search_attempts;
    out["cwd"] = Text(p.cwd);
    out["proctitle"] = Text(p.proctitle);
  }
  void operator()(const ProcessEnd& p) const { out["exit_code"] = p.exit_code; }
  void operator()(const ExecFailure& f) const {
    out["path"] = Text(f.path);
    out["errno"] = f.error;
    const std::string_view name = ErrnoName(f.error);
    out["error"] = name.empty() ? json(nullptr) : json(name);
    out["cwd"] = Text(f.cwd);
  }
  void operator()(const FileEvent& f) const {
    out["operation"] = Name(f.operation);
    out["path"] = Text(f.path);
    out["new_path"] = Text(f.new_path);
    if (f.mode >= 0) out["mode"] = f.mode;
    if (f.owner_uid != kUnsetId) out["owner_uid"] = f.owner_uid;
    if (f.owner_gid != kUnsetId) out["owner_gid"] = f.owner_gid;
    // A name left relative (docs/normalization.md): said so, with its
    // directory's device and inode when known.
    auto origin = [this](const char* prefix, const PathOrigin& o) {
      if (!o.unresolved) return;
      const std::string p(prefix);
      out[p + "_unresolved"] = true;
      if (o.dir_inode == 0) return;
      out[p + "_dir_dev"] = o.dir_dev;
      out[p + "_dir_inode"] = o.dir_inode;
    };
    origin("path", f.path_origin);
    origin("new_path", f.new_path_origin);
  }
  void operator()(const NetworkEvent& n) const {
    out["direction"] = Name(n.direction);
    out["protocol"] = Name(n.protocol);
    out["family"] = Name(n.family);
    out["local_address"] = Text(n.local_address);
    out["local_port"] = n.local_port < 0 ? json(nullptr) : json(n.local_port);
    out["remote_address"] = Text(n.remote_address);
    out["remote_port"] = n.remote_port < 0 ? json(nullptr) : json(n.remote_port);
    out["in_progress"] = n.in_progress;
    // Only live output has it: like path_unresolved, present when set.
    if (n.local_unresolved) out["local_unresolved"] = true;
    if (n.remote_unresolved) out["remote_unresolved"] = true;
  }
  void operator()(const SecurityEvent& s) const {
    out["kind"] = Name(s.kind);
    out["record_type"] = Name(s.record_type);
    out["user"] = Text(s.user);
    out["target_user"] = Text(s.target_user);
    out["result"] = Name(s.result);
    out["terminal"] = Text(s.terminal);
    out["address"] = Text(s.address);
    out["hostname"] = Text(s.hostname);
    out["detail"] = Text(s.detail);
  }
  void operator()(const ModuleEvent& m) const {
    out["operation"] = Name(m.operation);
    out["module"] = Text(m.module);
  }
  void operator()(const ImageLoadEvent& i) const {
    out["path"] = Text(i.path);
    out["image"] = i.executable ? "executable" : "library";
    out["sha256"] = i.sha256;
    if (!i.hash_note.empty()) out["hash_note"] = i.hash_note;
  }
  void operator()(const RegistryEvent& r) const {
    out["event_type"] = Text(r.event_type);
    out["target_object"] = Text(r.target_object);
    out["details"] = Text(r.details);
    out["new_name"] = Text(r.new_name);
  }
  void operator()(const DnsEvent& d) const {
    out["query"] = Text(d.query);
    out["type"] = dns::DnsTypeName(d.query_type);
    out["class"] = dns::DnsClassName(d.query_class);
    out["id"] = d.id;
    out["response_seen"] = d.response_seen;
    out["rcode"] = d.response_seen ? json(dns::DnsRcodeName(d.rcode)) : json(nullptr);
    out["answers"] = DnsAnswersJson(d.answers);
    out["transport"] = Name(d.transport);
    out["family"] = Name(d.family);
    out["server_address"] = Text(d.server_address);
    out["server_port"] = d.server_port < 0 ? json(nullptr) : json(d.server_port);
    out["latency_us"] = d.latency_us < 0 ? json(nullptr) : json(d.latency_us);
    out["attribution"] = Name(d.attribution);
  }
};

}  // namespace

json DnsAnswersJson(const std::vector<DnsAnswerRecord>& answers) {
  json out = json::array();
  for (const DnsAnswerRecord& a : answers)
    out.push_back({{"name", Text(a.name)},
                   {"type", dns::DnsTypeName(a.type)},
                   {"ttl", a.ttl},
                   {"data", Text(a.data)}});
  return out;
}

std::string_view EventKindName(const TypedEvent& event) {
  return EventKindName(event.body.index());
}

json ToJson(const TypedEvent& event) {
  const EventHeader& h = event.header;
  const Subject& s = event.subject;
  json out;
  out["event"] = EventKindName(event);
  out["time"] = h.time_ms;
  if (!h.node.empty()) out["node"] = h.node;
  out["serial"] = h.serial;
  out["arch"] = h.arch;
  out["syscall"] = h.syscall;
  out["key"] = h.key;
  out["success"] = h.success;
  out["exit"] = h.exit;
  out["partial"] = h.partial;
  out["pid"] = s.pid;
  out["ppid"] = s.ppid;
  out["uid"] = Id(s.uid);
  out["euid"] = Id(s.euid);
  out["suid"] = Id(s.suid);
  out["fsuid"] = Id(s.fsuid);
  out["gid"] = Id(s.gid);
  out["egid"] = Id(s.egid);
  out["auid"] = Id(s.auid);
  out["ses"] = Id(s.ses);
  out["tty"] = s.tty;
  out["comm"] = Text(s.comm);
  out["exe"] = Text(s.exe);
  std::visit(BodyToJson{out}, event.body);
  return out;
}

}  // namespace recorder
