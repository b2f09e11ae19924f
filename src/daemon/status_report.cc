#include "daemon/status_report.h"

#include <fmt/format.h>

namespace recorder::daemon {

using nlohmann::json;

json StatusJson(const StatusSnapshot& s) {
  json status;
  status["state"] = "running";
  status["pid"] = s.pid;
  status["source"] = s.source;
  status["started_ms"] = s.started_ms;
  status["uptime_s"] = (s.now_ms - s.started_ms) / 1000;
  json events = json::object();
  double total_rate = 0;
  for (size_t kind = 0; kind < kEventKinds; ++kind) {
    total_rate += s.events[kind].per_second;
    events[std::string(EventKindName(kind))] = {{"total", s.events[kind].total},
                                                {"per_second", s.events[kind].per_second}};
  }
  status["events"] = events;
  status["events_total"] = s.events_total;
  status["events_per_second"] = total_rate;
  if (s.audit_now) {
    const AuditStatus& now = *s.audit_now;
    status["kernel_lost"] = now.lost;
    status["kernel_lost_since_start"] = s.audit_at_start ? now.lost - s.audit_at_start->lost : 0;
    status["audit_enabled"] = now.enabled;
    status["audit_pid"] = now.pid;
    status["backlog"] = now.backlog;
    status["backlog_limit"] = now.backlog_limit;
  }
  status["drops"] = s.drops;
  if (s.netlink) status["serial_gaps"] = s.serial_gaps;
  json cap_dropped = json::object();
  uint64_t cap_dropped_total = 0;
  for (size_t kind = 0; kind < kEventKinds; ++kind) {
    cap_dropped[std::string(EventKindName(kind))] = s.cap_dropped[kind];
    cap_dropped_total += s.cap_dropped[kind];
  }
  status["pending_events"] = {{"cap", s.pending_event_cap},
                              {"in_flight", s.in_flight},
                              {"dropped", cap_dropped_total},
                              {"dropped_by_kind", cap_dropped}};
  status["self_excluded"] = s.self_excluded;
  status["malformed"] = s.malformed;
  status["records"] = s.records;
  if (s.unicast) {
    status["audit_pid_lost"] = s.audit_pid_lost;
    if (s.audit_pid_lost)
      status["warning"] = fmt::format("lost the audit connection to pid {}", s.audit_holder_pid);
  }
  status["db"] = {{"path", s.db_path}, {"size_bytes", s.db_size_bytes}};
  if (s.db_event) {
    status["db"]["last_event"] = {{"time_ms", s.db_event->time_ms},
                                  {"what", s.db_event->what},
                                  {"archive", s.db_event->archive},
                                  {"switches", s.db_event->switches}};
  }
  status["rules"] = {{"key", s.rule_key},
                     {"installed", s.rules.present},
                     {"missing", s.rules.missing},
                     {"restored", s.rules.restores},
                     {"last_drift_ms", s.rules.last_drift_ms},
                     {"pushed_down", s.rules.pushed_down}};
  json dropped_by_type = json::object();
  for (size_t t = 0; t < filter::kEventTypeCount; ++t)
    dropped_by_type[std::string(filter::EventTypeName(static_cast<filter::EventType>(t)))] =
        s.filters.stats.dropped[t];
  json dropped_by_kind = json::object();
  for (size_t k = 0; k < filter::kFilterEventKinds; ++k)
    dropped_by_kind[std::string(EventKindName(k))] = s.filters.stats.dropped_by_kind[k];
  json filter_status = {{"files", s.filters.files},
                        {"dropped", s.filters.stats.total_dropped()},
                        {"dropped_by_type", dropped_by_type},
                        {"dropped_by_kind", dropped_by_kind},
                        {"dropped_by_process", s.filters.stats.dropped_by_process},
                        {"dropped_watchlist_only", s.filters.stats.dropped_watchlist_only},
                        {"kernel_rules", s.rules.pushed_down},
                        {"reloads", s.filters.stats.reloads},
                        {"reload_failures", s.filters.reload_failures}};
  if (!s.filters.last_reload_error.empty())
    filter_status["last_reload_error"] = s.filters.last_reload_error;
  status["filters"] = filter_status;
  json matches = json::object();
  uint64_t match_total = 0;
  for (size_t l = 0; l < signals::kLevelCount; ++l) {
    matches[std::string(signals::LevelName(static_cast<signals::Level>(l)))] = s.signals.matches[l];
    match_total += s.signals.matches[l];
  }
  json by_rule = json::array();
  for (const signals::RuleMatchCount& r : s.signals.by_rule)
    by_rule.push_back({{"rule_id", r.rule_id},
                       {"title", r.title},
                       {"level", signals::LevelName(r.level)},
                       {"matches", r.matches}});
  status["signals"] = {{"enabled", s.signals.enabled},
                       {"rules", s.signals.rules},
                       {"not_loaded", s.signals.not_loaded},
                       {"matches", match_total},
                       {"matches_by_level", matches},
                       {"matches_by_rule", by_rule},
                       {"record_limit", s.signals.limit},
                       {"stored", s.signals.stored},
                       {"removed_past_limit", s.signals.removed}};
  json config_status = {{"dir", s.config.dir},
                        {"watched", !s.config.dir.empty()},
                        {"reloads", s.config.reloads},
                        {"reload_failures", s.config.reload_failures}};
  if (!s.config.last_reload_error.empty())
    config_status["last_reload_error"] = s.config.last_reload_error;
  status["config"] = config_status;
  json image_status = {
      {"enabled", s.images.enabled},           {"running", s.images.running},
      {"libraries", s.images.stats.libraries}, {"kernel_overflows", s.images.stats.overflows},
      {"dropped", s.images.stats.dropped},     {"held", s.images.held}};
  if (!s.images.error.empty()) image_status["error"] = s.images.error;
  status["image_loads"] = image_status;
  json dns_status = {{"enabled", s.dns.enabled},
                     {"mechanism", std::string(source::DnsCaptureMechanismName(s.dns.mechanism))},
                     {"setting", std::string(config::DnsCaptureChoiceName(s.dns.choice))},
                     {"packets", s.dns.capture.packets},
                     {"kernel_lost", s.dns.capture.lost},
                     {"dropped", s.dns.capture.dropped},
                     {"truncated", s.dns.capture.truncated},
                     {"attributed_by_port", s.dns.capture.attributed},
                     {"unattributed", s.dns.capture.unattributed},
                     {"queries", s.dns.joiner.queries},
                     {"answered", s.dns.joiner.answered},
                     {"unanswered", s.dns.joiner.unanswered},
                     {"evicted", s.dns.joiner.evicted},
                     {"unmatched_responses", s.dns.joiner.unmatched_responses},
                     {"malformed", s.dns.joiner.malformed},
                     {"tcp_dropped", s.dns.joiner.tcp_dropped},
                     {"pending", s.dns.pending},
                     {"held", s.dns.held}};
  if (!s.dns.attached_to.empty()) dns_status["attached_to"] = s.dns.attached_to;
  if (!s.dns.error.empty()) dns_status["error"] = s.dns.error;
  status["dns"] = dns_status;

  json limits;
  limits["cpu"] = {{"threshold", s.cpu.threshold},
                   {"kill_enabled", s.cpu.kill_enabled},
                   {"violations", s.cpu.violations},
                   {"kill_after_violations", s.cpu.kill_after_violations},
                   {"last_window_usage", s.cpu.last_window_usage},
                   {"last_window_ms", s.cpu.last_window_ms}};
  json storage = {{"max_size_mb", s.storage.max_size_mb},
                  {"monitor_days", s.storage.monitor_days},
                  {"cleanup_running", s.storage.cleanup_running}};
  if (s.storage.last_cleanup_ms) {
    storage["last_cleanup_ms"] = *s.storage.last_cleanup_ms;
    storage["last_cleanup_bytes_after"] = s.storage.last_cleanup_bytes_after;
  }
  limits["storage"] = storage;
  if (s.disk) {
    json disk = {{"free_bytes", s.disk->free_bytes},
                 {"total_bytes", s.disk->total_bytes},
                 {"floor_bytes", s.disk->floor_bytes},
                 {"resume_bytes", s.disk->resume_bytes},
                 {"recommended_free_bytes", s.disk->recommended_bytes},
                 {"below_recommended", s.disk->below_recommended},
                 {"writing", s.disk->writing},
                 {"over_size_limit", s.disk->over_size_limit},
                 {"dropped", s.disk->dropped}};
    if (!s.disk->writing && s.disk->over_size_limit) {
      disk["warning"] =
          "the database is past its hard size limit (it grew faster than cleanup deletes): events "
          "are dropped until it is back at maxSizeMB";
    } else if (!s.disk->writing) {
      disk["warning"] = "free disk space is below the floor: events are dropped";
    } else if (s.disk->below_recommended) {
      disk["warning"] = "less free disk space than three times maxSizeMB";
    }
    limits["disk"] = disk;
  }
  status["limits"] = limits;

  status["loop"] = {{"longest_busy_ms", static_cast<double>(s.loop.longest_busy_us) / 1000.0},
                    {"longest_busy_where", s.loop.longest_busy_where},
                    {"busy_over_100ms", s.loop.busy_over_100ms}};
  if (s.checkpoints) {
    const store::StoreCheckpointStats& c = *s.checkpoints;
    json checkpoint_status = {{"background", c.background},
                              {"checkpoints", c.thread.checkpoints},
                              {"frames_checkpointed", c.thread.frames_checkpointed},
                              {"longest_ms", c.thread.longest_ms},
                              {"busy", c.thread.busy},
                              {"errors", c.thread.errors},
                              {"wal_frames", c.wal_frames},
                              {"wal_frames_left", c.thread.last_wal_frames_left},
                              {"writer_fallbacks", c.writer_checkpoints},
                              {"writer_fallback_frames", c.writer_frames},
                              {"writer_fallback_longest_ms", c.writer_longest_ms}};
    if (!c.thread.last_error.empty()) checkpoint_status["last_error"] = c.thread.last_error;
    status["checkpoints"] = checkpoint_status;
  }
  if (s.hashes) {
    status["hashes"] = {{"hashed", s.hashes->hashed},
                        {"queue_full", s.hashes->queue_full},
                        {"cache_entries", s.hashes->cache_entries}};
  }
  status["ports"] = {{"lookups", s.ports.ports.lookups},
                     {"found", s.ports.ports.found},
                     {"unresolved", s.ports.ports.unresolved},
                     {"unknown_accepts", s.ports.ports.unknown_accepts},
                     {"batches", s.ports.batches},
                     {"skipped_busy", s.ports.skipped_busy},
                     {"longest_batch_ms", static_cast<double>(s.ports.longest_batch_us) / 1000.0},
                     {"in_flight", s.ports_in_flight}};
  status["immutable"] = s.rules.immutable;
  status["restart_needed"] = s.rules.immutable && s.rules.missing > 0;
  if (!s.rules.message.empty()) status["rules_message"] = s.rules.message;
  return status;
}

}  // namespace recorder::daemon
