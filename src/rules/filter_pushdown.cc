#include "rules/filter_pushdown.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "filter/filter_fields.h"
#include "rules/rule_manager.h"

namespace recorder::rules {
namespace {

using filter::Condition;
using filter::EventType;
using filter::Field;
using filter::FilterConfig;
using filter::Operator;
using filter::Pattern;
using filter::Rule;

// The recorder's always rules grouped by the event type their syscalls
// record. The process lifecycle group is never pushed down.
enum Group { kLifecycle, kFile, kNetwork, kSecurity, kModule, kGroupCount };

Group GroupOf(const std::string& syscall) {
  static const std::set<std::string> lifecycle = {"execve", "execveat", "exit_group"};
  static const std::set<std::string> network = {"connect", "bind",   "accept",
                                                "accept4", "listen", "socketcall"};
  static const std::set<std::string> module = {"init_module", "finit_module", "delete_module"};
  if (lifecycle.count(syscall)) return kLifecycle;
  if (network.count(syscall)) return kNetwork;
  if (module.count(syscall)) return kModule;
  if (syscall.rfind("set", 0) == 0) return kSecurity;
  return kFile;
}

// Calls with two paths: the kernel's dir=/path= would judge the second.
bool TwoPaths(const std::string& syscall) {
  static const std::set<std::string> two = {"rename", "renameat", "renameat2", "link",
                                            "linkat", "symlink",  "symlinkat"};
  return two.count(syscall) > 0;
}

EventType TypeOfGroup(Group g) {
  switch (g) {
    case kNetwork:
      return EventType::kNetwork;
    case kSecurity:
      return EventType::kSecurity;
    case kModule:
      return EventType::kModule;
    default:
      return EventType::kFile;
  }
}

const char* GroupName(Group g) {
  static const char* const kNames[] = {"process", "file", "network", "security", "module"};
  return kNames[g];
}

// One way to express a rule in the kernel: fields ANDed, maybe a
// restricted syscall set and a path (which narrows file calls).
struct Candidate {
  std::vector<std::string> fields;
  std::vector<std::string> syscalls;  // empty: the group's
  bool has_path = false;
  std::string path;  // the dir=/path= value, for the watchlist check
  bool operator<(const Candidate& o) const {
    return std::tie(fields, syscalls) < std::tie(o.fields, o.syscalls);
  }
};

// The kernel forms of a rule (values of a condition are alternatives, so
// a rule with exe: [a, b] is two kernel rules), or a reason it has none.
bool Express(const Rule& rule, EventType type, std::vector<Candidate>* out, std::string* reason) {
  std::vector<Candidate> forms(1);
  for (const Condition& c : rule.conditions) {
    std::vector<Candidate> next;
    const std::string_view name = filter::FieldInfoOf(c.field).name;
    for (const Pattern& p : c.patterns) {
      if (p.case_insensitive) {
        *reason = fmt::format("{} is case-insensitive; the kernel compares exactly", name);
        return false;
      }
      std::vector<std::string> fields;
      std::string syscall;
      std::string path;
      switch (c.field) {
        case Field::kExe:
          if (p.op != Operator::kEquals || p.text.empty() || p.text[0] != '/') {
            *reason = "exe is pushed down only as an exact absolute path";
            return false;
          }
          fields.push_back("exe=" + p.text);
          break;
        case Field::kUid:
        case Field::kAuid: {
          const char* f = c.field == Field::kUid ? "uid" : "auid";
          const int64_t lo = p.lo < 0 ? 4294967295 : p.lo;
          const int64_t hi = p.hi < 0 ? 4294967295 : p.hi;
          if (lo == hi) {
            fields.push_back(fmt::format("{}={}", f, lo));
          } else {
            fields.push_back(fmt::format("{}>={}", f, lo));
            fields.push_back(fmt::format("{}<={}", f, hi));
          }
          break;
        }
        case Field::kSuccess:
          fields.push_back(p.flag ? "success=1" : "success=0");
          break;
        case Field::kSyscall:
          if (p.op != Operator::kEquals) {
            *reason = "syscall is pushed down only by exact names";
            return false;
          }
          syscall = p.text;
          break;
        case Field::kPath: {
          std::string prefix;
          if (p.op == Operator::kStartsWith) {
            prefix = p.text;
          } else if (p.op == Operator::kGlob && p.text.size() > 3 &&
                     p.text.compare(p.text.size() - 3, 3, "/**") == 0 &&
                     p.text.find_first_of("*?[") == p.text.size() - 2) {
            prefix = p.text.substr(0, p.text.size() - 2);
          }
          while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
          if (type == EventType::kFile && p.op == Operator::kEquals && !p.text.empty() &&
              p.text[0] == '/') {
            fields.push_back("path=" + p.text);
            path = p.text;
          } else if (type == EventType::kFile && prefix.size() > 1 && prefix[0] == '/') {
            // starts_with "/var/lo" covers more than dir=/var/lo: the kernel's
            // part is a subset, which is all pushdown needs.
            fields.push_back("dir=" + prefix);
            path = prefix;
          } else {
            *reason = "path is pushed down only as an exact path, a directory prefix or DIR/**";
            return false;
          }
          break;
        }
        default:
          *reason = fmt::format("{} is matched in user space only", name);
          return false;
      }
      for (const Candidate& base : forms) {
        Candidate form = base;
        form.fields.insert(form.fields.end(), fields.begin(), fields.end());
        if (!syscall.empty()) form.syscalls.push_back(syscall);
        if (!path.empty()) {
          form.has_path = true;
          form.path = path;
        }
        next.push_back(std::move(form));
      }
    }
    if (next.size() > 16) {
      *reason = "too many value combinations for kernel rules";
      return false;
    }
    forms = std::move(next);
  }
  for (Candidate& form : forms) {
    std::sort(form.fields.begin(), form.fields.end());
    std::sort(form.syscalls.begin(), form.syscalls.end());
  }
  *out = std::move(forms);
  return true;
}

std::vector<Group> GroupsOf(EventType type) {
  switch (type) {
    case EventType::kProcess:
      return {kFile, kNetwork, kSecurity, kModule};
    case EventType::kFile:
      return {kFile};
    case EventType::kNetwork:
      return {kNetwork};
    case EventType::kSecurity:
      return {kSecurity};
    case EventType::kModule:
      return {kModule};
    default:
      return {};
  }
}

bool Overlaps(const std::string& a, const std::string& b) {
  auto under = [](const std::string& x, const std::string& dir) {
    return x == dir || dir == "/" ||
           (x.size() > dir.size() && x.compare(0, dir.size(), dir) == 0 && x[dir.size()] == '/');
  };
  return under(a, b) || under(b, a);
}

bool InstanceScoped(const Rule& rule) {
  return std::none_of(rule.conditions.begin(), rule.conditions.end(), [](const Condition& c) {
    return c.field == Field::kOperation || c.field == Field::kSuccess || c.field == Field::kSyscall;
  });
}

}  // namespace

PushdownPlan PlanPushdown(const FilterConfig& filters, const std::vector<RuleSpec>& recorder_rules,
                          const PushdownOptions& options) {
  PushdownPlan plan;
  // arch -> group -> syscalls, in the order the recorder's rules list them.
  std::map<std::string, std::array<std::vector<std::string>, kGroupCount>> syscalls;
  std::vector<std::string> arches;
  for (const RuleSpec& spec : recorder_rules) {
    if (spec.action != "always") continue;
    if (!syscalls.count(spec.arch)) arches.push_back(spec.arch);
    auto& groups = syscalls[spec.arch];
    for (const std::string& name : spec.syscalls) {
      auto& list = groups[GroupOf(name)];
      if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
    }
  }

  // Every product's kernel forms per group, to check that the others agree.
  struct Form {
    size_t product;
    const Rule* rule;
    Group group;
    Candidate candidate;
  };
  std::vector<Form> forms;
  std::vector<std::set<std::pair<Group, Candidate>>> by_product(filters.products.size());
  std::vector<uint8_t> process_excluder(filters.products.size(), 0);
  std::map<const Rule*, PushdownNote> notes;
  std::vector<const Rule*> order;
  for (size_t p = 0; p < filters.products.size(); ++p) {
    for (size_t t = 0; t < filter::kEventTypeCount; ++t) {
      const auto type = static_cast<EventType>(t);
      for (const Rule& rule : filters.products[p].types[t].exclude) {
        if (type == EventType::kProcess && InstanceScoped(rule)) process_excluder[p] = 1;
        PushdownNote& note = notes[&rule];
        note.rule = rule.where;
        order.push_back(&rule);
        std::vector<Group> groups = GroupsOf(type);
        if (type == EventType::kProcess && !InstanceScoped(rule)) groups.clear();
        if (groups.empty()) {
          note.reason = type == EventType::kProcess
                            ? "a rule on process events only: execs and exits always reach the "
                              "process table"
                            : fmt::format("{} events do not come from audit rules",
                                          filter::EventTypeName(type));
          continue;
        }
        std::vector<Candidate> candidates;
        if (!Express(rule, type, &candidates, &note.reason)) continue;
        for (Group g : groups)
          for (const Candidate& c : candidates) {
            forms.push_back(Form{p, &rule, g, c});
            by_product[p].insert({g, c});
          }
      }
    }
  }

  std::set<std::pair<std::string, std::vector<std::string>>> emitted;
  for (const Form& form : forms) {
    PushdownNote& note = notes[form.rule];
    auto refuse = [&](std::string why) {
      if (note.reason.empty()) note.reason = std::move(why);
    };
    // Every other product with a say on these events must exclude them too.
    const EventType type = TypeOfGroup(form.group);
    bool agreed = true;
    for (size_t q = 0; q < filters.products.size() && agreed; ++q) {
      if (q == form.product) continue;
      const bool say =
          filters.products[q].types[static_cast<size_t>(type)].present || process_excluder[q];
      if (say && !by_product[q].count({form.group, form.candidate})) {
        refuse(fmt::format("{} still records these {} events", filters.products[q].file,
                           GroupName(form.group)));
        agreed = false;
      }
    }
    if (!agreed) continue;
    if (form.group == kFile && filters.watchlist) {
      const bool clash =
          !form.candidate.has_path ||
          std::any_of(filters.watchlist->entries.begin(), filters.watchlist->entries.end(),
                      [&](const auto& e) { return Overlaps(e.path, form.candidate.path); });
      if (clash) {
        refuse("it could drop file events watchlist.json asks for");
        continue;
      }
    }
    if (form.candidate.has_path && options.directory_exists) {
      const bool dir = form.candidate.fields.end() !=
                       std::find_if(form.candidate.fields.begin(), form.candidate.fields.end(),
                                    [](const std::string& f) { return f.rfind("dir=", 0) == 0; });
      std::string must_exist = form.candidate.path;
      if (!dir) must_exist = must_exist.substr(0, std::max<size_t>(1, must_exist.rfind('/')));
      if (!options.directory_exists(must_exist)) {
        refuse(fmt::format("{} does not exist, so the kernel cannot watch it", must_exist));
        continue;
      }
    }
    for (const std::string& arch : arches) {
      std::vector<std::string> calls;
      for (const std::string& name : syscalls[arch][form.group]) {
        if (form.candidate.has_path && TwoPaths(name)) continue;
        if (!form.candidate.syscalls.empty() &&
            !std::binary_search(form.candidate.syscalls.begin(), form.candidate.syscalls.end(),
                                name))
          continue;
        calls.push_back(name);
      }
      if (calls.empty()) continue;
      RuleSpec spec;
      spec.action = "never";
      spec.arch = arch;
      spec.syscalls = std::move(calls);
      spec.fields = form.candidate.fields;
      spec.key = options.rule_key;
      const std::string text = spec.ToAuditctl();
      if (!emitted.insert({text, {}}).second) {
        note.pushed = true;
        note.audit_rules.push_back(text);
        continue;
      }
      if (plan.rules.size() >= options.max_rules) {
        refuse(fmt::format("over the limit of {} pushed-down kernel rules", options.max_rules));
        break;
      }
      plan.rules.push_back(std::move(spec));
      note.pushed = true;
      note.audit_rules.push_back(text);
    }
  }
  for (const Rule* rule : order) plan.notes.push_back(std::move(notes[rule]));
  return plan;
}

std::vector<std::string> WatchedPathsWithWatchlist(const std::vector<std::string>& watched_paths,
                                                   const FilterConfig& filters) {
  if (!filters.watchlist || filters.watchlist->entries.empty()) return watched_paths;
  std::vector<std::string> out;
  if (filters.only_watch_file_root) out = watched_paths;
  if (std::find(out.begin(), out.end(), "/") != out.end()) return out;
  for (const filter::WatchEntry& entry : filters.watchlist->entries)
    if (std::find(out.begin(), out.end(), entry.path) == out.end()) out.push_back(entry.path);
  return out;
}

std::vector<RuleSpec> WithPushdown(std::vector<RuleSpec> recorder_rules,
                                   const std::vector<RuleSpec>& pushdown) {
  auto first_always = std::find_if(recorder_rules.begin(), recorder_rules.end(),
                                   [](const RuleSpec& r) { return r.action != "never"; });
  recorder_rules.insert(first_always, pushdown.begin(), pushdown.end());
  return recorder_rules;
}

FilteredRules DeriveRulesWithFilters(const config::RecorderConfig& config,
                                     const FilterConfig& filters, PushdownOptions options) {
  config::RecorderConfig widened = config;
  widened.watched_paths = WatchedPathsWithWatchlist(config.watched_paths, filters);
  const std::vector<RuleSpec> derived = DeriveRules(widened);
  options.rule_key = config.rule_key;
  FilteredRules out;
  out.pushdown = PlanPushdown(filters, derived, options);
  out.rules = WithPushdown(derived, out.pushdown.rules);
  return out;
}

}  // namespace recorder::rules
