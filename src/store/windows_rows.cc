// How an event imported from a Windows (Sysmon) log becomes rows. The
// audit path's differences: a record is stored once per (node, time,
// EventRecordID) through the same audit_events key; its process is the
// row of its ProcessGuid (windows_process_data), never "whatever the pid
// runs now", so pid reuse cannot mix two processes; and the record's
// EventData is kept whole in sysmon_data.
#include <fmt/format.h>

#include <iterator>
#include <variant>

#include "store/event_store.h"
#include "store/event_store_statements.h"

namespace recorder::store {

namespace {

std::string GuidKey(int64_t node_id, std::string_view guid) {
  return fmt::format("{}/{}", node_id, guid);
}

// The last component of a Windows path ("C:\Windows\System32\cmd.exe" ->
// "cmd.exe"): the process's name, as comm is on Linux.
std::string_view BaseName(std::string_view path) {
  const size_t slash = path.find_last_of("\\/");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

SqlInt StringIdOrNull(int64_t id) { return id == 0 ? NullInt() : Int(id); }

void BindTextOrNull(Statement* stmt, int index, std::string_view text) {
  if (text.empty())
    stmt->BindNull(index);
  else
    stmt->BindText(index, text);
}

}  // namespace

Result<int64_t> EventStore::WindowsProcessOf(int64_t node_id, const std::string& guid) {
  const std::string key = GuidKey(node_id, guid);
  auto it = txn_->windows_guids.find(key);
  if (it != txn_->windows_guids.end()) return it->second;
  Statement* select = sql_->select_windows_guid.get();
  select->BindInt(1, node_id);
  select->BindText(2, guid);
  Result<bool> row = select->Step();
  const int64_t id = row.ok() && *row ? select->ColumnInt(0) : 0;
  select->Reset();
  if (!row.ok()) return row.status();
  if (id != 0) txn_->windows_guids.emplace(key, id);
  return id;
}

Result<int64_t> EventStore::InsertWindowsProcess(int64_t node_id, const std::string& guid,
                                                 int32_t pid, int32_t ppid, int64_t parent_id,
                                                 std::string_view exe,
                                                 std::string_view command_line,
                                                 const TypedEvent* start) {
  const WindowsRecord* w = start != nullptr ? start->windows.get() : nullptr;
  const ProcessStart* body = start != nullptr ? std::get_if<ProcessStart>(&start->body) : nullptr;
  int64_t exe_id = 0, comm_id = 0, command_id = 0, cwd_id = 0, user_id = 0, sha256_id = 0,
          md5_id = 0, command_line_id = 0, integrity_id = 0;
  // References to the event's strings (or to nothing): no temporaries
  // for the views below to outlive.
  static const std::string kNone;
  const std::string& cwd = body ? body->cwd : kNone;
  const std::string& user = start ? start->enrichment.user : kNone;
  const std::string& sha256 = start ? start->enrichment.exe_sha256 : kNone;
  const std::string& md5 = start ? start->enrichment.exe_md5 : kNone;
  const std::string& integrity = w ? w->integrity_level : kNone;
  for (auto [out, value] : {std::pair{&exe_id, exe},
                            {&comm_id, BaseName(exe)},
                            {&command_line_id, command_line},
                            {&cwd_id, cwd},
                            {&user_id, user},
                            {&sha256_id, sha256},
                            {&md5_id, md5},
                            {&integrity_id, integrity}}) {
    Result<int64_t> id = interner_->Intern(value);
    if (!id.ok()) return id.status();
    *out = *id;
  }
  if (body != nullptr) {
    Result<int64_t> command = interner_->InternArgv(body->argv);
    if (!command.ok()) return command.status();
    command_id = *command;
  }
  const bool placeholder = start == nullptr;

  WriteTransaction& txn = *txn_;
  int64_t process_id = 0;
  ProcessRow row = {NullInt(),
                    Int(node_id),
                    Int(pid),
                    ppid > 0 ? Int(ppid) : NullInt(),
                    parent_id != 0 ? Int(parent_id) : NullInt(),
                    placeholder ? NullInt() : Int(start->header.time_ms),
                    NullInt(),  // end_time: event 5
                    NullInt(),  // exit_code: Sysmon does not give it
                    StringIdOrNull(exe_id),
                    StringIdOrNull(comm_id),
                    StringIdOrNull(command_id),
                    StringIdOrNull(cwd_id),
                    NullInt(),  // uid, euid, auid, ses, tty: Linux's
                    NullInt(),
                    NullInt(),
                    NullInt(),
                    NullInt(),
                    placeholder ? NullInt() : Int(1),
                    Int(placeholder ? 1 : 0),
                    StringIdOrNull(user_id),
                    NullInt(),
                    NullInt(),
                    StringIdOrNull(sha256_id),
                    StringIdOrNull(md5_id),
                    NullInt(),
                    NullInt()};
  Result<int64_t> existing = WindowsProcessOf(node_id, guid);
  if (!existing.ok()) return existing;
  if (*existing != 0) {
    // A placeholder (its events came first) becomes the created process.
    process_id = *existing;
    if (ProcessRow* waiting = txn.Waiting(process_id)) {
      row[ProcessColumn::kProcessId] = Int(process_id);
      *waiting = row;
    } else {
      Status flushed = FlushProcesses();
      if (!flushed.ok()) return flushed;
      Statement* stmt = sql_->upgrade_process.get();
      stmt->BindInt(1, process_id);
      const size_t columns[] = {2, 3, 4, 5, 8, 9, 10, 11, 19, 22, 23};
      for (size_t i = 0; i < std::size(columns); ++i)
        stmt->BindOptionalInt(static_cast<int>(i) + 2, row[columns[i]]);
      Status status = stmt->Run();
      if (!status.ok()) return status;
    }
  } else {
    process_id = txn.next_process_id++;
    row[ProcessColumn::kProcessId] = Int(process_id);
    txn.waiting_processes.push_back(row);
    ++txn.rows;
    if (txn.waiting_processes.size() >= WriteTransaction::kMaxWaitingProcesses) {
      Status status = FlushProcesses();
      if (!status.ok()) return status;
    }
    if (placeholder) runs_->Count(&StoreCounters::placeholder_processes);
  }

  Statement* stmt = sql_->insert_windows_process.get();
  stmt->BindInt(1, process_id);
  stmt->BindInt(2, node_id);
  stmt->BindText(3, guid);
  BindTextOrNull(stmt, 4, w ? std::string_view(w->parent_process_guid) : "");
  stmt->BindOptionalInt(5, StringIdOrNull(command_line_id));
  BindTextOrNull(stmt, 6, w ? std::string_view(w->logon_id) : "");
  stmt->BindOptionalInt(7, StringIdOrNull(integrity_id));
  BindTextOrNull(stmt, 8, w ? std::string_view(w->sha1) : "");
  BindTextOrNull(stmt, 9, w ? std::string_view(w->imphash) : "");
  Status status = stmt->Run();
  if (!status.ok()) return status;
  txn.windows_guids[GuidKey(node_id, guid)] = process_id;
  return process_id;
}

Result<int64_t> EventStore::WriteWindowsStart(const TypedEvent& event, int64_t node_id) {
  const WindowsRecord& w = *event.windows;
  int64_t parent_id = 0;
  if (!w.parent_process_guid.empty()) {
    Result<int64_t> parent = WindowsProcessOf(node_id, w.parent_process_guid);
    if (!parent.ok()) return parent;
    parent_id = *parent;
    if (parent_id == 0) {
      // The parent's create record is not stored (it ran before the log
      // began): a placeholder from what the child's record says of it.
      parent = InsertWindowsProcess(node_id, w.parent_process_guid, event.subject.ppid, 0, 0,
                                    w.parent_image, w.parent_command_line, nullptr);
      if (!parent.ok()) return parent;
      parent_id = *parent;
    }
  }
  Result<int64_t> process =
      InsertWindowsProcess(node_id, w.process_guid, event.subject.pid, event.subject.ppid,
                           parent_id, event.subject.exe, w.command_line, &event);
  if (process.ok()) runs_->Count(&StoreCounters::process_starts);
  return process;
}

Status EventStore::WriteRegistry(const TypedEvent& event, int64_t process_id) {
  const auto& body = std::get<RegistryEvent>(event.body);
  int64_t ids[5] = {};
  const std::string* values[5] = {&body.event_type, &body.target_object, &body.details,
                                  &body.new_name, &event.enrichment.user};
  for (size_t i = 0; i < 5; ++i) {
    Result<int64_t> id = interner_->Intern(*values[i]);
    if (!id.ok()) return id.status();
    ids[i] = *id;
  }
  Statement* stmt = sql_->insert_registry.get();
  stmt->BindInt(1, event.header.time_ms);
  stmt->BindInt(2, process_id);
  for (int i = 0; i < 5; ++i) stmt->BindOptionalInt(i + 3, StringIdOrNull(ids[i]));
  return stmt->Run();
}

Status EventStore::WriteSysmonRecord(const TypedEvent& event, int64_t node_id, int64_t process_id) {
  Statement* stmt = sql_->insert_sysmon.get();
  stmt->BindInt(1, event.header.time_ms);
  stmt->BindInt(2, node_id);
  stmt->BindInt(3, static_cast<int64_t>(event.windows->record_id));
  stmt->BindInt(4, event.windows->event_id);
  stmt->BindOptionalInt(5, process_id != 0 ? Int(process_id) : NullInt());
  stmt->BindText(6, event.windows->data_json);
  Status status = stmt->Run();
  if (status.ok()) ++txn_->rows;
  return status;
}

Status EventStore::WriteWindowsEvent(TypedEvent* event, int64_t node_id) {
  WriteTransaction& txn = *txn_;
  const EventHeader& h = event->header;
  // Idempotence: the record's key, as an audit event's.
  const AuditKey key{h.time_ms, event->windows->record_id, node_id};
  if (txn.KeyAboveStored(key)) {
    Status status = QueueNewKey(key, NullInt());
    if (!status.ok()) return status;
  } else {
    Status status = FlushAuditKeys();
    if (!status.ok()) return Fail("write", status);
    Statement* insert = sql_->insert_audit.get();
    insert->BindInt(1, key.time_ms);
    insert->BindInt(2, static_cast<int64_t>(key.serial));
    insert->BindInt(3, node_id);
    status = insert->Run();
    if (!status.ok()) return Fail("write", status);
    if (db_->Changes() == 0) {
      runs_->Count(&StoreCounters::duplicates);
      return Status::Ok();
    }
    txn.NoteKeyStored(key);
    ++txn.rows;
  }
  // The next audit event must not take this key's decision for its own.
  txn.last_key = key;
  txn.last_key_new = true;

  Result<int64_t> process(int64_t{0});
  Status status;
  // The view and row a signal match on this event points at; WriteEventRows
  // writes its own rows' matches.
  const char* match_table = nullptr;
  int64_t match_row = 0;
  if (std::holds_alternative<ProcessStart>(event->body)) {
    process = WriteWindowsStart(*event, node_id);
    match_table = "processes";
    if (process.ok()) match_row = *process;
  } else if (std::holds_alternative<ImageLoadEvent>(event->body)) {
    status = WriteImageLoad(*event, node_id);
    match_table = "image_events";
    match_row = db_->LastInsertRowid();  // written at once, before anything else
    if (status.ok()) process = ResolveProcess(*event, node_id);  // found: no new row
  } else if (std::holds_alternative<DnsEvent>(event->body)) {
    status = WriteDns(*event, node_id);
    match_table = "dns_events";
    match_row = db_->LastInsertRowid();
    if (status.ok()) process = ResolveProcess(*event, node_id);
  } else {
    process = ResolveProcess(*event, node_id);
    if (process.ok()) status = WriteEventRows(event, *process, node_id);
  }
  if (!status.ok()) return status;
  if (!process.ok()) return Fail("write", process.status());
  if (match_table != nullptr && !event->signals.empty()) {
    status = WriteSignalMatches(*event, match_table, nullptr, match_row, *process);
    if (!status.ok()) return status;
  }
  status = WriteSysmonRecord(*event, node_id, *process);
  return status.ok() ? Status::Ok() : Fail("write", status);
}

}  // namespace recorder::store
