#include "signals/sigma_loader.h"

#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "filter/filter_parser.h"
#include "signals/sigma_condition.h"
#include "signals/sigma_values.h"
#include "signals/yaml_tree.h"
#include "util/json_text.h"

namespace recorder::signals {
namespace {

namespace fs = std::filesystem;

// A reason to stop loading a rule: skipped (unsupported) or malformed.
struct Refusal {
  Outcome outcome;
  std::string reason;
};

Refusal Skip(std::string reason) { return {Outcome::kSkipped, std::move(reason)}; }
Refusal Malformed(std::string reason) { return {Outcome::kMalformed, std::move(reason)}; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

// A scalar's text, or "" for anything else.
std::string Text(const YamlNode& node) { return std::string(node.Scalar()); }

// product: windows — the Sysmon categories a Sysmon import fills.
std::optional<LogSource> WindowsCategory(std::string_view category) {
  static constexpr std::pair<std::string_view, LogSource> kCategories[] = {
      {"process_creation", LogSource::kWindowsProcessCreation},
      {"network_connection", LogSource::kWindowsNetworkConnection},
      {"file_event", LogSource::kWindowsFileEvent},
      {"file_delete", LogSource::kWindowsFileDelete},
      {"registry_add", LogSource::kWindowsRegistryAdd},
      {"registry_delete", LogSource::kWindowsRegistryDelete},
      {"registry_set", LogSource::kWindowsRegistrySet},
      {"registry_event", LogSource::kWindowsRegistryEvent},
      {"dns_query", LogSource::kWindowsDnsQuery},
      {"image_load", LogSource::kWindowsImageLoad},
      {"driver_load", LogSource::kWindowsDriverLoad},
  };
  for (const auto& [name, source] : kCategories)
    if (name == category) return source;
  return std::nullopt;
}

std::optional<Refusal> ReadLogSource(const YamlNode& logsource, SigmaRule* rule) {
  if (!logsource || !logsource.IsMap()) return Malformed("no logsource map");
  const std::string product = Lower(Text(logsource["product"]));
  const std::string category = Lower(Text(logsource["category"]));
  const std::string service = Lower(Text(logsource["service"]));
  if (product == "windows") {
    // Imported Sysmon logs are the only Windows evidence: a service
    // (security, powershell, sysmon's own status events) is not kept.
    if (!service.empty())
      return Skip(fmt::format(
          "log source not recorded: windows service \"{}\" (only Sysmon's categories)", service));
    std::optional<LogSource> source = WindowsCategory(category);
    if (!source)
      return Skip(fmt::format("log source not recorded: windows category \"{}\"", category));
    rule->source = *source;
    return std::nullopt;
  }
  if (product == "macos") {
    if (!service.empty() || category != "process_creation")
      return Skip(fmt::format("log source not recorded: macos {} \"{}\" (only process_creation)",
                              service.empty() ? "category" : "service",
                              service.empty() ? category : service));
    rule->source = LogSource::kMacosProcessCreation;
    return std::nullopt;
  }
  if (product != "linux")
    return Skip(fmt::format("log source not recorded: product \"{}\" (only linux, windows, macos)",
                            product));
  if (!service.empty()) {
    if (service != "auditd")
      return Skip(fmt::format("log source not recorded: service \"{}\" (only auditd)", service));
    rule->source = LogSource::kAuditd;
    return std::nullopt;
  }
  if (category == "process_creation") {
    rule->source = LogSource::kProcessCreation;
  } else if (category == "file_event") {
    rule->source = LogSource::kFileEvent;
  } else if (category == "network_connection") {
    rule->source = LogSource::kNetworkConnection;
  } else if (category.empty()) {
    return Skip(
        "log source not recorded: linux with no category or service (the system's own logs, "
        "syslog and the like)");
  } else {
    return Skip(fmt::format("log source not recorded: category \"{}\"", category));
  }
  return std::nullopt;
}

struct Modifiers {
  std::string base;  // contains / startswith / endswith / re / cidr / exists, or ""
  bool all = false;
  bool windash = false;
  bool base64offset = false;
  std::string regex_flags;  // i, m, s after re
};

std::optional<Refusal> ReadModifiers(const std::vector<std::string>& names, Modifiers* out) {
  for (const std::string& raw : names) {
    const std::string m = Lower(raw);
    if (m == "contains" || m == "startswith" || m == "endswith" || m == "re" || m == "cidr" ||
        m == "exists") {
      if (!out->base.empty() && !(out->base == "contains" && m == "contains"))
        return Skip(fmt::format("modifiers |{} and |{} together are not supported", out->base, m));
      out->base = m;
    } else if (m == "all") {
      out->all = true;
    } else if (m == "windash") {
      out->windash = true;
    } else if (m == "base64offset") {
      out->base64offset = true;
    } else if ((m == "i" || m == "m" || m == "s") && out->base == "re") {
      out->regex_flags += m;
    } else {
      return Skip(fmt::format("unsupported modifier |{}", raw));
    }
  }
  if (out->base64offset && out->base != "contains")
    return Skip("|base64offset without |contains is not supported");
  if ((out->windash || out->base64offset) && (out->base == "re" || out->base == "cidr"))
    return Skip(fmt::format("|{} with |{} is not supported",
                            out->windash ? "windash" : "base64offset", out->base));
  return std::nullopt;
}

// The values of one `field|modifiers: ...` (or of a keyword list).
std::optional<Refusal> ReadValues(const YamlNode& node, const Modifiers& mods,
                                  const LoadOptions& options, FieldTest* test) {
  std::vector<YamlNode> items;
  if (node.IsSequence()) {
    items = node.Items();
    if (items.empty()) return Malformed(fmt::format("{}: an empty list of values", test->name));
  } else {
    items.push_back(node);
  }
  for (const YamlNode& item : items) {
    if (item.IsMap() || item.IsSequence())
      return Malformed(
          fmt::format("{}: a value that is a {}", test->name, item.IsMap() ? "map" : "list"));
    const bool null = !item || item.IsNull();
    if (null) {
      ValueTest value;
      value.op = ValueOp::kNull;
      test->values.push_back(std::move(value));
      continue;
    }
    const std::string text(item.Scalar());
    if (mods.base == "exists") {
      const std::string flag = Lower(text);
      if (flag != "true" && flag != "false")
        return Malformed(fmt::format("{}: |exists takes true or false", test->name));
      ValueTest value;
      value.op = ValueOp::kExists;
      value.flag = flag == "true";
      test->values.push_back(std::move(value));
    } else if (mods.base == "re") {
      ValueTest value;
      value.op = ValueOp::kRegex;
      value.text = mods.regex_flags.empty() ? text : "(?" + mods.regex_flags + ")" + text;
      RE2::Options re_options;
      re_options.set_log_errors(false);
      re_options.set_encoding(RE2::Options::EncodingLatin1);
      RE2 check(value.text, re_options);
      if (!check.ok())
        return Malformed(fmt::format("{}: bad regex \"{}\": {}", test->name, text, check.error()));
      test->values.push_back(std::move(value));
    } else if (mods.base == "cidr") {
      std::optional<filter::Cidr> cidr = filter::ParseCidr(text);
      if (!cidr) return Malformed(fmt::format("{}: bad CIDR block \"{}\"", test->name, text));
      ValueTest value;
      value.op = ValueOp::kCidr;
      value.text = text;
      value.cidr = *cidr;
      test->values.push_back(std::move(value));
    } else {
      const WildcardAnchor anchor = mods.base == "contains"     ? WildcardAnchor::kContains
                                    : mods.base == "startswith" ? WildcardAnchor::kStartsWith
                                    : mods.base == "endswith"   ? WildcardAnchor::kEndsWith
                                                                : WildcardAnchor::kWhole;
      std::vector<std::string> variants = {text};
      if (mods.windash) variants = WindashVariants(text);
      if (mods.base64offset) {
        std::vector<std::string> encoded;
        for (const std::string& v : variants)
          for (std::string& e : Base64OffsetVariants(v)) encoded.push_back(EscapeWildcards(e));
        variants = std::move(encoded);
      }
      for (const std::string& v : variants) {
        ValueTest value = CompileWildcardValue(v, anchor);
        if (!options.substring_matching &&
            (value.op == ValueOp::kContains || value.op == ValueOp::kStartsWith ||
             value.op == ValueOp::kEndsWith))
          return Skip(fmt::format(
              "{}: needs contains/startswith/endswith matching, off by DisableSignalsTrie",
              test->name));
        test->values.push_back(std::move(value));
      }
    }
  }
  if (mods.base64offset && mods.all) return Skip("|base64offset with |all is not supported");
  return std::nullopt;
}

// `field|mod|mod` -> the field test (without values).
std::optional<Refusal> ReadFieldTest(std::string_view key, const YamlNode& value, LogSource source,
                                     const LoadOptions& options, FieldTest* test) {
  test->name = std::string(key);
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const size_t bar = key.find('|', begin);
    parts.emplace_back(key.substr(begin, bar - begin));
    if (bar == std::string_view::npos) break;
    begin = bar + 1;
  }
  const std::string field = parts[0];
  Modifiers mods;
  if (auto refusal = ReadModifiers({parts.begin() + 1, parts.end()}, &mods)) return refusal;
  test->all = mods.all;
  if (field.empty()) {
    test->field = FieldRef{SignalField::kKeywords, 0};
    if (mods.base.empty()) mods.base = "contains";
  } else {
    std::optional<FieldRef> ref = LookupField(source, field);
    if (!ref) return Skip(fmt::format("unknown field \"{}\" for {}", field, LogSourceName(source)));
    test->field = *ref;
  }
  return ReadValues(value, mods, options, test);
}

std::optional<Refusal> ReadSelection(const std::string& name, const YamlNode& node,
                                     LogSource source, const LoadOptions& options,
                                     Selection* selection) {
  selection->name = name;
  auto read_map = [&](const YamlNode& map) -> std::optional<Refusal> {
    std::vector<FieldTest> alternative;
    for (const auto& entry : map.Entries()) {
      FieldTest test;
      if (auto refusal = ReadFieldTest(entry.first.Scalar(), entry.second, source, options, &test))
        return refusal;
      alternative.push_back(std::move(test));
    }
    if (alternative.empty()) return Malformed(fmt::format("selection {} is empty", name));
    selection->alternatives.push_back(std::move(alternative));
    return std::nullopt;
  };
  if (node.IsMap()) return read_map(node);
  const std::vector<YamlNode> items_of_node = node.Items();
  const bool keywords =
      node.IsScalar() ||
      (node.IsSequence() &&
       std::none_of(items_of_node.begin(), items_of_node.end(),
                    [](const YamlNode& item) { return item.IsMap() || item.IsSequence(); }));
  if (keywords) {
    FieldTest test;
    test.name = name;
    test.field = FieldRef{SignalField::kKeywords, 0};
    Modifiers mods;
    mods.base = "contains";
    if (auto refusal = ReadValues(node, mods, options, &test)) return refusal;
    selection->alternatives.push_back({std::move(test)});
    return std::nullopt;
  }
  if (!node.IsSequence()) return Malformed(fmt::format("selection {} is not a map or list", name));
  for (const YamlNode& item : items_of_node) {
    if (!item.IsMap())
      return Malformed(fmt::format("selection {}: a list that mixes maps and values", name));
    if (auto refusal = read_map(item)) return refusal;
  }
  return std::nullopt;
}

std::optional<Refusal> ReadRule(const YamlNode& doc, const LoadOptions& options, SigmaRule* rule) {
  if (!doc.IsMap()) return Malformed("the document is not a YAML map");
  if (doc["correlation"]) return Skip("correlation rules are not supported");
  rule->title = Text(doc["title"]);
  if (!Text(doc["id"]).empty()) rule->id = Text(doc["id"]);
  rule->author = Text(doc["author"]);
  rule->description = Text(doc["description"]);
  rule->status = Text(doc["status"]);
  if (rule->title.empty()) return Malformed("no title");
  if (const std::string level = Lower(Text(doc["level"])); !level.empty()) {
    static constexpr std::pair<std::string_view, Level> kLevels[] = {
        {"informational", Level::kInformational},
        {"low", Level::kLow},
        {"medium", Level::kMedium},
        {"high", Level::kHigh},
        {"critical", Level::kCritical}};
    auto it = std::find_if(std::begin(kLevels), std::end(kLevels),
                           [&](const auto& l) { return l.first == level; });
    if (it == std::end(kLevels)) return Malformed(fmt::format("unknown level \"{}\"", level));
    rule->level = it->second;
  }
  const YamlNode detection = doc["detection"];
  if (!detection || !detection.IsMap()) return Malformed("no detection map");
  if (auto refusal = ReadLogSource(doc["logsource"], rule)) return refusal;
  if (detection["timeframe"]) return Skip("aggregation (timeframe) is not supported");
  const YamlNode condition = detection["condition"];
  if (!condition) return Malformed("no detection.condition");
  const std::vector<YamlNode> conditions = condition.Items();  // none unless a list
  if (condition.IsScalar()) {
    rule->condition_text = std::string(condition.Scalar());
  } else if (!conditions.empty()) {
    // A list of conditions: any of them.
    for (const YamlNode& c : conditions) {
      if (!c.IsScalar()) return Malformed("detection.condition: a list of non-strings");
      rule->condition_text +=
          (rule->condition_text.empty() ? "(" : " or (") + std::string(c.Scalar()) + ")";
    }
  } else {
    return Malformed("detection.condition is not a string");
  }
  std::vector<std::string> names;
  for (const auto& entry : detection.Entries()) {
    const std::string name(entry.first.Scalar());
    if (name == "condition") continue;
    Selection selection;
    if (auto refusal = ReadSelection(name, entry.second, rule->source, options, &selection))
      return Refusal{refusal->outcome, fmt::format("{}: {}", name, refusal->reason)};
    names.push_back(name);
    rule->selections.push_back(std::move(selection));
  }
  Result<ConditionNode> parsed = ParseCondition(rule->condition_text, names);
  if (!parsed.ok()) {
    const std::string reason = "condition: " + parsed.status().message();
    return parsed.status().code() == StatusCode::kUnavailable ? Skip(reason) : Malformed(reason);
  }
  rule->condition = std::move(parsed).value();
  return std::nullopt;
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInformational:
      return "informational";
    case Level::kLow:
      return "low";
    case Level::kMedium:
      return "medium";
    case Level::kHigh:
      return "high";
    case Level::kCritical:
      return "critical";
  }
  return "unknown";
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kLoaded:
      return "loaded";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kMalformed:
      return "malformed";
  }
  return "unknown";
}

size_t LoadedRules::count(Outcome outcome) const {
  return static_cast<size_t>(std::count_if(
      reports.begin(), reports.end(), [&](const RuleReport& r) { return r.outcome == outcome; }));
}

RuleReport LoadSigmaText(const std::string& file, std::string_view text, const LoadOptions& options,
                         std::optional<SigmaRule>* rule) {
  rule->reset();
  RuleReport report;
  report.file = file;
  SigmaRule loaded;
  loaded.file = file;
  loaded.id = fs::path(file).stem().string();
  std::optional<Refusal> refusal;
  Result<std::vector<YamlDocument>> docs = ParseYaml(text);
  if (!docs.ok()) {
    refusal = Malformed(docs.status().message());
  } else if (docs->empty()) {
    refusal = Malformed("no YAML document");
  } else if (docs->size() > 1) {
    refusal = Skip("rule collections (several YAML documents in one file) are not supported");
  } else {
    refusal = ReadRule((*docs)[0].root(), options, &loaded);
  }
  report.id = loaded.id;
  report.title = loaded.title;
  if (refusal) {
    report.outcome = refusal->outcome;
    report.reason = std::move(refusal->reason);
    return report;
  }
  report.outcome = Outcome::kLoaded;
  *rule = std::move(loaded);
  return report;
}

Result<LoadedRules> LoadSigmaDirectory(const std::string& dir, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::Errorf(StatusCode::kNotFound, "signals directory {} does not exist", dir);
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    const std::string ext = it->path().extension().string();
    if ((ext == ".yml" || ext == ".yaml") && it->is_regular_file(ec))
      files.push_back(it->path().string());
  }
  if (ec) return Status::Errorf("cannot list {}: {}", dir, ec.message());
  std::sort(files.begin(), files.end());
  LoadedRules loaded;
  std::set<std::string> ids;
  for (const std::string& file : files) {
    Result<std::string> text = ReadTextFile(file);
    if (!text.ok()) {
      loaded.reports.push_back(
          RuleReport{file, "", "", Outcome::kMalformed, text.status().message()});
      continue;
    }
    std::optional<SigmaRule> rule;
    RuleReport report = LoadSigmaText(file, *text, options, &rule);
    if (rule && !ids.insert(rule->id).second) {
      report.outcome = Outcome::kSkipped;
      report.reason = "another rule with this id was loaded first";
      rule.reset();
    }
    if (rule) loaded.rules.push_back(std::move(*rule));
    loaded.reports.push_back(std::move(report));
  }
  return loaded;
}

}  // namespace recorder::signals
