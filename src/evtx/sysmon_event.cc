#include "evtx/sysmon_event.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "normalize/event_batch.h"
#include "parse/dns_message.h"

namespace recorder::evtx {
namespace {

// A decimal field; `fallback` when absent or not a number.
int64_t Number(std::string_view text, int64_t fallback) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : fallback;
}

int32_t Port(std::string_view text) { return static_cast<int32_t>(Number(text, -1)); }

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// QueryResults: answers separated by ';'. An address ("::ffff:1.2.3.4"
// for IPv4, as Sysmon writes it) is an A or AAAA answer for the query;
// "type:  5 target" is a record of that type (CNAME...) pointing there.
std::vector<DnsAnswerRecord> DnsAnswers(std::string_view query, std::string_view results) {
  std::vector<DnsAnswerRecord> answers;
  while (!results.empty() && answers.size() < dns::kMaxAnswers) {
    const size_t semicolon = results.find(';');
    std::string_view item = results.substr(0, semicolon);
    results = semicolon == std::string_view::npos ? "" : results.substr(semicolon + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.empty()) continue;
    DnsAnswerRecord answer;
    answer.name = std::string(query);
    if (item.starts_with("type:")) {
      item.remove_prefix(5);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      const size_t space = item.find(' ');
      answer.type = static_cast<uint16_t>(Number(item.substr(0, space), 0));
      if (space != std::string_view::npos) answer.data = std::string(item.substr(space + 1));
    } else if (item.starts_with("::ffff:") && item.find('.') != std::string_view::npos) {
      answer.type = dns::kTypeA;
      answer.data = std::string(item.substr(7));
    } else {
      answer.type = item.find(':') != std::string_view::npos ? dns::kTypeAaaa : dns::kTypeA;
      answer.data = std::string(item);
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

// QueryStatus is a Win32 status, not an rcode: 0 success, 9001..9005 the
// DNS_ERROR_RCODE_* of rcodes 1..5, 9501 "no records" (a NOERROR answer
// without records). Any other status (a timeout, 1460) is no answer
// seen; the status itself stays in sysmon_events.
void SetDnsStatus(std::string_view status, DnsEvent* out) {
  const int64_t code = Number(status, -1);
  out->response_seen = true;
  if (code == 0 || code == 9501) {
    out->rcode = 0;
  } else if (code >= 9001 && code <= 9005) {
    out->rcode = static_cast<uint16_t>(code - 9000);
  } else {
    out->response_seen = false;
  }
}

}  // namespace

std::vector<std::string> SplitWindowsCommandLine(std::string_view line) {
  std::vector<std::string> args;
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string arg;
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
      if (line[i] == '\\') {
        size_t slashes = 0;
        while (i < line.size() && line[i] == '\\') ++slashes, ++i;
        if (i < line.size() && line[i] == '"') {
          arg.append(slashes / 2, '\\');
          if (slashes % 2 == 1) {
            arg.push_back('"');
            ++i;
          }
        } else {
          arg.append(slashes, '\\');
        }
      } else if (line[i] == '"') {
        // "" inside quotes is a literal quote (what the C runtime does).
        if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
          arg.push_back('"');
          i += 2;
        } else {
          quoted = !quoted;
          ++i;
        }
      } else {
        arg.push_back(line[i++]);
      }
    }
    args.push_back(std::move(arg));
  }
  return args;
}

SysmonHashes ParseSysmonHashes(std::string_view hashes) {
  SysmonHashes out;
  while (!hashes.empty()) {
    const size_t comma = hashes.find(',');
    std::string_view item = hashes.substr(0, comma);
    hashes = comma == std::string_view::npos ? "" : hashes.substr(comma + 1);
    const size_t equals = item.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string name = Lower(item.substr(0, equals));
    std::string value = Lower(item.substr(equals + 1));
    if (name == "sha1") {
      out.sha1 = std::move(value);
    } else if (name == "md5") {
      out.md5 = std::move(value);
    } else if (name == "sha256") {
      out.sha256 = std::move(value);
    } else if (name == "imphash") {
      out.imphash = std::move(value);
    }
  }
  return out;
}

int64_t ParseSysmonUtcTime(std::string_view text) {
  // YYYY-MM-DD HH:MM:SS.mmm
  if (text.size() != 23 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.')
    return -1;
  auto part = [&](size_t at, size_t length) { return Number(text.substr(at, length), -1); };
  const int64_t year = part(0, 4), month = part(5, 2), day = part(8, 2), hour = part(11, 2),
                minute = part(14, 2), second = part(17, 2), ms = part(20, 3);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60 || ms < 0)
    return -1;
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(year)),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return -1;
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000 + ms;
}

std::string EventDataJson(const EvtxRecord& record) {
  nlohmann::json data = nlohmann::json::object();
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const EvtxField& field = record.fields[i];
    data[field.name.empty() ? fmt::format("value{}", i) : std::string(field.name)] =
        std::string(field.value);
  }
  return data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SysmonMapping MapSysmonRecord(const EvtxRecord& record, TypedEvent* out) {
  if (record.provider != kSysmonProvider) return SysmonMapping::kOtherChannel;
  const uint32_t id = record.event_id;
  switch (id) {
    case 1:
    case 3:
    case 5:
    case 6:
    case 7:
    case 11:
    case 12:
    case 13:
    case 14:
    case 22:
    case 23:
    case 26:
      break;
    default:
      return SysmonMapping::kUnmapped;
  }
  auto field = [&](std::string_view name) { return record.Field(name); };
  ResetEvent(out);
  auto windows = std::make_shared<WindowsRecord>();
  windows->event_id = id;
  windows->record_id = record.record_id;
  windows->process_guid = std::string(field("ProcessGuid"));
  windows->data_json = EventDataJson(record);

  EventHeader& h = out->header;
  h.node = std::string(record.computer);
  h.serial = record.record_id;
  const int64_t utc = ParseSysmonUtcTime(field("UtcTime"));
  h.time_ms = utc >= 0 ? utc : record.written_ms;
  h.success = true;
  Subject& s = out->subject;
  s.pid = static_cast<int32_t>(Number(field("ProcessId"), 0));
  s.exe = std::string(field("Image"));
  out->enrichment.user = std::string(field("User"));

  switch (id) {
    case 1: {
      auto& start = ResetBody<ProcessStart>(&out->body);
      windows->command_line = std::string(field("CommandLine"));
      start.argv = SplitWindowsCommandLine(windows->command_line);
      start.argc = static_cast<int64_t>(start.argv.size());
      start.cwd = std::string(field("CurrentDirectory"));
      s.ppid = static_cast<int32_t>(Number(field("ParentProcessId"), 0));
      windows->parent_process_guid = std::string(field("ParentProcessGuid"));
      windows->parent_image = std::string(field("ParentImage"));
      windows->parent_command_line = std::string(field("ParentCommandLine"));
      windows->logon_id = std::string(field("LogonId"));
      windows->integrity_level = std::string(field("IntegrityLevel"));
      SysmonHashes hashes = ParseSysmonHashes(field("Hashes"));
      out->enrichment.exe_sha256 = std::move(hashes.sha256);
      out->enrichment.exe_md5 = std::move(hashes.md5);
      windows->sha1 = std::move(hashes.sha1);
      windows->imphash = std::move(hashes.imphash);
      break;
    }
    case 5:
      ResetBody<ProcessEnd>(&out->body);
      break;
    case 3: {
      auto& net = ResetBody<NetworkEvent>(&out->body);
      const bool outbound = field("Initiated") == "true";
      net.direction = outbound ? NetworkDirection::kOutbound : NetworkDirection::kInbound;
      const std::string_view protocol = field("Protocol");
      net.protocol = protocol == "tcp"   ? NetworkProtocol::kTcp
                     : protocol == "udp" ? NetworkProtocol::kUdp
                                         : NetworkProtocol::kUnknown;
      net.family = field("SourceIsIpv6") == "true" ? AddressFamily::kInet6 : AddressFamily::kInet;
      // Sysmon's source is the side that initiated: this host's for an
      // outbound connection, the peer's for an inbound one.
      const std::string_view local = outbound ? "Source" : "Destination";
      const std::string_view remote = outbound ? "Destination" : "Source";
      net.local_address = std::string(field(fmt::format("{}Ip", local)));
      net.local_port = Port(field(fmt::format("{}Port", local)));
      net.remote_address = std::string(field(fmt::format("{}Ip", remote)));
      net.remote_port = Port(field(fmt::format("{}Port", remote)));
      break;
    }
    case 6: {
      // Drivers are loaded by the kernel: the System process (pid 4),
      // one row per host (its ProcessGuid is empty).
      auto& module = ResetBody<ModuleEvent>(&out->body);
      module.operation = ModuleOperation::kLoad;
      module.module = std::string(field("ImageLoaded"));
      s.pid = 4;
      s.exe = "System";
      break;
    }
    case 7: {
      auto& image = ResetBody<ImageLoadEvent>(&out->body);
      image.path = std::string(field("ImageLoaded"));
      image.sha256 = ParseSysmonHashes(field("Hashes")).sha256;
      break;
    }
    case 11:
    case 23:
    case 26: {
      auto& file = ResetBody<FileEvent>(&out->body);
      file.operation = id == 11 ? FileOperation::kCreate : FileOperation::kDelete;
      file.path = std::string(field("TargetFilename"));
      break;
    }
    case 12:
    case 13:
    case 14: {
      auto& registry = ResetBody<RegistryEvent>(&out->body);
      registry.event_type = std::string(field("EventType"));
      registry.target_object = std::string(field("TargetObject"));
      registry.details = std::string(field("Details"));
      registry.new_name = std::string(field("NewName"));
      break;
    }
    case 22: {
      auto& dns = ResetBody<DnsEvent>(&out->body);
      dns.query = std::string(field("QueryName"));
      SetDnsStatus(field("QueryStatus"), &dns);
      dns.answers = DnsAnswers(dns.query, field("QueryResults"));
      dns.transport = NetworkProtocol::kUnknown;
      break;
    }
    default:
      break;
  }
  out->windows = std::move(windows);
  out->platform = Platform::kWindows;
  return SysmonMapping::kMapped;
}

}  // namespace recorder::evtx
