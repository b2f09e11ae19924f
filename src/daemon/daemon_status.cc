#include "daemon/daemon_status.h"

#include <errno.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "daemon/control_channel.h"

namespace recorder::daemon {
namespace {

std::string DisabledPath(const std::string& state_dir) {
  return state_dir + "/" + kDisabledFileName;
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < 0) return "missing";
  if (bytes < int64_t{10} * 1024) return fmt::format("{} B", bytes);
  if (bytes < int64_t{10} * 1024 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < 60) return fmt::format("{}s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  if (seconds < 86400) return fmt::format("{}h{:02}m", seconds / 3600, seconds % 3600 / 60);
  return fmt::format("{}d{:02}h", seconds / 86400, seconds % 86400 / 3600);
}

template <typename T>
T Get(const nlohmann::json& object, const char* key, T fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return fallback;
  }
}

}  // namespace

std::optional<std::string> ReadDisabledReason(const std::string& state_dir) {
  std::ifstream in(DisabledPath(state_dir));
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  std::string reason = text.str();
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  if (reason.empty()) reason = "no reason recorded";
  return reason;
}

Status WriteDisabled(const std::string& state_dir, const std::string& reason) {
  Status made = MakeDirs(state_dir, 0700);
  if (!made.ok()) return made;
  std::ofstream out(DisabledPath(state_dir), std::ios::trunc);
  out << reason << '\n';
  if (!out) return Status::Errorf("cannot write {}", DisabledPath(state_dir));
  return Status::Ok();
}

Status ClearDisabled(const std::string& state_dir) {
  if (unlink(DisabledPath(state_dir).c_str()) != 0 && errno != ENOENT)
    return Status::Errorf("cannot remove {}: {}", DisabledPath(state_dir), std::strerror(errno));
  return Status::Ok();
}

std::string FormatStatusText(const nlohmann::json& status) {
  std::string out;
  std::string state = Get<std::string>(status, "state", "unknown");
  if (state == "running") {
    out += fmt::format("recorder: running (pid {}, source {}, up {})\n", Get<int>(status, "pid", 0),
                       Get<std::string>(status, "source", "?"),
                       HumanDuration(Get<int64_t>(status, "uptime_s", 0)));
  } else if (state == "disabled") {
    out += fmt::format("recorder: disabled: {}\n  re-enable with: recorder start --force\n",
                       Get<std::string>(status, "reason", "no reason recorded"));
  } else {
    out += fmt::format("recorder: {}\n", state);
  }
  if (status.contains("warning"))
    out += fmt::format("  WARNING: {}\n", Get<std::string>(status, "warning", ""));
  if (status.contains("events")) {
    out += fmt::format("  events: {} total, {:.1f}/s over the last minute\n",
                       Get<uint64_t>(status, "events_total", 0),
                       Get<double>(status, "events_per_second", 0));
    for (const auto& [kind, counts] : status["events"].items()) {
      out += fmt::format("    {:<14} {:>10}  {:>8.1f}/s\n", kind, Get<uint64_t>(counts, "total", 0),
                         Get<double>(counts, "per_second", 0));
    }
  }
  if (status.contains("kernel_lost")) {
    out += fmt::format("  kernel lost: {}", Get<uint64_t>(status, "kernel_lost", 0));
    if (status.contains("kernel_lost_since_start"))
      out += fmt::format(" ({} since start)", Get<uint64_t>(status, "kernel_lost_since_start", 0));
    out += '\n';
  }
  if (status.contains("drops"))
    out += fmt::format("  drops: {}\n", Get<uint64_t>(status, "drops", 0));
  if (status.contains("pending_events")) {
    const nlohmann::json& pending = status["pending_events"];
    std::string kinds;
    if (pending.contains("dropped_by_kind"))
      for (const auto& [kind, count] : pending["dropped_by_kind"].items())
        if (count.is_number() && count.get<uint64_t>() > 0)
          kinds += fmt::format("{}{} {}", kinds.empty() ? " (" : ", ", kind, count.get<uint64_t>());
    if (!kinds.empty()) kinds += ')';
    out += fmt::format("  dropped at PendingEventCap ({}): {}{}\n", Get<int64_t>(pending, "cap", 0),
                       Get<uint64_t>(pending, "dropped", 0), kinds);
  }
  if (status.contains("serial_gaps"))
    out += fmt::format("  audit serial gaps: {}\n", Get<uint64_t>(status, "serial_gaps", 0));
  if (status.contains("db")) {
    const nlohmann::json& db = status["db"];
    out += fmt::format("  database: {} ({})\n", Get<std::string>(db, "path", "-"),
                       HumanBytes(Get<int64_t>(db, "size_bytes", -1)));
    if (db.contains("last_event"))
      out += fmt::format("  database event: {}\n", Get<std::string>(db["last_event"], "what", "-"));
  }
  if (status.contains("rules")) {
    const nlohmann::json& rules = status["rules"];
    const int installed = Get<int>(rules, "installed", 0);
    out += fmt::format("  rules (key {}): ", Get<std::string>(rules, "key", "?"));
    if (state == "running") {
      out += fmt::format("{} installed, {} missing", installed, Get<int>(rules, "missing", 0));
    } else if (installed == 0) {
      // A recorder installs its rules while it runs and removes them when
      // it stops: none is the normal state here, not a fault.
      out += "not installed (not running)";
    } else {
      out += fmt::format(
          "{} installed, though not running (from audit's rules.d, or left by a "
          "recorder that did not stop cleanly)",
          installed);
    }
    if (Get<uint64_t>(rules, "restored", 0) > 0)
      out += fmt::format(", restored {} times after drift", Get<uint64_t>(rules, "restored", 0));
    out += '\n';
  }
  if (status.contains("filters")) {
    const nlohmann::json& filters = status["filters"];
    const size_t files = filters.contains("files") && filters["files"].is_array()
                             ? filters["files"].size()
                             : size_t{0};
    if (files == 0) {
      out += "  filters: none (every event is recorded)\n";
    } else {
      std::string types;
      if (filters.contains("dropped_by_type"))
        for (const auto& [type, count] : filters["dropped_by_type"].items())
          if (count.is_number() && count.get<uint64_t>() > 0)
            types +=
                fmt::format("{}{} {}", types.empty() ? " (" : ", ", type, count.get<uint64_t>());
      if (!types.empty()) types += ')';
      out += fmt::format("  filters: {} file(s), {} kernel rule(s); filtered out {}{}\n", files,
                         Get<int>(filters, "kernel_rules", 0), Get<uint64_t>(filters, "dropped", 0),
                         types);
    }
    if (filters.contains("last_reload_error"))
      out += fmt::format("  filters NOT reloaded (the previous ones apply): {}\n",
                         Get<std::string>(filters, "last_reload_error", ""));
  }
  if (status.contains("signals")) {
    const nlohmann::json& sig = status["signals"];
    std::string levels;
    if (sig.contains("matches_by_level"))
      for (const char* level : {"critical", "high", "medium", "low", "informational"}) {
        const uint64_t count = Get<uint64_t>(sig["matches_by_level"], level, 0);
        if (count > 0) levels += fmt::format("{}{} {}", levels.empty() ? " (" : ", ", count, level);
      }
    if (!levels.empty()) levels += ')';
    out +=
        fmt::format("  signals: {} rule(s){}{}; {} match(es){}\n", Get<uint64_t>(sig, "rules", 0),
                    Get<uint64_t>(sig, "not_loaded", 0) > 0
                        ? fmt::format(", {} not loaded", Get<uint64_t>(sig, "not_loaded", 0))
                        : std::string(),
                    Get<bool>(sig, "enabled", true) ? "" : " (DisableSignals)",
                    Get<uint64_t>(sig, "matches", 0), levels);
    if (Get<uint64_t>(sig, "matches", 0) > 0)
      out += fmt::format(
          "    stored in signal_matches: {}, removed past RecordSignalMatches ({}): {}\n",
          Get<uint64_t>(sig, "stored", 0), Get<int64_t>(sig, "record_limit", 0),
          Get<uint64_t>(sig, "removed_past_limit", 0));
    // The rules that matched most, at most five.
    if (sig.contains("matches_by_rule") && sig["matches_by_rule"].is_array()) {
      size_t shown = 0;
      for (const nlohmann::json& rule : sig["matches_by_rule"]) {
        if (shown++ == 5) break;
        out += fmt::format("    {:>8}  {} [{}] ({})\n", Get<uint64_t>(rule, "matches", 0),
                           Get<std::string>(rule, "title", ""), Get<std::string>(rule, "level", ""),
                           Get<std::string>(rule, "rule_id", ""));
      }
    }
  }
  if (status.contains("config") && status["config"].contains("last_reload_error"))
    out += fmt::format("  configuration NOT reloaded (the previous one applies): {}\n",
                       Get<std::string>(status["config"], "last_reload_error", ""));
  if (status.contains("image_loads") && Get<bool>(status["image_loads"], "enabled", false)) {
    const nlohmann::json& images = status["image_loads"];
    if (images.contains("error")) {
      out +=
          fmt::format("  library loads: NOT RECORDED: {}\n", Get<std::string>(images, "error", ""));
    } else {
      out += fmt::format("  library loads: {} seen, {} dropped, {} kernel queue overflows\n",
                         Get<uint64_t>(images, "libraries", 0), Get<uint64_t>(images, "dropped", 0),
                         Get<uint64_t>(images, "kernel_overflows", 0));
    }
  }
  if (status.contains("dns") && Get<bool>(status["dns"], "enabled", false)) {
    const nlohmann::json& dns = status["dns"];
    const std::string mechanism = Get<std::string>(dns, "mechanism", "none");
    if (mechanism == "none") {
      out += fmt::format("  DNS: NOT RECORDED: {}\n", Get<std::string>(dns, "error", ""));
    } else {
      out += fmt::format(
          "  DNS: {}{}: {} queries, {} answered, {} unanswered, {} lost, {} dropped\n", mechanism,
          mechanism == "packet-socket" ? " (processes by their source port)" : "",
          Get<uint64_t>(dns, "queries", 0), Get<uint64_t>(dns, "answered", 0),
          Get<uint64_t>(dns, "unanswered", 0), Get<uint64_t>(dns, "kernel_lost", 0),
          Get<uint64_t>(dns, "dropped", 0));
    }
  }
  if (status.contains("limits")) {
    const nlohmann::json& cpu = status["limits"]["cpu"];
    const nlohmann::json& storage = status["limits"]["storage"];
    out += fmt::format(
        "  cpu: {:.1f}% of the machine over the last window (threshold {:.0f}%, "
        "{} violations{})\n",
        Get<double>(cpu, "last_window_usage", 0) * 100, Get<double>(cpu, "threshold", 0) * 100,
        Get<int>(cpu, "violations", 0),
        Get<bool>(cpu, "kill_enabled", true) ? "" : ", kill switch off");
    int64_t max_mb = Get<int64_t>(storage, "max_size_mb", 0);
    int days = Get<int>(storage, "monitor_days", 0);
    out += fmt::format("  retention: {}, {}\n",
                       max_mb > 0 ? fmt::format("maxSizeMB {}", max_mb) : "no size limit",
                       days > 0 ? fmt::format("MonitorDays {}", days) : "kept forever");
    if (status["limits"].contains("disk")) {
      const nlohmann::json& disk = status["limits"]["disk"];
      auto mb = [&](const char* key) {
        return static_cast<double>(Get<int64_t>(disk, key, 0)) / (1024.0 * 1024.0);
      };
      out += fmt::format(
          "  disk: {:.0f} MB free of {:.0f} MB (floor {:.0f} MB), {} dropped{}\n", mb("free_bytes"),
          mb("total_bytes"), mb("floor_bytes"), Get<uint64_t>(disk, "dropped", 0),
          Get<bool>(disk, "writing", true)            ? ""
          : Get<bool>(disk, "over_size_limit", false) ? "; NOT WRITING: past the hard size limit"
                                                      : "; NOT WRITING: below the floor");
      if (Get<bool>(disk, "below_recommended", false))
        out +=
            fmt::format("  warning: less than three times maxSizeMB ({:.0f} MB) free on the disk\n",
                        mb("recommended_free_bytes"));
    }
  }
  if (Get<bool>(status, "immutable", false)) {
    out += Get<bool>(status, "restart_needed", false)
               ? "  audit rules are immutable (-e 2): reboot needed to load the recorder's rules\n"
               : "  audit rules are immutable (-e 2)\n";
  }
  return out;
}

}  // namespace recorder::daemon
