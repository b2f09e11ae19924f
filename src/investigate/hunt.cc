#include "investigate/hunt.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>

#include "investigate/stored_processes.h"
#include "signals/dns_names.h"
#include "store/dns_response.h"

namespace recorder::investigate {
namespace {

using signals::Bit;
using signals::LogSource;

constexpr int64_t kProgressEvery = 1 << 15;

// The WHERE clause of the query's time window on `column` (?1 since, ?2
// until; a missing bound is NULL and holds for every row).
std::string Window(std::string_view column) {
  return fmt::format("(?1 IS NULL OR {0} >= ?1) AND (?2 IS NULL OR {0} <= ?2)", column);
}

void BindWindow(store::Statement& s, const HuntQuery& query) {
  s.BindOptionalInt(1, query.since);
  s.BindOptionalInt(2, query.until);
}

// About how many rows `table` holds: its largest row id (no count(*),
// which reads the whole table).
int64_t RowsAbout(store::Database& db, std::string_view table, std::string_view id) {
  auto s = db.Prepare(fmt::format("SELECT max({}) FROM {}", id, table));
  if (!s.ok()) return 0;
  Result<bool> row = (*s)->Step();
  return row.ok() && *row ? (*s)->ColumnInt(0) : 0;
}

// A row's answer to EachRow once matched: hunted, or the error.
Result<bool> Matched(const Status& status) {
  if (!status.ok()) return status;
  return true;
}

// What every scan shares: the matcher, its state, the lineage, the
// matches so far.
class Scan {
 public:
  Scan(store::Database& db, const signals::SignalMatcher& matcher, const HuntQuery& query,
       const StringCache& strings, const StoredProcesses& processes, HuntResult* result)
      : db_(db),
        matcher_(matcher),
        query_(query),
        strings_(strings),
        processes_(processes),
        result_(result) {}

  Status Processes();
  Status Files();
  Status Network();
  Status Sysmon();

 private:
  // Runs `sql` (over `data_table`, the window bound to ?1 and ?2) and
  // calls on_row(row) for each row, with progress; on_row returns whether
  // the row was an event the hunt matched (counted in *hunted) or
  // skipped, or an error that ends the scan.
  template <typename OnRow>
  Status EachRow(std::string_view data_table, std::string_view id_column, std::string_view view,
                 const std::string& sql, int64_t* hunted, OnRow&& on_row);
  // The subject fields an event's process row gives; false when the row
  // is not there (the event is skipped: it could not have been stored so)
  // or is an imported Windows process (its events are not rebuilt).
  bool SetProcess(int64_t process_id, TypedEvent* event) const;
  // An event row's head: columns 1 time, 2 process_id, then `success`,
  // `success + 1` uid and `success + 2` user_id; false as SetProcess.
  bool SetEventHead(const store::Statement& q, int success, TypedEvent* event) const;
  // Matches `event` and keeps the served rules' matches, at the view and
  // row place() returns (asked only when a rule matched).
  template <typename Place>
  Status MatchAt(const TypedEvent& event, int64_t process_id, Place&& place);
  Status Match(const TypedEvent& event, std::string_view table, int64_t row, int64_t process_id);
  // The view and row replay points a match on Sysmon record `event_id` at
  // (the typed row written with it), found by its process and time.
  Result<std::pair<std::string_view, int64_t>> SysmonMatchRow(uint32_t event_id, int64_t process_id,
                                                              int64_t time);

  store::Database& db_;
  const signals::SignalMatcher& matcher_;
  const HuntQuery& query_;
  const StringCache& strings_;
  const StoredProcesses& processes_;
  HuntResult* result_;
  signals::MatchState state_;
  std::vector<signals::SignalMatch> matches_;
};

template <typename OnRow>
Status Scan::EachRow(std::string_view data_table, std::string_view id_column, std::string_view view,
                     const std::string& sql, int64_t* hunted, OnRow&& on_row) {
  const int64_t total = RowsAbout(db_, data_table, id_column);
  Result<std::unique_ptr<store::Statement>> s = db_.Prepare(sql);
  if (!s.ok()) return s.status();
  store::Statement& q = **s;
  BindWindow(q, query_);
  for (int64_t done = 1;; ++done) {
    Result<bool> row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    if (query_.progress && done % kProgressEvery == 0) query_.progress({view, done, total});
    Result<bool> matched = on_row(q);
    if (!matched.ok()) return matched.status();
    if (*matched) ++*hunted;
  }
}

bool Scan::SetProcess(int64_t process_id, TypedEvent* event) const {
  const StoredProcesses::Row* row = processes_.Find(process_id);
  if (row == nullptr) return false;
  if (row->windows) {
    ++result_->windows_skipped;
    return false;
  }
  event->subject.pid = row->pid;
  event->subject.ppid = row->ppid;
  event->subject.auid = row->auid;
  event->subject.exe = processes_.Exe(*row);
  // The lineage's key (stored_processes.h).
  event->enrichment.process_start_ms = process_id;
  return true;
}

bool Scan::SetEventHead(const store::Statement& q, int success, TypedEvent* event) const {
  event->subject = Subject();
  if (!SetProcess(q.ColumnInt(2), event)) return false;
  event->header.time_ms = q.ColumnInt(1);
  event->header.success = q.ColumnInt(success) != 0;
  event->subject.uid = ColumnIntOr(q, success + 1, kUnsetId);
  event->enrichment.user = strings_.Get(ColumnIntOr(q, success + 2, 0));
  return true;
}

template <typename Place>
Status Scan::MatchAt(const TypedEvent& event, int64_t process_id, Place&& place) {
  matches_.clear();
  matcher_.Match(event, &processes_, &state_, &matches_);
  for (signals::SignalMatch& m : matches_) {
    // A rebuilt exec is also an auditd event to the matcher; those rules
    // are not served (HuntServes).
    if (!HuntServes(matcher_.rules()[m.rule].source)) continue;
    Result<std::pair<std::string_view, int64_t>> where = place();
    if (!where.ok()) return where.status();
    result_->matches.push_back(HuntMatch{m.rule, event.header.time_ms, std::string(where->first),
                                         where->second, process_id, event.subject.pid,
                                         event.subject.exe, std::move(m.selection)});
  }
  return Status::Ok();
}

Status Scan::Match(const TypedEvent& event, std::string_view table, int64_t row,
                   int64_t process_id) {
  return MatchAt(event, process_id, [&]() -> Result<std::pair<std::string_view, int64_t>> {
    return std::pair<std::string_view, int64_t>{table, row};
  });
}

Status Scan::Processes() {
  const bool argv = matcher_.uses(signals::SignalField::kCommandLine);
  TypedEvent event;
  // Placeholders (flags bit 0) stand for processes whose exec was not
  // seen: no process creation to match.
  return EachRow(
      "process_data", "process_id", "processes",
      "SELECT process_id, start_time, exe_id, command_id, cwd_id, pid, ppid, uid, euid, auid, "
      "ses, tty_id, comm_id, user_id, success FROM process_data "
      "WHERE (flags & 1) = 0 AND start_time IS NOT NULL AND " +
          Window("start_time"),
      &result_->processes, [&](const store::Statement& q) -> Result<bool> {
        const int64_t process_id = q.ColumnInt(0);
        if (const StoredProcesses::Row* row = processes_.Find(process_id);
            row != nullptr && row->windows) {
          ++result_->windows_skipped;
          return false;
        }
        event.header.time_ms = q.ColumnInt(1);
        event.header.success = ColumnIntOr(q, 14, 1) != 0;
        Subject& subject = event.subject;
        subject.exe = strings_.Get(ColumnIntOr(q, 2, 0));
        subject.pid = static_cast<int32_t>(q.ColumnInt(5));
        subject.ppid = static_cast<int32_t>(ColumnIntOr(q, 6, 0));
        subject.uid = ColumnIntOr(q, 7, kUnsetId);
        subject.euid = ColumnIntOr(q, 8, kUnsetId);
        subject.auid = ColumnIntOr(q, 9, kUnsetId);
        subject.ses = ColumnIntOr(q, 10, kUnsetId);
        subject.tty = strings_.Get(ColumnIntOr(q, 11, 0));
        subject.comm = strings_.Get(ColumnIntOr(q, 12, 0));
        event.enrichment.user = strings_.Get(ColumnIntOr(q, 13, 0));
        event.enrichment.process_start_ms = process_id;
        ProcessStart start;
        if (argv) start.argv = processes_.Argv(ColumnIntOr(q, 3, 0));
        start.argc = static_cast<int64_t>(start.argv.size());
        start.cwd = strings_.Get(ColumnIntOr(q, 4, 0));
        event.body = std::move(start);
        return Matched(Match(event, "processes", process_id, process_id));
      });
}

Status Scan::Files() {
  TypedEvent event;
  return EachRow(
      "file_data", "id", "file_events",
      "SELECT id, time, process_id, operation, (SELECT value FROM strings WHERE id = path_id), "
      "(SELECT value FROM strings WHERE id = new_path_id), success, uid, user_id "
      "FROM file_data WHERE " +
          Window("time"),
      &result_->file_events, [&](const store::Statement& q) -> Result<bool> {
        if (!SetEventHead(q, 6, &event)) return false;
        FileEvent file;
        file.operation = static_cast<FileOperation>(q.ColumnInt(3));
        file.path = q.ColumnText(4);
        file.new_path = q.ColumnText(5);
        event.body = std::move(file);
        return Matched(Match(event, "file_events", q.ColumnInt(0), q.ColumnInt(2)));
      });
}

Status Scan::Network() {
  const bool hostnames = matcher_.needs_hostnames();
  // Names for destinations: the DNS answers, merged in time order with
  // the connections (dns_names.h keeps the recent ones).
  signals::DnsNames names;
  std::unique_ptr<store::Statement> dns;
  bool dns_row = false;
  if (hostnames) {
    // Answers up to `until`; from an hour before `since` (kProcessWindowMs).
    auto d = db_.Prepare(
        "SELECT time, process_id, query, response FROM dns_data "
        "WHERE response IS NOT NULL AND response != '' AND "
        "(?1 IS NULL OR time >= ?1 - ?3) AND (?2 IS NULL OR time <= ?2) ORDER BY time");
    if (!d.ok()) return d.status();
    dns = std::move(d).value();
    BindWindow(*dns, query_);
    dns->BindInt(3, signals::DnsNames::kProcessWindowMs);
    Result<bool> first = dns->Step();
    if (!first.ok()) return first.status();
    dns_row = *first;
  }
  // The answers up to `time_ms` into `names`.
  auto answers_until = [&](int64_t time_ms) -> Status {
    for (; dns_row && dns->ColumnInt(0) <= time_ms;) {
      const std::string_view query = dns->ColumnText(2);
      store::ForEachDnsResponseAddress(dns->ColumnText(3), [&](std::string_view address) {
        names.Add(address, query, dns->ColumnInt(0), ColumnIntOr(*dns, 1, -1));
      });
      ++result_->dns_answers;
      Result<bool> next = dns->Step();
      if (!next.ok()) return next.status();
      dns_row = *next;
    }
    return Status::Ok();
  };
  TypedEvent event;
  return EachRow(
      "network_data", "id", "network_events",
      "SELECT id, time, process_id, direction, protocol, family, "
      "(SELECT value FROM strings WHERE id = local_address_id), local_port, "
      "(SELECT value FROM strings WHERE id = remote_address_id), remote_port, success, uid, "
      "user_id FROM network_data WHERE " +
          Window("time") + (hostnames ? " ORDER BY time" : ""),
      &result_->network_events, [&](const store::Statement& q) -> Result<bool> {
        if (!SetEventHead(q, 10, &event)) return false;
        const int64_t process_id = q.ColumnInt(2);
        NetworkEvent net;
        net.direction = static_cast<NetworkDirection>(q.ColumnInt(3));
        net.protocol = static_cast<NetworkProtocol>(ColumnIntOr(q, 4, 0));
        net.family = static_cast<AddressFamily>(ColumnIntOr(q, 5, 0));
        net.local_address = q.ColumnText(6);
        net.local_port = static_cast<int32_t>(ColumnIntOr(q, 7, -1));
        net.remote_address = q.ColumnText(8);
        net.remote_port = static_cast<int32_t>(ColumnIntOr(q, 9, -1));
        state_.scratch.destination_hostname = {};
        if (hostnames) {
          Status read = answers_until(event.header.time_ms);
          if (!read.ok()) return read;
          if (net.direction == NetworkDirection::kOutbound)
            state_.scratch.destination_hostname =
                names.Lookup(net.remote_address, event.header.time_ms, process_id);
        }
        event.body = std::move(net);
        return Matched(Match(event, "network_events", q.ColumnInt(0), process_id));
      });
}

// The typed view and table replay writes Sysmon event `event_id` to
// (process creations aside: their row is the process's).
struct SysmonRowTable {
  uint32_t event_id;
  std::string_view view;
  std::string_view table;
};
constexpr SysmonRowTable kSysmonRowTables[] = {
    {3, "network_events", "network_data"},    {6, "image_events", "image_data"},
    {7, "image_events", "image_data"},        {11, "file_events", "file_data"},
    {12, "registry_events", "registry_data"}, {13, "registry_events", "registry_data"},
    {14, "registry_events", "registry_data"}, {22, "dns_events", "dns_data"},
    {23, "file_events", "file_data"},         {26, "file_events", "file_data"},
};

Result<std::pair<std::string_view, int64_t>> Scan::SysmonMatchRow(uint32_t event_id,
                                                                  int64_t process_id,
                                                                  int64_t time) {
  if (event_id == 1) return std::pair<std::string_view, int64_t>{"processes", process_id};
  for (const SysmonRowTable& t : kSysmonRowTables) {
    if (t.event_id != event_id) continue;
    auto s = db_.Prepare(
        fmt::format("SELECT min(id) FROM {} WHERE process_id = ?1 AND time = ?2", t.table));
    if (!s.ok()) return s.status();
    (*s)->BindInt(1, process_id);
    (*s)->BindInt(2, time);
    Result<bool> row = (*s)->Step();
    if (!row.ok()) return row.status();
    if (*row && (*s)->ColumnType(0) != SQLITE_NULL)
      return std::pair<std::string_view, int64_t>{t.view, (*s)->ColumnInt(0)};
  }
  return std::pair<std::string_view, int64_t>{"processes", process_id};
}

Status Scan::Sysmon() {
  return EachRow(
      "sysmon_data", "id", "sysmon_events",
      "SELECT id, time, event_id, process_id, data FROM sysmon_data WHERE " + Window("time"),
      &result_->sysmon_records, [&](const store::Statement& q) -> Result<bool> {
        // A fresh event and record per row: the matcher reads the
        // record's EventData once per event.
        TypedEvent event;
        event.platform = Platform::kWindows;
        event.header.time_ms = q.ColumnInt(1);
        auto record = std::make_shared<WindowsRecord>();
        record->event_id = static_cast<uint32_t>(q.ColumnInt(2));
        record->data_json = q.ColumnText(4);
        const int64_t process_id = ColumnIntOr(q, 3, 0);
        if (record->event_id == 12) {
          // Sigma splits event 12 by what it did to the key (EventType).
          nlohmann::json data = nlohmann::json::parse(record->data_json, nullptr, false);
          RegistryEvent registry;
          if (data.is_object() && data.contains("EventType") && data["EventType"].is_string())
            registry.event_type = data["EventType"].get<std::string>();
          event.body = std::move(registry);
        }
        if (const StoredProcesses::Row* row = processes_.Find(process_id)) {
          event.subject.pid = row->pid;
          event.subject.exe = processes_.Exe(*row);
        }
        event.windows = std::move(record);
        return Matched(MatchAt(event, process_id, [&] {
          return SysmonMatchRow(event.windows->event_id, process_id, event.header.time_ms);
        }));
      });
}

constexpr signals::SourceMask kWindowsSources =
    Bit(LogSource::kWindowsProcessCreation) | Bit(LogSource::kWindowsNetworkConnection) |
    Bit(LogSource::kWindowsFileEvent) | Bit(LogSource::kWindowsFileDelete) |
    Bit(LogSource::kWindowsRegistryAdd) | Bit(LogSource::kWindowsRegistryDelete) |
    Bit(LogSource::kWindowsRegistrySet) | Bit(LogSource::kWindowsRegistryEvent) |
    Bit(LogSource::kWindowsDnsQuery) | Bit(LogSource::kWindowsImageLoad) |
    Bit(LogSource::kWindowsDriverLoad);

}  // namespace

bool HuntServes(LogSource source) {
  switch (source) {
    case LogSource::kProcessCreation:
    case LogSource::kFileEvent:
    case LogSource::kNetworkConnection:
      return true;
    default:
      return (kWindowsSources & Bit(source)) != 0;
  }
}

std::string_view HuntUnservedReason(LogSource source) {
  if (HuntServes(source)) return {};
  if (source == LogSource::kAuditd)
    return "an auditd rule matches the raw audit records, which monitor.db does not keep "
           "(it is matched live and in replay)";
  if (source == LogSource::kMacosProcessCreation)
    return "a process imported from a BSM trail is stored as a Linux one: a hunt cannot tell "
           "macOS processes apart (it is matched in replay)";
  return "a hunt rebuilds Linux process creations, file events and network connections and "
         "reads Windows' Sysmon records";
}

Result<HuntResult> Hunt(store::Database& db, const signals::SignalMatcher& matcher,
                        const HuntQuery& query) {
  signals::SourceMask sources = 0;
  for (const signals::SigmaRule& rule : matcher.rules())
    if (HuntServes(rule.source)) sources |= Bit(rule.source);
  HuntResult result;
  if (sources == 0) return result;
  auto strings = StringCache::Open(db);
  if (!strings.ok()) return strings.status();
  auto processes = StoredProcesses::Load(db, strings->get(), matcher.needs_argv());
  if (!processes.ok()) return processes.status();
  Scan scan(db, matcher, query, **strings, **processes, &result);
  auto fail = [](std::string_view what, const Status& status) {
    return Status::Errorf(status.code(), "hunting in {}: {}", what, status.message());
  };
  if (sources & Bit(LogSource::kProcessCreation)) {
    Status status = scan.Processes();
    if (!status.ok()) return fail("processes", status);
  }
  if (sources & Bit(LogSource::kFileEvent)) {
    Status status = scan.Files();
    if (!status.ok()) return fail("file_events", status);
  }
  if (sources & Bit(LogSource::kNetworkConnection)) {
    Status status = scan.Network();
    if (!status.ok()) return fail("network_events", status);
  }
  if (sources & kWindowsSources) {
    // A database older than the Sysmon import (schema 11) has no records.
    Result<int64_t> has = db.QueryInt(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sysmon_data'");
    if (!has.ok()) return fail("sysmon_events", has.status());
    if (*has > 0) {
      Status status = scan.Sysmon();
      if (!status.ok()) return fail("sysmon_events", status);
    }
  }
  std::stable_sort(result.matches.begin(), result.matches.end(),
                   [](const HuntMatch& a, const HuntMatch& b) {
                     return std::tie(a.rule, a.time, a.event_table, a.event_row) <
                            std::tie(b.rule, b.time, b.event_table, b.event_row);
                   });
  return result;
}

}  // namespace recorder::investigate
