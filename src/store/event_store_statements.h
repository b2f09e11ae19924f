// The event store's prepared statements and batched inserts (private to
// event_store.cc and event_rows.cc).
#pragma once

#include <array>
#include <memory>

#include "store/batched_insert.h"
#include "store/sqlite_db.h"
#include "store/write_transaction.h"
#include "util/status.h"

namespace recorder::store {

struct EventStore::Statements {
  std::unique_ptr<Statement> insert_audit;          // INSERT OR IGNORE: the dedup check
  std::unique_ptr<Statement> select_audit_process;  // a stored exec's process_id
  std::unique_ptr<Statement> set_audit_process;
  std::unique_ptr<Statement> select_max_key;  // the largest (time, serial) stored
  std::unique_ptr<Statement> next_process_id;
  std::unique_ptr<Statement> end_process;
  std::unique_ptr<Statement> insert_image;
  std::unique_ptr<Statement> insert_dns;
  std::unique_ptr<Statement> select_instance;
  // Windows (Sysmon) records: windows_rows.cc.
  std::unique_ptr<Statement> select_windows_guid;
  std::unique_ptr<Statement> insert_windows_process;
  std::unique_ptr<Statement> upgrade_process;
  std::unique_ptr<Statement> insert_registry;
  std::unique_ptr<Statement> insert_sysmon;
  std::unique_ptr<Statement> insert_signal_match;
  std::unique_ptr<Statement> insert_hunt_match;
  std::unique_ptr<Statement> trim_signal_matches;  // past RecordSignalMatches, oldest first
  std::unique_ptr<Statement> insert_signal_rule;
  // Appends that nothing reads back before the commit go in batches
  // (batched_insert.h): audit keys known to be new, and the event rows.
  std::unique_ptr<BatchedInsert> new_audit_keys;
  std::unique_ptr<BatchedInsert> process_rows;  // fed from the waiting process rows
  std::unique_ptr<BatchedInsert> file_rows;
  std::unique_ptr<BatchedInsert> network_rows;
  std::unique_ptr<BatchedInsert> security_rows;
  std::unique_ptr<BatchedInsert> module_rows;
  std::unique_ptr<BatchedInsert> failed_exec_rows;

  // Each batched insert with its table: Prepare creates them from this
  // list, and every flush and discard goes through batched(), so a table
  // added here cannot be left out of either. The column lists are the
  // order of the values each Add...Row function (event_rows.cc) passes.
  struct Batched {
    std::unique_ptr<BatchedInsert> Statements::*insert;
    const char* table_and_columns;
  };
  static constexpr size_t kBatchedCount = 7;
  static constexpr std::array<Batched, kBatchedCount> kBatched = {{
      {&Statements::new_audit_keys, "audit_events(time, serial, node_id, process_id)"},
      {&Statements::process_rows, kProcessDataColumns},
      {&Statements::file_rows,
       "file_data(time, process_id, operation, path_id, new_path_id, success, uid, mode, "
       "owner_uid, owner_gid, user_id, path_unresolved, path_dir_dev, path_dir_inode, "
       "new_path_unresolved, new_path_dir_dev, new_path_dir_inode)"},
      {&Statements::network_rows,
       "network_data(time, process_id, direction, protocol, family, local_address_id, "
       "local_port, remote_address_id, remote_port, success, uid, in_progress, user_id)"},
      {&Statements::security_rows,
       "security_data(time, process_id, kind, record_type, user_id, target_user_id, "
       "result, terminal_id, address_id, hostname_id, detail_id, success, uid)"},
      {&Statements::module_rows,
       "module_data(time, process_id, operation, module_id, success, uid, user_id)"},
      {&Statements::failed_exec_rows,
       "failed_exec_data(time, process_id, path_id, errno, cwd_id, uid, user_id)"},
  }};
  std::array<BatchedInsert*, kBatchedCount> batched() const {
    std::array<BatchedInsert*, kBatchedCount> all{};
    for (size_t i = 0; i < all.size(); ++i) all[i] = (this->*kBatched[i].insert).get();
    return all;
  }

  Status Prepare(Database* db) {
    struct {
      std::unique_ptr<Statement>* out;
      const char* sql;
    } statements[] = {
        {&insert_audit,
         "INSERT OR IGNORE INTO audit_events(time, serial, node_id) VALUES (?1, ?2, ?3)"},
        {&select_audit_process,
         "SELECT process_id FROM audit_events WHERE time = ?1 AND serial = ?2 AND node_id = ?3"},
        {&set_audit_process,
         "UPDATE audit_events SET process_id = ?4 WHERE time = ?1 AND serial = ?2 AND "
         "node_id = ?3"},
        // The primary key's order: the last entry of its b-tree.
        {&select_max_key,
         "SELECT time, serial FROM audit_events ORDER BY time DESC, serial DESC LIMIT 1"},
        // The id SQLite would give the next row: the store numbers its
        // process rows itself so they can wait for the commit.
        {&next_process_id, "SELECT coalesce(max(process_id), 0) + 1 FROM process_data"},
        {&end_process,
         "UPDATE process_data SET end_time = ?2, exit_code = ?3 WHERE process_id = ?1"},
        {&insert_image,
         "INSERT INTO image_data(time, process_id, path_id, sha256, uid, user_id) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&insert_dns,
         "INSERT INTO dns_data(time, process_id, pid, query, type, class, dns_id, response_seen, "
         "rcode, response, answers, transport, family, server_address_id, server_port, "
         "latency_us, uid, user_id, attribution) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
         "?18, ?19)"},
        // An exec stored earlier: its audit key's time is the instance
        // start, so this is a primary-key seek on audit_events.
        {&select_instance,
         "SELECT a.process_id FROM audit_events a JOIN process_data p ON p.process_id = "
         "a.process_id WHERE a.time = ?1 AND a.node_id = ?2 AND p.pid = ?3 AND "
         "p.start_time = ?1"},
        {&select_windows_guid,
         "SELECT process_id FROM windows_process_data WHERE node_id = ?1 AND guid = ?2"},
        {&insert_windows_process,
         "INSERT OR REPLACE INTO windows_process_data(process_id, node_id, guid, parent_guid, "
         "command_line_id, logon_id, integrity_level_id, sha1, imphash) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
        // A placeholder (a process seen before its create record) becomes
        // the process its create record describes.
        {&upgrade_process,
         "UPDATE process_data SET pid = ?2, ppid = ?3, parent_process_id = ?4, start_time = ?5, "
         "exe_id = ?6, comm_id = ?7, command_id = ?8, cwd_id = ?9, success = 1, flags = 0, "
         "user_id = ?10, sha256_id = ?11, md5_id = ?12 WHERE process_id = ?1"},
        {&insert_registry,
         "INSERT INTO registry_data(time, process_id, event_type_id, target_object_id, "
         "details_id, new_name_id, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&insert_sysmon,
         "INSERT INTO sysmon_data(time, node_id, record_id, event_id, process_id, data) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
        {&insert_signal_match,
         "INSERT INTO signal_match_data(time, rule_id, title, level, author, event_table, "
         "event_row, process_id, selection) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
        {&insert_hunt_match,
         "INSERT INTO signal_match_data(time, rule_id, title, level, author, event_table, "
         "event_row, process_id, selection, hunt_time) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&trim_signal_matches, "DELETE FROM signal_match_data WHERE id <= ?1 - ?2"},
        {&insert_signal_rule,
         "INSERT OR REPLACE INTO signal_rule_data(rule_id, title, level, author, status, "
         "description, logsource, file, condition, loaded_time) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
    };
    for (auto& s : statements) {
      Result<std::unique_ptr<Statement>> stmt = db->Prepare(s.sql);
      if (!stmt.ok()) return stmt.status();
      *s.out = std::move(stmt).value();
    }
    for (const Batched& b : kBatched) {
      Result<std::unique_ptr<BatchedInsert>> insert =
          BatchedInsert::Create(db, b.table_and_columns);
      if (!insert.ok()) return insert.status();
      this->*b.insert = std::move(insert).value();
    }
    if (process_rows->columns() != kProcessColumns)
      return Status::Error("process_data's column list and ProcessRow disagree");
    return Status::Ok();
  }
};

}  // namespace recorder::store
