// How each typed event becomes rows: the audit key (idempotence), the
// process row it belongs to, and its own row. One Add...Row function per
// event table binds that table's row.
#include <variant>

#include "normalize/typed_event_json.h"
#include "parse/dns_message.h"
#include "store/dns_response.h"
#include "store/event_store.h"
#include "store/event_store_statements.h"

namespace recorder::store {

namespace {

// Audit's "unset" ids, our 0 "no string" ids and unknown ports are
// stored as NULL: as values for batched rows, and bound to statements.
SqlInt IdValue(int64_t id) { return id == kUnsetId ? NullInt() : Int(id); }
SqlInt StringIdValue(int64_t id) { return id == 0 ? NullInt() : Int(id); }
SqlInt PortValue(int32_t port) { return port < 0 ? NullInt() : Int(port); }
// An enum's stored code (normalize/event_codes.h); NULL for its "not known".
template <typename E>
SqlInt StoredCode(E value, E unknown) {
  return value == unknown ? NullInt() : Int(static_cast<int64_t>(value));
}
void BindId(Statement* stmt, int index, int64_t id) { stmt->BindOptionalInt(index, IdValue(id)); }
void BindStringId(Statement* stmt, int index, int64_t id) {
  stmt->BindOptionalInt(index, StringIdValue(id));
}

// Interns strings until one fails; then every later call returns 0 and
// status() says why.
class Interning {
 public:
  explicit Interning(StringInterner* interner) : interner_(interner) {}
  int64_t operator()(std::string_view s) {
    if (!status_.ok()) return 0;
    Result<int64_t> id = interner_->Intern(s);
    if (!id.ok()) {
      status_ = id.status();
      return 0;
    }
    return *id;
  }
  const Status& status() const { return status_; }

 private:
  StringInterner* interner_;
  Status status_;
};

// What every event row starts with.
struct RowHead {
  int64_t time_ms;
  int64_t process_id;
  int64_t uid;
  int success;
};

// A file row's unresolved-path columns (kFilePathColumns): all NULL for a
// path that is absolute. st_dev and inode numbers are unsigned 64-bit;
// SQLite's integers are signed, so the bits are kept as they are.
struct FilePathValues {
  explicit FilePathValues(const FileEvent& f) {
    Fill(f.path_origin, &values[0]);
    Fill(f.new_path_origin, &values[3]);
    unresolved = f.path_origin.unresolved || f.new_path_origin.unresolved;
  }
  static void Fill(const PathOrigin& o, SqlInt* out) {
    if (!o.unresolved) return;
    out[0] = Int(1);
    if (o.dir_inode == 0) return;
    out[1] = Int(static_cast<int64_t>(o.dir_dev));
    out[2] = Int(static_cast<int64_t>(o.dir_inode));
  }
  SqlInt values[6];
  bool unresolved = false;
};

Status AddFileRow(BatchedInsert* rows, StringInterner* interner, const RowHead& h,
                  const FileEvent& body, std::string_view user_name) {
  Interning intern(interner);
  const int64_t path = intern(body.path), new_path = intern(body.new_path);
  const int64_t user = intern(user_name);
  if (!intern.status().ok()) return intern.status();
  const FilePathValues where(body);
  return rows->Add({Int(h.time_ms), Int(h.process_id), Int(static_cast<int64_t>(body.operation)),
                    StringIdValue(path), StringIdValue(new_path), Int(h.success), IdValue(h.uid),
                    body.mode >= 0 ? Int(body.mode) : NullInt(), IdValue(body.owner_uid),
                    IdValue(body.owner_gid), StringIdValue(user), where.values[0], where.values[1],
                    where.values[2], where.values[3], where.values[4], where.values[5]});
}

Status AddNetworkRow(BatchedInsert* rows, StringInterner* interner, const RowHead& h,
                     const NetworkEvent& body, std::string_view user_name) {
  Interning intern(interner);
  const int64_t local = intern(body.local_address), remote = intern(body.remote_address);
  const int64_t user = intern(user_name);
  if (!intern.status().ok()) return intern.status();
  return rows->Add({Int(h.time_ms), Int(h.process_id), Int(static_cast<int64_t>(body.direction)),
                    StoredCode(body.protocol, NetworkProtocol::kUnknown),
                    StoredCode(body.family, AddressFamily::kOther), StringIdValue(local),
                    PortValue(body.local_port), StringIdValue(remote), PortValue(body.remote_port),
                    Int(h.success), IdValue(h.uid), Int(body.in_progress ? 1 : 0),
                    StringIdValue(user)});
}

Status AddSecurityRow(BatchedInsert* rows, StringInterner* interner, const RowHead& h,
                      const SecurityEvent& body) {
  Interning intern(interner);
  const int64_t user = intern(body.user), target = intern(body.target_user);
  const int64_t terminal = intern(body.terminal), address = intern(body.address);
  const int64_t hostname = intern(body.hostname), detail = intern(body.detail);
  if (!intern.status().ok()) return intern.status();
  return rows->Add({Int(h.time_ms), Int(h.process_id), Int(static_cast<int64_t>(body.kind)),
                    Int(static_cast<int64_t>(body.record_type)), StringIdValue(user),
                    StringIdValue(target), Int(static_cast<int64_t>(body.result)),
                    StringIdValue(terminal), StringIdValue(address), StringIdValue(hostname),
                    StringIdValue(detail), Int(h.success), IdValue(h.uid)});
}

Status AddModuleRow(BatchedInsert* rows, StringInterner* interner, const RowHead& h,
                    const ModuleEvent& body, std::string_view user_name) {
  Interning intern(interner);
  const int64_t module = intern(body.module), user = intern(user_name);
  if (!intern.status().ok()) return intern.status();
  return rows->Add({Int(h.time_ms), Int(h.process_id), Int(static_cast<int64_t>(body.operation)),
                    StringIdValue(module), Int(h.success), IdValue(h.uid), StringIdValue(user)});
}

// A failed exec: what was attempted, stored as an event of its caller.
Status AddFailedExecRow(BatchedInsert* rows, StringInterner* interner, const RowHead& h,
                        const ExecFailure& body, std::string_view user_name) {
  Interning intern(interner);
  const int64_t path = intern(body.path), cwd = intern(body.cwd), user = intern(user_name);
  if (!intern.status().ok()) return intern.status();
  return rows->Add({Int(h.time_ms), Int(h.process_id), StringIdValue(path), Int(body.error),
                    StringIdValue(cwd), IdValue(h.uid), StringIdValue(user)});
}

}  // namespace

Result<int64_t> EventStore::StoredInstance(const enrich::InstanceKey& instance) {
  // A miss is remembered for the transaction: a parent that started
  // before the recorder and never had an event of its own, such as pid 1,
  // is asked for at every exec of its children, and each lookup would
  // write the queues out first (the query reads audit_events).
  if (txn_->missing_instances.contains(instance)) return int64_t{0};
  Status flushed = FlushProcesses();
  if (flushed.ok()) flushed = FlushAuditKeys();
  if (!flushed.ok()) return flushed;
  Statement* select = sql_->select_instance.get();
  select->BindInt(1, instance.start_ms);
  select->BindInt(2, instance.process.node);
  select->BindInt(3, instance.process.pid);
  Result<bool> row = select->Step();
  const int64_t id = row.ok() && *row ? select->ColumnInt(0) : 0;
  select->Reset();
  if (id == 0 && txn_->missing_instances.size() < WriteTransaction::kMaxMissingInstances)
    txn_->missing_instances.insert(instance);
  return id;
}

Result<int64_t> EventStore::InsertProcess(const TypedEvent& event, int64_t node_id,
                                          bool placeholder) {
  const Subject& s = event.subject;
  Result<int64_t> exe = interner_->Intern(s.exe);
  Result<int64_t> comm = interner_->Intern(s.comm);
  Result<int64_t> tty = interner_->Intern(s.tty);
  if (!exe.ok()) return exe.status();
  if (!comm.ok()) return comm.status();
  if (!tty.ok()) return tty.status();
  int64_t command_id = 0, cwd_id = 0, path_search_attempts = 0;
  int64_t flags = placeholder ? 1 : 0;
  if (!placeholder) {
    const auto& start = std::get<ProcessStart>(event.body);
    path_search_attempts = start.path_search_attempts;
    Result<int64_t> command(int64_t{0});
    if (!start.argv.empty()) {
      command = interner_->InternArgv(start.argv);
    } else if (!start.proctitle.empty()) {
      // No EXECVE record: the proctitle holds argv NUL-separated.
      std::vector<std::string> argv;
      std::string_view rest = start.proctitle;
      while (!rest.empty()) {
        size_t nul = rest.find('\0');
        argv.emplace_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
      }
      command = interner_->InternArgv(argv);
    }
    if (!command.ok()) return command.status();
    command_id = *command;
    Result<int64_t> cwd = interner_->Intern(start.cwd);
    if (!cwd.ok()) return cwd.status();
    cwd_id = *cwd;
    if (start.argv_truncated) flags |= 2;
  }
  if (event.header.partial) flags |= 4;
  const Enrichment& en = event.enrichment;
  int64_t user = 0, euser = 0, login_user = 0, sha256 = 0, md5 = 0, hash_note = 0;
  for (auto [out, value] : {std::pair{&user, &en.user},
                            {&euser, &en.euser},
                            {&login_user, &en.login_user},
                            {&sha256, &en.exe_sha256},
                            {&md5, &en.exe_md5},
                            {&hash_note, &en.hash_note}}) {
    Result<int64_t> id = interner_->Intern(*value);
    if (!id.ok()) return id.status();
    *out = *id;
  }
  const enrich::ProcessKey key = enrich::StoredProcessKey(node_id, s.pid);
  Result<int64_t> parent = processes_.ParentOf(enrich::StoredProcessKey(node_id, s.ppid),
                                               event.header.time_ms, en.parent_start_ms, this);
  if (!parent.ok()) return parent;
  const int64_t parent_id = *parent;
  // A placeholder for a process the enrich stage knows the start of (seeded
  // from /proc) gets that start, so its children can link to it.
  const int64_t start_ms = placeholder ? en.process_start_ms : event.header.time_ms;

  WriteTransaction& txn = *txn_;
  const int64_t process_id = txn.next_process_id++;
  txn.waiting_processes.push_back(
      {Int(process_id),
       Int(node_id),
       Int(s.pid),
       Int(s.ppid),
       parent_id != 0 ? Int(parent_id) : NullInt(),
       start_ms >= 0 ? Int(start_ms) : NullInt(),
       NullInt(),  // end_time: see WriteEvent's ProcessEnd
       NullInt(),  // exit_code
       StringIdValue(*exe),
       StringIdValue(*comm),
       StringIdValue(command_id),
       StringIdValue(cwd_id),
       IdValue(s.uid),
       IdValue(s.euid),
       IdValue(s.auid),
       IdValue(s.ses),
       StringIdValue(*tty),
       placeholder ? NullInt() : Int(event.header.success ? 1 : 0),
       Int(flags),
       StringIdValue(user),
       StringIdValue(euser),
       StringIdValue(login_user),
       StringIdValue(sha256),
       StringIdValue(md5),
       StringIdValue(hash_note),
       path_search_attempts > 0 ? Int(path_search_attempts) : NullInt()});
  ++txn.rows;
  if (txn.waiting_processes.size() >= WriteTransaction::kMaxWaitingProcesses) {
    Status status = FlushProcesses();
    if (!status.ok()) return status;
  }
  if (en.hash_note == "pending" && *exe != 0) hashes_->NotePending(&txn, *exe, process_id);
  // The row starts an instance (its start is known, and it is not a
  // failed exec): the lookups this transaction remembered as missing may
  // now find it.
  const bool instance = start_ms >= 0 && (placeholder || event.header.success);
  if (instance && !txn.missing_instances.empty()) txn.missing_instances.erase({key, start_ms});
  if (placeholder) {
    runs_->Count(&StoreCounters::placeholder_processes);
    processes_.NotePlaceholder(key, process_id, *exe, event.header.time_ms, start_ms);
  } else {
    processes_.NoteExec(key, process_id, *exe, event.header.time_ms, event.header.success);
  }
  return process_id;
}

Result<int64_t> EventStore::ResolveProcess(const TypedEvent& event, int64_t node_id) {
  if (event.windows != nullptr) {
    // By ProcessGuid: a placeholder row for a process whose create record
    // is not (yet) stored.
    Result<int64_t> known = WindowsProcessOf(node_id, event.windows->process_guid);
    if (!known.ok() || *known != 0) return known;
    return InsertWindowsProcess(node_id, event.windows->process_guid, event.subject.pid, 0, 0,
                                event.subject.exe, "", nullptr);
  }
  Result<int64_t> known =
      processes_.RowOf(enrich::StoredProcessKey(node_id, event.subject.pid), event.header.time_ms,
                       event.enrichment.process_start_ms, event.subject.exe, this);
  if (!known.ok() || *known != 0) return known;
  return InsertProcess(event, node_id, /*placeholder=*/true);
}

Result<int64_t> EventStore::WriteProcessStart(const TypedEvent& event, int64_t node_id) {
  Result<int64_t> process_id = InsertProcess(event, node_id, /*placeholder=*/false);
  if (process_id.ok()) runs_->Count(&StoreCounters::process_starts);
  return process_id;
}

Status EventStore::WriteImageLoad(const TypedEvent& event, int64_t node_id) {
  const auto& body = std::get<ImageLoadEvent>(event.body);
  Result<int64_t> process = ResolveProcess(event, node_id);
  if (!process.ok()) return Fail("write", process.status());
  Result<int64_t> path = interner_->Intern(body.path);
  if (!path.ok()) return Fail("write", path.status());
  Result<int64_t> user = interner_->Intern(event.enrichment.user);
  if (!user.ok()) return Fail("write", user.status());
  Statement* stmt = sql_->insert_image.get();
  stmt->BindInt(1, event.header.time_ms);
  stmt->BindInt(2, *process);
  BindStringId(stmt, 3, *path);
  if (body.sha256.empty())
    stmt->BindNull(4);
  else
    stmt->BindText(4, body.sha256);
  BindId(stmt, 5, event.subject.uid);
  BindStringId(stmt, 6, *user);
  Status status = stmt->Run();
  if (!status.ok()) return Fail("write", status);
  runs_->Count(&StoreCounters::image_events);
  ++txn_->rows;
  return Status::Ok();
}

Status EventStore::WriteDns(const TypedEvent& event, int64_t node_id) {
  const auto& body = std::get<DnsEvent>(event.body);
  std::optional<int64_t> process;
  if (event.subject.pid > 0) {
    Result<int64_t> resolved = ResolveProcess(event, node_id);
    if (!resolved.ok()) return Fail("write", resolved.status());
    process = *resolved;
  }
  Result<int64_t> server = interner_->Intern(body.server_address);
  if (!server.ok()) return Fail("write", server.status());
  Result<int64_t> user = interner_->Intern(event.enrichment.user);
  if (!user.ok()) return Fail("write", user.status());
  std::string addresses;
  for (const DnsAnswerRecord& a : body.answers) {
    if (a.type != dns::kTypeA && a.type != dns::kTypeAaaa) continue;
    AppendDnsResponseAddress(&addresses, a.data);
  }
  Statement* stmt = sql_->insert_dns.get();
  stmt->BindInt(1, event.header.time_ms);
  if (process)
    stmt->BindInt(2, *process);
  else
    stmt->BindNull(2);
  if (event.subject.pid > 0)
    stmt->BindInt(3, event.subject.pid);
  else
    stmt->BindNull(3);
  stmt->BindText(4, body.query);
  // Type and class 0: not known (Sysmon's event 22 does not say).
  if (body.query_type != 0)
    stmt->BindText(5, dns::DnsTypeName(body.query_type));
  else
    stmt->BindNull(5);
  if (body.query_class != 0)
    stmt->BindText(6, dns::DnsClassName(body.query_class));
  else
    stmt->BindNull(6);
  stmt->BindInt(7, body.id);
  stmt->BindInt(8, body.response_seen ? 1 : 0);
  if (body.response_seen) {
    stmt->BindText(9, dns::DnsRcodeName(body.rcode));
    stmt->BindText(10, addresses);
    stmt->BindText(11, DnsAnswersJson(body.answers)
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    stmt->BindNull(9);
    stmt->BindNull(10);
    stmt->BindNull(11);
  }
  stmt->BindInt(12, static_cast<int64_t>(body.transport));
  stmt->BindInt(13, static_cast<int64_t>(body.family));
  BindStringId(stmt, 14, *server);
  if (body.server_port >= 0)
    stmt->BindInt(15, body.server_port);
  else
    stmt->BindNull(15);
  if (body.latency_us >= 0)
    stmt->BindInt(16, body.latency_us);
  else
    stmt->BindNull(16);
  BindId(stmt, 17, event.subject.uid);
  BindStringId(stmt, 18, *user);
  stmt->BindInt(19, static_cast<int64_t>(body.attribution));
  Status status = stmt->Run();
  if (!status.ok()) return Fail("write", status);
  runs_->Count(&StoreCounters::dns_events);
  if (body.attribution == DnsAttribution::kNone) runs_->Count(&StoreCounters::dns_unattributed);
  ++txn_->rows;
  return Status::Ok();
}

Status EventStore::WriteEvent(TypedEvent* event) {
  WriteTransaction& txn = *txn_;
  const EventHeader& h = event->header;
  if (h.node != txn.node) {
    Result<int64_t> node_id = interner_->Intern(h.node);
    if (!node_id.ok()) return Fail("write", node_id.status());
    txn.node = h.node;
    txn.node_id = *node_id;
  }
  const int64_t node_id = txn.node_id;
  if (event->windows != nullptr) return WriteWindowsEvent(event, node_id);
  if (std::holds_alternative<ImageLoadEvent>(event->body)) return WriteImageLoad(*event, node_id);
  if (std::holds_alternative<DnsEvent>(event->body)) return WriteDns(*event, node_id);
  const AuditKey key{h.time_ms, h.serial, node_id};
  const enrich::ProcessKey process_key = enrich::StoredProcessKey(node_id, event->subject.pid);
  const bool is_start = std::holds_alternative<ProcessStart>(event->body);
  auto bind_key = [&](Statement* stmt) {
    stmt->BindInt(1, h.time_ms);
    stmt->BindInt(2, static_cast<int64_t>(h.serial));
    stmt->BindInt(3, node_id);
  };

  if (key == txn.last_key) {
    if (!txn.last_key_new) {
      runs_->Count(&StoreCounters::duplicates);
      return Status::Ok();
    }
    if (is_start) {
      // The audit key row was written by an earlier typed event of this
      // audit event; point it at the process so a re-replay finds it.
      Result<int64_t> process_id = WriteProcessStart(*event, node_id);
      if (!process_id.ok()) return Fail("write", process_id.status());
      Status flushed = FlushAuditKeys();
      if (!flushed.ok()) return Fail("write", flushed);
      bind_key(sql_->set_audit_process.get());
      sql_->set_audit_process->BindInt(4, *process_id);
      Status status = sql_->set_audit_process->Run();
      if (!status.ok()) return Fail("write", status);
      if (event->signals.empty()) return Status::Ok();
      return WriteSignalMatches(*event, "processes", nullptr, *process_id, *process_id);
    }
  } else if (is_start) {
    // Exec: the audit key row carries the process_id, so replaying the
    // same log again can map the pid to the stored process.
    bool exists = false;
    int64_t stored_id = 0;
    if (!txn.KeyAboveStored(key)) {
      Status flushed = FlushAuditKeys();
      if (!flushed.ok()) return Fail("write", flushed);
      Statement* select = sql_->select_audit_process.get();
      bind_key(select);
      Result<bool> row = select->Step();
      exists = row.ok() && *row;
      stored_id = exists && select->ColumnType(0) != SQLITE_NULL ? select->ColumnInt(0) : 0;
      select->Reset();
      if (!row.ok()) return Fail("write", row.status());
    }
    txn.last_key = key;
    txn.last_key_new = !exists;
    if (exists) {
      runs_->Count(&StoreCounters::duplicates);
      if (stored_id != 0) {
        Result<int64_t> exe = interner_->Intern(event->subject.exe);
        if (!exe.ok()) return Fail("write", exe.status());
        processes_.NoteExec(process_key, stored_id, *exe, h.time_ms, h.success);
      }
      return Status::Ok();
    }
    Result<int64_t> process_id = WriteProcessStart(*event, node_id);
    if (!process_id.ok()) return Fail("write", process_id.status());
    Status queued = QueueNewKey(key, Int(*process_id));
    if (!queued.ok() || event->signals.empty()) return queued;
    return WriteSignalMatches(*event, "processes", nullptr, *process_id, *process_id);
  } else if (txn.KeyAboveStored(key)) {
    // New for sure: no INSERT OR IGNORE needed to find out.
    Status status = QueueNewKey(key, NullInt());
    if (!status.ok()) return status;
    txn.last_key = key;
    txn.last_key_new = true;
  } else {
    Status status = FlushAuditKeys();
    if (!status.ok()) return Fail("write", status);
    Statement* insert = sql_->insert_audit.get();
    bind_key(insert);
    status = insert->Run();
    if (!status.ok()) return Fail("write", status);
    txn.last_key = key;
    txn.last_key_new = db_->Changes() > 0;
    if (!txn.last_key_new) {
      runs_->Count(&StoreCounters::duplicates);
      if (std::holds_alternative<ProcessEnd>(event->body))
        processes_.NoteStoredExit(process_key, h.time_ms);
      return Status::Ok();
    }
    txn.NoteKeyStored(key);
    ++txn.rows;
  }

  Result<int64_t> process = ResolveProcess(*event, node_id);
  if (!process.ok()) return Fail("write", process.status());
  return WriteEventRows(event, *process, node_id);
}

Status EventStore::WriteEventRows(TypedEvent* event, int64_t process_id, int64_t node_id) {
  WriteTransaction& txn = *txn_;
  const EventHeader& h = event->header;
  const RowHead head{h.time_ms, process_id, event->subject.uid, h.success ? 1 : 0};
  const std::string& user = event->enrichment.user;
  Status status;
  uint64_t StoreCounters::*counter = nullptr;
  // Where the row goes, for the signal matches that point at it.
  const char* table = "processes";
  BatchedInsert* batch = nullptr;
  int64_t event_row = head.process_id;  // the event's row when no batch holds it
  if (const auto* end = std::get_if<ProcessEnd>(&event->body)) {
    // Sysmon's process end (event 5) gives no exit code.
    const SqlInt exit_code = event->windows != nullptr ? NullInt() : Int(end->exit_code);
    if (ProcessRow* row = txn.Waiting(head.process_id)) {
      // Not written yet: the row goes in whole, no UPDATE.
      (*row)[ProcessColumn::kEndTime] = Int(h.time_ms);
      (*row)[ProcessColumn::kExitCode] = exit_code;
    } else {
      Statement* stmt = sql_->end_process.get();
      stmt->BindInt(1, head.process_id);
      stmt->BindInt(2, h.time_ms);
      stmt->BindOptionalInt(3, exit_code);
      status = stmt->Run();
    }
    if (event->windows == nullptr)
      processes_.NoteExit(enrich::StoredProcessKey(node_id, event->subject.pid), head.process_id,
                          h.time_ms);
    counter = &StoreCounters::process_ends;
  } else if (const auto* file = std::get_if<FileEvent>(&event->body)) {
    status = AddFileRow(sql_->file_rows.get(), interner_.get(), head, *file, user);
    counter = &StoreCounters::file_events;
    table = "file_events";
    batch = sql_->file_rows.get();
    if (status.ok() && (file->path_origin.unresolved || file->new_path_origin.unresolved))
      runs_->Count(&StoreCounters::unresolved_paths);
  } else if (const auto* net = std::get_if<NetworkEvent>(&event->body)) {
    status = AddNetworkRow(sql_->network_rows.get(), interner_.get(), head, *net, user);
    counter = &StoreCounters::network_events;
    if (status.ok() && (net->local_unresolved || net->remote_unresolved))
      runs_->Count(&StoreCounters::unresolved_ports);
    table = "network_events";
    batch = sql_->network_rows.get();
  } else if (const auto* security = std::get_if<SecurityEvent>(&event->body)) {
    status = AddSecurityRow(sql_->security_rows.get(), interner_.get(), head, *security);
    counter = &StoreCounters::security_events;
    table = "security_events";
    batch = sql_->security_rows.get();
  } else if (const auto* module = std::get_if<ModuleEvent>(&event->body)) {
    status = AddModuleRow(sql_->module_rows.get(), interner_.get(), head, *module, user);
    counter = &StoreCounters::module_events;
    table = "module_events";
    batch = sql_->module_rows.get();
  } else if (const auto* failed = std::get_if<ExecFailure>(&event->body)) {
    status = AddFailedExecRow(sql_->failed_exec_rows.get(), interner_.get(), head, *failed, user);
    counter = &StoreCounters::failed_execs;
    table = "failed_execs";
    batch = sql_->failed_exec_rows.get();
  } else if (std::holds_alternative<RegistryEvent>(event->body)) {
    status = WriteRegistry(*event, process_id);
    counter = &StoreCounters::registry_events;
    // Written at once (no batch): its id is the connection's last insert.
    table = "registry_events";
    event_row = db_->LastInsertRowid();
  }
  if (!status.ok()) return Fail("write", status);
  if (counter != nullptr) runs_->Count(counter);
  ++txn.rows;
  if (event->signals.empty()) return Status::Ok();
  return WriteSignalMatches(*event, table, batch, event_row, head.process_id);
}

}  // namespace recorder::store
