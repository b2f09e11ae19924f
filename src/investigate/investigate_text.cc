// The text renderings of investigate_format.h.
#include <fmt/format.h>

#include <algorithm>

#include "investigate/investigate_format.h"
#include "investigate/time_spec.h"

namespace recorder::investigate {
namespace {

// Cut at `max` code points (UTF-8 continuation bytes do not count).
std::string Shorten(std::string_view text, size_t max, const TextStyle& style) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars++ == max) return std::string(text.substr(0, i)) + (style.unicode ? "…" : "...");
  }
  return std::string(text);
}

std::string TimeOrUnknown(const std::optional<int64_t>& ms, const TextStyle& style) {
  return ms ? FormatTime(*ms, style.utc) : "?";
}

std::string UserText(const ProcessInfo& p) {
  if (!p.user.empty()) return p.user;
  return p.uid ? std::to_string(*p.uid) : "?";
}

// "#55 pid 13098 user 65534 /usr/bin/dash: sh -c '...' (START .. END, exit 0)"
std::string ProcessLine(const ProcessInfo& p, const TextStyle& style) {
  std::string command =
      p.cmdline.empty() ? "(no exec seen)" : Shorten(p.cmdline, kShortCommandChars, style);
  std::string line =
      fmt::format("#{} pid {} user {} {}: {} ({} .. {}", p.process_id, p.pid, UserText(p),
                  p.exe.empty() ? "?" : p.exe, command, TimeOrUnknown(p.start_time, style),
                  TimeOrUnknown(p.end_time, style));
  if (p.exit_code) line += fmt::format(", exit {}", *p.exit_code);
  line += ")";
  // The link from the process below to this one is a guess by ppid and time.
  if (p.inferred) line += " [parent inferred from ppid and start time]";
  return line;
}

std::string NodeLine(const TreeNode& node, const TextStyle& style) {
  if (node.count == 1) return ProcessLine(node.process, style);
  return fmt::format("{}{} {}, last started {}", style.unicode ? "×" : "x", node.count,
                     ProcessLine(node.process, style), TimeOrUnknown(node.last_start, style));
}

struct Branches {
  std::string_view middle, last, through, after_last;
};

Branches BranchesFor(const TextStyle& style) {
  if (style.unicode) return {"├─ ", "└─ ", "│  ", "   "};
  return {"|- ", "`- ", "|  ", "   "};
}

void AppendChildren(const TreeNode& node, const std::string& indent, const TextStyle& style,
                    std::string* out) {
  const Branches b = BranchesFor(style);
  const size_t total = node.children.size() + (node.hidden_children > 0 ? 1 : 0);
  for (size_t i = 0; i < node.children.size(); ++i) {
    const bool last = i + 1 == total;
    *out +=
        indent + std::string(last ? b.last : b.middle) + NodeLine(node.children[i], style) + "\n";
    AppendChildren(node.children[i], indent + std::string(last ? b.after_last : b.through), style,
                   out);
  }
  if (node.hidden_children > 0)
    *out += fmt::format("{}{}{} {} {} below the depth limit (--depth)\n", indent, b.last,
                        style.unicode ? "…" : "...", node.hidden_children,
                        node.hidden_children == 1 ? "child" : "children");
}

std::string EventLine(const EventRow& e, const TextStyle& style) {
  return fmt::format("{}  {:<11}  #{} pid {} {} [{}]  {}{}", FormatTime(e.time, style.utc),
                     EventKindName(e.kind), e.process_id, e.pid, e.exe.empty() ? "?" : e.exe,
                     e.user.empty() ? "?" : e.user, e.detail,
                     e.success == std::optional<bool>(false) ? " (failed)" : "");
}

}  // namespace

std::string TreeText(const ProcessTree& tree, const TextStyle& style) {
  const Branches b = BranchesFor(style);
  std::string out;
  // The ancestry is one line of descent down to the process asked for,
  // which is marked; its descendants hang below it.
  std::string indent;
  for (size_t i = 0; i < tree.ancestors.size(); ++i) {
    out +=
        indent + (i == 0 ? "" : std::string(b.last)) + ProcessLine(tree.ancestors[i], style) + "\n";
    if (i > 0) indent += b.after_last;
  }
  const bool has_parent = !tree.ancestors.empty();
  out += indent + (has_parent ? std::string(b.last) : "") + (style.unicode ? "▶ " : "> ") +
         NodeLine(tree.root, style) + "\n";
  AppendChildren(tree.root, has_parent ? indent + std::string(b.after_last) : indent, style, &out);
  return out;
}

std::string ReportText(const ProcessReport& report, const TextStyle& style) {
  const ProcessInfo& p = report.process;
  std::string out = fmt::format("process #{}  pid {}{}\n", p.process_id, p.pid,
                                p.placeholder ? "  (placeholder: no exec seen)" : "");
  auto field = [&out](std::string_view name, std::string_view value) {
    if (!value.empty()) out += fmt::format("  {:<10}{}\n", name, value);
  };
  auto number = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "?"; };
  field("exe", p.exe);
  field("sha256", p.sha256);
  field("md5", p.md5);
  field("hash note", p.hash_note);
  field("argv", p.argv);
  field("cmdline", p.cmdline);
  field("cwd", p.cwd);
  field("user",
        fmt::format("{} (uid {}), euser {} (euid {}), login {} (auid {}), session {}",
                    p.user.empty() ? "?" : p.user, number(p.uid), p.euser.empty() ? "?" : p.euser,
                    number(p.euid), p.login_user.empty() ? "?" : p.login_user, number(p.auid),
                    number(p.session)));
  field("tty", p.tty);
  field("comm", p.comm);
  field("node", p.node);
  field("started", TimeOrUnknown(p.start_time, style));
  field("ended", p.end_time ? FormatTime(*p.end_time, style.utc) + " exit " + number(p.exit_code)
                            : "? (no exit seen)");
  field("ppid", number(p.ppid));
  out += "parents:\n";
  if (report.ancestors.empty()) out += "  (none recorded)\n";
  for (const ProcessInfo& parent : report.ancestors)
    out += "  " + ProcessLine(parent, style) + "\n";
  std::string counts;
  for (const auto& [kind, count] : report.counts)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", EventKindName(kind), count);
  out += fmt::format("activity: {} event{}{}{}\n", report.activity.size(),
                     report.activity.size() == 1 ? "" : "s", counts.empty() ? "" : ": ", counts);
  for (const EventRow& e : report.activity) out += "  " + EventLine(e, style) + "\n";
  return out;
}

std::string TimelineText(const TimelinePage& page, const TextStyle& style) {
  std::string out;
  for (const EventRow& e : page.events) out += EventLine(e, style) + "\n";
  if (page.events.empty()) out += "no events\n";
  if (!page.next.empty()) out += fmt::format("next page: --after {}\n", page.next);
  return out;
}

std::string SearchText(const std::vector<SearchGroup>& groups, const TextStyle& style) {
  std::string out;
  for (const SearchGroup& group : groups) {
    out += fmt::format("{} ({}{}):\n", group.kind, group.hits.size(),
                       group.more ? ", more not shown: raise --limit" : "");
    for (const EventRow& hit : group.hits) {
      if (group.kind == "process") {
        // A process hit is the process itself, not its exec event.
        out +=
            "  " + fmt::format("#{} pid {} {} [{}]  {}\n", hit.process_id, hit.pid,
                               hit.exe.empty() ? "?" : hit.exe, hit.user.empty() ? "?" : hit.user,
                               Shorten(hit.detail, kShortCommandChars, style));
        continue;
      }
      out += "  " + EventLine(hit, style) + "\n";
    }
  }
  if (groups.empty()) out += "no matches\n";
  return out;
}

std::string HistogramText(const std::vector<MinuteCount>& minutes, const TextStyle& style) {
  if (minutes.empty()) return "no events\n";
  int64_t busiest = 1;
  for (const MinuteCount& m : minutes) busiest = std::max(busiest, m.count);
  auto line = [&](int64_t minute, int64_t count) {
    // "2026-11-25T17:57Z": the minute, without its zero seconds.
    std::string time = FormatTime(minute, style.utc);
    if (time.size() > 23) time.erase(16, 7);
    const int64_t width = (count * kHistogramBarWidth + busiest - 1) / busiest;
    std::string bar;
    for (int64_t i = 0; i < width; ++i) bar += style.unicode ? "█" : "#";
    return fmt::format("{}  {:>8}  {}\n", time, count, bar);
  };
  std::string out;
  for (size_t i = 0; i < minutes.size(); ++i) {
    if (i > 0) {
      const int64_t gap = (minutes[i].minute - minutes[i - 1].minute) / 60000 - 1;
      if (gap > kHistogramMaxGapLines)
        out += fmt::format("{} {} minutes without events\n", style.unicode ? "…" : "...", gap);
      else
        for (int64_t g = 1; g <= gap; ++g) out += line(minutes[i - 1].minute + g * 60000, 0);
    }
    out += line(minutes[i].minute, minutes[i].count);
  }
  return out;
}

}  // namespace recorder::investigate
