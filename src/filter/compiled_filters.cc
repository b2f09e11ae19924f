#include "filter/compiled_filters.h"

#include <algorithm>
#include <atomic>

#include "filter/filter_fields.h"

namespace recorder::filter {

struct RuleInfo {
  uint8_t product;
  bool exclude;
  bool children;  // an instance-wide process exclusion reaching descendants
  uint16_t conditions;
};

struct Hits {
  uint64_t include = 0;   // products with a matching include rule
  uint64_t exclude = 0;   // ... a matching exclude rule
  uint64_t children = 0;  // ... a matching process exclusion that reaches descendants
};

// Whether a process exclusion describes the process rather than one of
// its events (no operation / success / syscall test): then it reaches the
// process's other events and, with `children`, its descendants.
bool InstanceScoped(const Rule& rule) {
  return rule.exclude &&
         std::none_of(rule.conditions.begin(), rule.conditions.end(), [](const Condition& c) {
           return c.field == Field::kOperation || c.field == Field::kSuccess ||
                  c.field == Field::kSyscall;
         });
}

// Rules compiled together: every rule of every product for one event type
// (for process events: the include rules and the exclusions of single
// events), or the instance-wide process exclusions.
class TypeMatcher {
 public:
  explicit TypeMatcher(bool instance_rules) : instance_rules_(instance_rules) {}

  void AddRules(uint8_t product, const std::vector<Rule>& rules) {
    for (const Rule& rule : rules) {
      const auto index = static_cast<uint32_t>(rules_.size());
      rules_.push_back(RuleInfo{product, rule.exclude, rule.children && instance_rules_,
                                static_cast<uint16_t>(rule.conditions.size())});
      for (const Condition& c : rule.conditions) {
        if (c.field == Field::kCmdline) reads_cmdline_ = true;
        const auto condition = static_cast<uint32_t>(condition_rule_.size());
        condition_rule_.push_back(index);
        FieldMatcher& matcher = MatcherFor(c.field);
        for (const Pattern& p : c.patterns) matcher.Add(p, condition);
      }
    }
  }

  Status Finish() {
    for (FieldMatcher& f : fields_)
      if (Status s = f.Finish(); !s.ok())
        return Status::Errorf("field {}: {}", FieldInfoOf(f.field()).name, s.message());
    // Cheap fields first; lineage lookups (parent_exe) and joins last.
    auto cost = [](const FieldMatcher& f) {
      if (f.field() == Field::kParentExe || f.field() == Field::kCmdline) return 3;
      if (f.kind() == FieldKind::kString || f.kind() == FieldKind::kPath) return 2;
      if (f.kind() == FieldKind::kAddress) return 1;
      return 0;
    };
    std::stable_sort(
        fields_.begin(), fields_.end(),
        [&](const FieldMatcher& a, const FieldMatcher& b) { return cost(a) < cost(b); });
    return Status::Ok();
  }

  bool reads_cmdline() const { return reads_cmdline_; }
  size_t conditions() const { return condition_rule_.size(); }
  size_t rules() const { return rules_.size(); }

  template <typename Source>
  void Match(const Source& source, MatchScratch* scratch, Hits* hits) const {
    if (++scratch->generation_ == 0) {
      std::fill(scratch->condition_stamp_.begin(), scratch->condition_stamp_.end(), 0);
      std::fill(scratch->rule_stamp_.begin(), scratch->rule_stamp_.end(), 0);
      scratch->generation_ = 1;
    }
    const uint32_t generation = scratch->generation_;
    auto on_condition = [&](uint32_t condition) {
      uint32_t& stamp = scratch->condition_stamp_[condition];
      if (stamp == generation) return;
      stamp = generation;
      const uint32_t r = condition_rule_[condition];
      if (scratch->rule_stamp_[r] != generation) {
        scratch->rule_stamp_[r] = generation;
        scratch->rule_count_[r] = 0;
      }
      const RuleInfo& rule = rules_[r];
      if (++scratch->rule_count_[r] != rule.conditions) return;
      const uint64_t bit = uint64_t{1} << rule.product;
      if (!rule.exclude) {
        hits->include |= bit;
        return;
      }
      hits->exclude |= bit;
      if (rule.children) hits->children |= bit;
    };
    for (const FieldMatcher& f : fields_) {
      switch (f.kind()) {
        case FieldKind::kBool: {
          bool value = false;
          if (source.Bool(f.field(), &value)) f.MatchBool(value, on_condition);
          break;
        }
        case FieldKind::kInteger: {
          int64_t value = 0;
          if (source.Integer(f.field(), &value)) f.MatchInteger(value, on_condition);
          break;
        }
        case FieldKind::kAddress: {
          std::string_view value;
          if (source.String(f.field(), &value)) f.MatchAddress(value, on_condition);
          break;
        }
        case FieldKind::kEnum:
        case FieldKind::kString:
        case FieldKind::kPath: {
          std::string_view value;
          if (source.String(f.field(), &value))
            f.MatchString(value, &scratch->buffers_, on_condition);
          break;
        }
      }
    }
  }

 private:
  FieldMatcher& MatcherFor(Field field) {
    for (FieldMatcher& f : fields_)
      if (f.field() == field) return f;
    fields_.emplace_back(field, FieldInfoOf(field).kind);
    return fields_.back();
  }

  std::vector<RuleInfo> rules_;
  std::vector<uint32_t> condition_rule_;  // condition -> rule
  std::vector<FieldMatcher> fields_;
  bool instance_rules_;
  bool reads_cmdline_ = false;
};

namespace {
std::atomic<uint64_t> g_next_id{1};
}  // namespace

MatchScratch::MatchScratch() : memo_(kMemoSize) {}
MatchScratch::~MatchScratch() = default;

MatchScratch::MemoEntry* MatchScratch::Memo(uint64_t node, int32_t pid, int64_t start_ms) {
  const uint64_t h = (static_cast<uint64_t>(static_cast<uint32_t>(pid)) * 0x9e3779b97f4a7c15ULL) ^
                     static_cast<uint64_t>(start_ms) ^ node;
  return &memo_[(h ^ (h >> 29)) & (kMemoSize - 1)];
}

CompiledFilters::CompiledFilters() : id_(g_next_id.fetch_add(1)) {}
CompiledFilters::~CompiledFilters() = default;

Result<std::shared_ptr<const CompiledFilters>> CompiledFilters::Compile(
    const FilterConfig& config) {
  std::shared_ptr<CompiledFilters> compiled(new CompiledFilters());
  compiled->config_ = config;
  compiled->empty_ = config.products.empty() && !config.watchlist.has_value();
  auto finish = [&](std::unique_ptr<TypeMatcher>* matcher, EventType type) -> Status {
    if ((*matcher)->rules() == 0) {
      matcher->reset();
      return Status::Ok();
    }
    if (Status st = (*matcher)->Finish(); !st.ok())
      return Status::Errorf("{} rules: {}", EventTypeName(type), st.message());
    compiled->max_conditions_ = std::max(compiled->max_conditions_, (*matcher)->conditions());
    compiled->max_rules_ = std::max(compiled->max_rules_, (*matcher)->rules());
    return Status::Ok();
  };
  auto instance = std::make_unique<TypeMatcher>(/*instance_rules=*/true);
  for (size_t t = 0; t < kEventTypeCount; ++t) {
    auto matcher = std::make_unique<TypeMatcher>(/*instance_rules=*/false);
    const bool process_type = t == static_cast<size_t>(EventType::kProcess);
    for (size_t p = 0; p < config.products.size(); ++p) {
      const TypeRules& rules = config.products[p].types[t];
      const uint64_t bit = uint64_t{1} << p;
      const auto product = static_cast<uint8_t>(p);
      if (rules.present) compiled->say_[t] |= bit;
      if (!rules.include.empty()) compiled->includes_[t] |= bit;
      matcher->AddRules(product, rules.include);
      if (!process_type) {
        matcher->AddRules(product, rules.exclude);
        continue;
      }
      std::vector<Rule> of_events, of_instances;
      for (const Rule& rule : rules.exclude)
        (InstanceScoped(rule) ? of_instances : of_events).push_back(rule);
      matcher->AddRules(product, of_events);
      instance->AddRules(product, of_instances);
      if (!of_instances.empty()) compiled->process_excluders_ |= bit;
    }
    if (Status st = finish(&matcher, static_cast<EventType>(t)); !st.ok()) return st;
    compiled->types_[t] = std::move(matcher);
  }
  if (Status st = finish(&instance, EventType::kProcess); !st.ok()) return st;
  compiled->needs_argv_ = instance != nullptr && instance->reads_cmdline();
  compiled->instance_ = std::move(instance);
  for (uint64_t& say : compiled->say_) say |= compiled->process_excluders_;
  if (config.watchlist) {
    auto watchlist = WatchlistMatcher::Compile(*config.watchlist);
    if (!watchlist.ok()) return watchlist.status();
    compiled->watchlist_ = std::move(watchlist).value();
  }
  return std::shared_ptr<const CompiledFilters>(std::move(compiled));
}

DropReason CompiledFilters::Decide(const TypedEvent& event, const ProcessLineage* lineage,
                                   MatchScratch* scratch) const {
  if (empty_) return DropReason::kKept;
  if (scratch->condition_stamp_.size() < max_conditions_) {
    scratch->condition_stamp_.resize(max_conditions_, 0);
    scratch->rule_stamp_.resize(max_rules_, 0);
    scratch->rule_count_.resize(max_rules_, 0);
  }
  const EventType type = EventTypeOf(event);
  const auto t = static_cast<size_t>(type);
  if (type == EventType::kFile && watchlist_ != nullptr) {
    if (watchlist_->Selects(std::get<FileEvent>(event.body), &scratch->buffers_))
      return DropReason::kKept;
    if (!config_.only_watch_file_root) return DropReason::kWatchlistOnly;
  }
  const uint64_t say = say_[t];
  if (say == 0) return DropReason::kKept;

  Hits hits;
  if (types_[t] != nullptr) {
    EventFields fields(event, type, lineage, &scratch->fields_);
    types_[t]->Match(fields, scratch, &hits);
  }
  const uint64_t by_rules = (hits.include | ~includes_[t]) & ~hits.exclude & say;
  if (by_rules == 0) return DropReason::kRule;
  uint64_t by_process = 0;
  if ((process_excluders_ & by_rules) != 0)
    by_process = ProcessExclusion(event, type, lineage, scratch);
  return (by_rules & ~by_process) != 0 ? DropReason::kKept : DropReason::kProcess;
}

uint64_t CompiledFilters::ProcessExclusion(const TypedEvent& event, EventType type,
                                           const ProcessLineage* lineage,
                                           MatchScratch* scratch) const {
  const Subject& s = event.subject;
  const int64_t t = event.header.time_ms;
  // An exec is judged from the event itself (it carries the whole command
  // line) and its verdict remembered; every later event of the process
  // reuses it, found by the instance the enricher gave the event.
  const bool exec = std::holds_alternative<ProcessStart>(event.body) && event.header.success;
  const uint64_t node = MatchScratch::NodeTag(event.header.node);
  auto remembered = [&](int32_t pid, int64_t start_ms) -> const MatchScratch::MemoEntry* {
    const MatchScratch::MemoEntry* m = scratch->Memo(node, pid, start_ms);
    return m->owner == id_ && m->node == node && m->pid == pid && m->start_ms == start_ms ? m
                                                                                          : nullptr;
  };
  if (!exec && event.enrichment.process_start_ms >= 0)
    if (const auto* m = remembered(s.pid, event.enrichment.process_start_ms)) return m->excluded;
  ProcessFacts facts;
  const bool known =
      lineage != nullptr && s.pid > 0 &&
      lineage->Instance(event.header.node, s.pid, event.enrichment.process_start_ms, t, &facts);
  if (!exec && known && facts.start_ms >= 0)
    if (const auto* m = remembered(facts.pid, facts.start_ms)) return m->excluded;

  Hits direct;
  if (exec) {
    EventFields fields(event, type, lineage, &scratch->fields_);
    instance_->Match(fields, scratch, &direct);
  } else if (known) {
    InstanceFields fields(facts, t, lineage, &scratch->fields_);
    instance_->Match(fields, scratch, &direct);
  } else {
    EventFields fields(event, type, lineage, &scratch->fields_, /*subject_only=*/true);
    instance_->Match(fields, scratch, &direct);
  }
  uint64_t parent = 0;
  if (lineage != nullptr) {
    if (known) {
      if (facts.ppid > 0 && facts.ppid != facts.pid)
        parent =
            Inheritable(event.header.node, facts.ppid, facts.parent_start_ms, t, lineage, scratch);
    } else if (s.ppid > 0) {
      parent = Inheritable(event.header.node, s.ppid, -1, t, lineage, scratch);
    }
  }
  const uint64_t excluded = direct.exclude | parent;
  if (known && facts.start_ms >= 0)
    *scratch->Memo(node, facts.pid, facts.start_ms) = MatchScratch::MemoEntry{
        node, facts.pid, facts.start_ms, excluded, direct.children | parent, id_};
  return excluded;
}

uint64_t CompiledFilters::Inheritable(std::string_view node, int32_t pid, int64_t start_ms,
                                      int64_t at_ms, const ProcessLineage* lineage,
                                      MatchScratch* scratch) const {
  constexpr size_t kMaxDepth = 32;
  std::array<ProcessFacts, kMaxDepth> chain;
  size_t n = 0;
  uint64_t base = 0;
  const uint64_t tag = MatchScratch::NodeTag(node);
  while (n < kMaxDepth && pid > 0) {
    ProcessFacts f;
    if (!lineage->Instance(node, pid, start_ms, at_ms, &f)) break;
    if (f.start_ms >= 0) {
      const MatchScratch::MemoEntry* m = scratch->Memo(tag, f.pid, f.start_ms);
      if (m->owner == id_ && m->node == tag && m->pid == f.pid && m->start_ms == f.start_ms) {
        base = m->inheritable;
        break;
      }
    }
    chain[n++] = f;
    if (f.ppid <= 0 || f.ppid == f.pid) break;
    pid = f.ppid;
    start_ms = f.parent_start_ms;
  }
  while (n-- > 0) {
    Hits h;
    InstanceFields fields(chain[n], at_ms, lineage, &scratch->fields_);
    instance_->Match(fields, scratch, &h);
    const uint64_t excluded = h.exclude | base;
    base |= h.children;
    if (chain[n].start_ms >= 0)
      *scratch->Memo(tag, chain[n].pid, chain[n].start_ms) =
          MatchScratch::MemoEntry{tag, chain[n].pid, chain[n].start_ms, excluded, base, id_};
  }
  return base;
}

}  // namespace recorder::filter
