#include "filter/filter_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "filter/filter_fields.h"
#include "filter/parse_support.h"
#include "util/json_text.h"

namespace recorder::filter {
namespace {

using parse::Dump;
using parse::FileReader;
using parse::IsOneOf;
using parse::kCommentKeys;
using parse::ValidRegex;

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxProducts = 64;     // product sets are bit masks in the matcher
constexpr int64_t kMaxId = 4294967294;  // (uid_t)-1 is "unset"
constexpr char kMainFilterSuffix[] = "_filters.json";

struct OperatorSpelling {
  Operator op;
  std::initializer_list<const char*> names;
};
const OperatorSpelling kOperators[] = {
    {Operator::kEquals, {"equals", "is", "eq", "exact"}},
    {Operator::kContains, {"contains", "has"}},
    {Operator::kStartsWith, {"starts_with", "prefix", "begins_with"}},
    {Operator::kEndsWith, {"ends_with", "suffix"}},
    {Operator::kGlob, {"glob", "wildcard"}},
    {Operator::kRegex, {"regex", "regexp", "matches"}},
};
const std::initializer_list<const char*> kCaseKeys = {"case_insensitive", "ignore_case", "nocase"};

std::vector<std::string> OperatorNames() {
  std::vector<std::string> names;
  for (const OperatorSpelling& o : kOperators) names.emplace_back(*o.names.begin());
  for (const char* k : kCaseKeys) names.emplace_back(k);
  return names;
}
class RuleParser {
 public:
  RuleParser(FileReader* reader, EventType type, std::string where)
      : reader_(reader), type_(type), where_(std::move(where)) {}

  void Value(Field field, const json& value, bool case_default, Condition* out) {
    field_ = field;
    const FieldKind kind = FieldInfoOf(field).kind;
    if (value.is_array()) {
      if (value.empty()) Fail("an empty list matches nothing");
      for (const json& item : value) Value(field, item, case_default, out);
      return;
    }
    switch (kind) {
      case FieldKind::kString:
      case FieldKind::kPath:
        return String(value, case_default, kind == FieldKind::kPath, out);
      case FieldKind::kInteger:
        return Integer(value, out);
      case FieldKind::kAddress:
        return Address(value, out);
      case FieldKind::kEnum:
        return Enum(value, out);
      case FieldKind::kBool:
        return Bool(value, out);
    }
  }

 private:
  template <typename... Args>
  void Fail(fmt::format_string<Args...> format, Args&&... args) {
    reader_->Error(where_, "{}: {}", FieldInfoOf(field_).name,
                   fmt::format(format, std::forward<Args>(args)...));
  }

  void String(const json& value, bool case_default, bool path, Condition* out) {
    if (value.is_string()) return AddString(Operator::kEquals, value, case_default, path, out);
    if (!value.is_object()) {
      return Fail(
          "expected a string, a list, or an operator object like {{\"starts_with\": ...}}, "
          "got {}",
          Dump(value));
    }
    bool ci = case_default;
    for (const auto& [key, v] : value.items()) {
      if (!IsOneOf(CanonicalKey(key), kCaseKeys)) continue;
      if (!v.is_boolean()) return Fail("{} must be true or false, got {}", key, Dump(v));
      ci = v.get<bool>();
    }
    bool any = false;
    for (const auto& [key, v] : value.items()) {
      const std::string canonical = CanonicalKey(key);
      if (IsOneOf(canonical, kCaseKeys)) continue;
      const OperatorSpelling* found = nullptr;
      for (const OperatorSpelling& o : kOperators)
        if (IsOneOf(canonical, o.names)) found = &o;
      if (found == nullptr) {
        Fail("unknown operator \"{}\"{}", key, DidYouMean(key, OperatorNames()));
        continue;
      }
      any = true;
      if (v.is_array()) {
        if (v.empty()) Fail("{}: an empty list matches nothing", key);
        for (const json& item : v) AddString(found->op, item, ci, path, out);
      } else {
        AddString(found->op, v, ci, path, out);
      }
    }
    if (!any) Fail("no operator (equals, contains, starts_with, ends_with, glob, regex)");
  }

  void AddString(Operator op, const json& value, bool ci, bool path, Condition* out) {
    if (!value.is_string())
      return Fail("{}: expected a string, got {}", OperatorName(op), Dump(value));
    Pattern p;
    p.op = op;
    p.case_insensitive = ci;
    p.text = value.get<std::string>();
    if (p.text.empty() && op != Operator::kEquals)
      return Fail("{}: an empty pattern matches every value", OperatorName(op));
    std::string error;
    if (op == Operator::kRegex && !ValidRegex(p.text, ci, &error))
      return Fail("bad regex \"{}\": {}", p.text, error);
    if (op == Operator::kGlob && !ValidRegex(GlobToRegex(p.text, path), ci, &error))
      return Fail("bad glob \"{}\": {}", p.text, error);
    out->patterns.push_back(std::move(p));
  }

  // A number, "N", "LO-HI", or {"equals": ...} / {"range": [LO, HI]}.
  void Integer(const json& value, Condition* out) {
    const bool port = field_ == Field::kLocalPort || field_ == Field::kRemotePort;
    const int64_t max = port ? 65535 : kMaxId;
    const char* what = port ? "a port 0..65535 or a range like \"8000-8100\""
                            : "an id 0..4294967294 or a range like \"1000-1999\"";
    Pattern p;
    p.op = Operator::kRange;
    if (value.is_object()) {
      bool any = false;
      for (const auto& [key, v] : value.items()) {
        const std::string canonical = CanonicalKey(key);
        if (IsOneOf(canonical, {"equals", "is", "eq"})) {
          Value(field_, v, false, out);
        } else if (IsOneOf(canonical, {"range", "between"}) && v.is_array() && v.size() == 2 &&
                   v[0].is_number_integer() && v[1].is_number_integer()) {
          Push(v[0].get<int64_t>(), v[1].get<int64_t>(), max, what, Dump(value), out);
        } else {
          Fail("expected {{\"equals\": N}} or {{\"range\": [LO, HI]}}, got \"{}\": {}", key,
               Dump(v));
        }
        any = true;
      }
      if (!any) Fail("an empty object matches nothing");
      return;
    }
    if (value.is_number_integer()) {
      const int64_t n = value.get<int64_t>();
      return Push(n, n, max, what, Dump(value), out);
    }
    if (value.is_string()) {
      const std::string text = value.get<std::string>();
      if (field_ == Field::kAuid && CanonicalKey(text) == "unset") {
        Pattern unset;
        unset.op = Operator::kRange;
        unset.lo = unset.hi = -1;
        out->patterns.push_back(unset);
        return;
      }
      int64_t lo = 0, hi = 0;
      const char* begin = text.data();
      const char* end = text.data() + text.size();
      auto [after_lo, ec1] = std::from_chars(begin, end, lo);
      if (ec1 == std::errc() && after_lo == end) return Push(lo, lo, max, what, text, out);
      if (ec1 == std::errc() && after_lo < end && *after_lo == '-') {
        auto [after_hi, ec2] = std::from_chars(after_lo + 1, end, hi);
        if (ec2 == std::errc() && after_hi == end) return Push(lo, hi, max, what, text, out);
      }
    }
    Fail("expected {}, got {}", what, Dump(value));
  }

  void Push(int64_t lo, int64_t hi, int64_t max, const char* what, const std::string& shown,
            Condition* out) {
    if (lo < 0 || hi > max || lo > hi) return Fail("{} is not {}", shown, what);
    Pattern p;
    p.op = Operator::kRange;
    p.lo = lo;
    p.hi = hi;
    out->patterns.push_back(p);
  }

  void Address(const json& value, Condition* out) {
    if (value.is_object()) {
      for (const auto& [key, v] : value.items()) {
        if (IsOneOf(CanonicalKey(key), {"equals", "cidr", "in", "is"})) {
          Value(field_, v, false, out);
        } else {
          Fail("unknown operator \"{}\" (addresses take an address or CIDR, or {{\"cidr\": ...}})",
               key);
        }
      }
      return;
    }
    if (!value.is_string())
      return Fail("expected an address or CIDR block like \"10.0.0.0/8\", got {}", Dump(value));
    bool host_bits = false;
    std::optional<Cidr> cidr = ParseCidr(value.get<std::string>(), &host_bits);
    if (!cidr) return Fail("bad address or CIDR \"{}\"", value.get<std::string>());
    if (host_bits)
      reader_->Warn(where_, "{}: \"{}\" has bits set past its prefix; they are ignored",
                    FieldInfoOf(field_).name, value.get<std::string>());
    Pattern p;
    p.op = Operator::kCidr;
    p.cidr = *cidr;
    out->patterns.push_back(p);
  }

  void Enum(const json& value, Condition* out) {
    if (value.is_object()) {
      for (const auto& [key, v] : value.items()) {
        if (IsOneOf(CanonicalKey(key), {"equals", "is", "eq"})) {
          Value(field_, v, false, out);
        } else {
          Fail(
              "unknown operator \"{}\" (this field takes one of its names, or {{\"equals\": ...}})",
              key);
        }
      }
      return;
    }
    const std::vector<std::string_view> allowed = EnumValues(field_, type_);
    std::vector<std::string> names(allowed.begin(), allowed.end());
    std::string all;
    for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
    if (!value.is_string()) return Fail("expected one of {}, got {}", all, Dump(value));
    const std::string wanted = CanonicalKey(value.get<std::string>());
    for (std::string_view name : allowed) {
      if (CanonicalKey(name) == wanted) {
        Pattern p;
        p.op = Operator::kEquals;
        p.text = std::string(name);
        out->patterns.push_back(std::move(p));
        return;
      }
    }
    Fail("\"{}\" is not one of {}{}", value.get<std::string>(), all,
         DidYouMean(value.get<std::string>(), names));
  }

  void Bool(const json& value, Condition* out) {
    Pattern p;
    if (value.is_boolean()) {
      p.flag = value.get<bool>();
    } else if (value.is_string() && IsOneOf(CanonicalKey(value.get<std::string>()), {"true"})) {
      p.flag = true;
    } else if (value.is_string() && IsOneOf(CanonicalKey(value.get<std::string>()), {"false"})) {
      p.flag = false;
    } else {
      return Fail("expected true or false, got {}", Dump(value));
    }
    out->patterns.push_back(p);
  }

  FileReader* reader_;
  EventType type_;
  std::string where_;
  Field field_ = Field::kExe;
};

const std::initializer_list<const char*> kNameKeys = {"name"};
const std::initializer_list<const char*> kChildrenKeys = {"children", "descendants",
                                                          "include_children"};

void ParseRule(FileReader* reader, EventType type, const std::string& path, bool exclude,
               const json& value, std::vector<Rule>* out) {
  Rule rule;
  rule.exclude = exclude;
  if (!value.is_object()) {
    reader->Error(path, "a rule is an object of fields, like {{\"exe\": \"/usr/bin/x\"}}; got {}",
                  Dump(value));
    return;
  }
  const size_t errors_before = reader->error_count();
  bool case_default = false;
  for (const auto& [key, v] : value.items()) {
    const std::string canonical = CanonicalKey(key);
    if (IsOneOf(canonical, kNameKeys)) {
      if (!v.is_string())
        reader->Error(path, "name must be a string, got {}", Dump(v));
      else
        rule.name = v.get<std::string>();
    } else if (IsOneOf(canonical, kCaseKeys)) {
      if (!v.is_boolean())
        reader->Error(path, "{} must be true or false", key);
      else
        case_default = v.get<bool>();
    }
  }
  const std::string where = rule.name.empty() ? path : fmt::format("{} (\"{}\")", path, rule.name);
  rule.where = fmt::format("{}: {}", reader->file(), where);
  for (const auto& [key, v] : value.items()) {
    const std::string canonical = CanonicalKey(key);
    if (IsOneOf(canonical, kNameKeys) || IsOneOf(canonical, kCaseKeys) ||
        IsOneOf(canonical, kCommentKeys))
      continue;
    if (IsOneOf(canonical, kChildrenKeys)) {
      if (type != EventType::kProcess || !exclude) {
        reader->Error(where, "\"{}\" applies to process exclude rules only", key);
      } else if (!v.is_boolean()) {
        reader->Error(where, "{} must be true or false, got {}", key, Dump(v));
      } else {
        rule.children = v.get<bool>();
      }
      continue;
    }
    std::optional<Field> field = FieldByName(key);
    if (!field) {
      std::vector<std::string> known = FieldNamesOf(type);
      known.insert(known.end(), {"name", "comment", "case_insensitive"});
      if (type == EventType::kProcess && exclude) known.emplace_back("children");
      std::vector<std::string> everything;
      for (const FieldInfo& info : AllFields()) everything.emplace_back(info.name);
      std::string hint = DidYouMean(key, known);
      if (hint.empty()) hint = DidYouMean(key, everything);
      reader->Error(where, "unknown field \"{}\"{}", key, hint);
      continue;
    }
    if (!FieldApplies(*field, type)) {
      std::string names;
      for (const std::string& n : FieldNamesOf(type)) names += (names.empty() ? "" : ", ") + n;
      const char* hint = *field == Field::kCmdline
                             ? "; to drop what a command line does, exclude the process"
                             : "";
      reader->Error(where, "field \"{}\" does not apply to {} events (their fields: {}){}", key,
                    EventTypeName(type), names, hint);
      continue;
    }
    Condition condition;
    condition.field = *field;
    RuleParser(reader, type, where).Value(*field, v, case_default, &condition);
    if (!condition.patterns.empty()) rule.conditions.push_back(std::move(condition));
  }
  if (rule.conditions.empty()) {
    if (reader->error_count() == errors_before)
      reader->Error(where,
                    "a rule needs at least one field (an empty rule would match every event)");
    return;
  }
  out->push_back(std::move(rule));
}

void ParseSection(FileReader* reader, EventType type, const std::string& key, const json& value,
                  TypeRules* out) {
  if (!value.is_object()) {
    reader->Error(key, "expected an object with \"include\" and/or \"exclude\" lists, got {}",
                  Dump(value));
    return;
  }
  out->present = true;
  for (const auto& [list_key, list] : value.items()) {
    const std::string canonical = CanonicalKey(list_key);
    bool exclude = false;
    if (IsOneOf(canonical, {"exclude", "excludes", "exclusions"})) {
      exclude = true;
    } else if (IsOneOf(canonical, {"include", "includes", "only"})) {
      exclude = false;
    } else if (IsOneOf(canonical, kCommentKeys)) {
      continue;
    } else {
      reader->Warn(fmt::format("{}.{}", key, list_key), "unknown key; ignored{}",
                   DidYouMean(list_key, {"include", "exclude"}));
      continue;
    }
    const json items = list.is_object() ? json::array({list}) : list;
    if (!items.is_array()) {
      reader->Error(fmt::format("{}.{}", key, list_key), "expected a list of rules, got {}",
                    Dump(list));
      continue;
    }
    for (size_t i = 0; i < items.size(); ++i)
      ParseRule(reader, type, fmt::format("{}.{}[{}]", key, list_key, i), exclude, items[i],
                exclude ? &out->exclude : &out->include);
  }
}

void ParseFilterFile(const FilterText& text, std::vector<std::string>* errors,
                     std::vector<std::string>* warnings, ProductFilters* out) {
  out->file = text.name;
  out->product = ProductOfFile(text.name);
  Result<json> parsed = ParseJsonText(text.name, text.text);
  if (!parsed.ok()) {
    errors->push_back(parsed.status().message());
    return;
  }
  FileReader reader(text.name, errors, warnings);
  if (!parsed->is_object()) {
    errors->push_back(
        fmt::format("{}:1:1: the top level must be a JSON object with one section per event type "
                    "(process, file, network, security, module, image, dns)",
                    text.name));
    return;
  }
  for (const auto& [key, value] : parsed->items()) {
    const std::string canonical = CanonicalKey(key);
    if (IsOneOf(canonical, {"version"}) || IsOneOf(canonical, kCommentKeys)) continue;
    if (canonical == "registry") {
      reader.Warn(key, "Windows registry events do not exist on Linux; not applicable, ignored");
      continue;
    }
    std::optional<EventType> type = EventTypeByName(key);
    if (!type) {
      reader.Warn(key, "unknown section; ignored{}", DidYouMean(key, EventTypeNames()));
      continue;
    }
    ParseSection(&reader, *type, key, value, &out->types[static_cast<size_t>(*type)]);
  }
}
}  // namespace

std::string ProductOfFile(std::string_view path) {
  const std::string base = fs::path(path).filename().string();
  const std::string_view suffix = kMainFilterSuffix;
  if (base.size() > suffix.size() &&
      base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
    return base.substr(0, base.size() - suffix.size());
  return "";
}

Result<ParsedFilters> ParseFilterTexts(std::vector<FilterText> filter_files,
                                       std::optional<FilterText> watchlist,
                                       bool only_watch_file_root) {
  std::stable_sort(filter_files.begin(), filter_files.end(),
                   [](const FilterText& a, const FilterText& b) {
                     return ProductOfFile(a.name) < ProductOfFile(b.name);
                   });
  ParsedFilters parsed;
  parsed.config.only_watch_file_root = only_watch_file_root;
  std::vector<std::string> errors;
  if (filter_files.size() > kMaxProducts)
    errors.push_back(fmt::format("{} filter files: at most {} are supported", filter_files.size(),
                                 kMaxProducts));
  for (const FilterText& text : filter_files) {
    ProductFilters product;
    ParseFilterFile(text, &errors, &parsed.warnings, &product);
    parsed.config.products.push_back(std::move(product));
  }
  if (watchlist) {
    Watchlist list;
    parse::ParseWatchlist(*watchlist, &errors, &parsed.warnings, &list);
    parsed.config.watchlist = std::move(list);
  } else if (!only_watch_file_root) {
    parsed.warnings.push_back(
        "onlyWatchFileRoot is false but there is no watchlist: file events are recorded as "
        "the filters say");
  }
  if (!errors.empty()) {
    std::string message = errors.size() == 1
                              ? std::string()
                              : fmt::format("{} errors in the filters:\n", errors.size());
    for (size_t i = 0; i < errors.size(); ++i) message += (i ? "\n" : "") + errors[i];
    return Status::Error(std::move(message));
  }
  return parsed;
}

}  // namespace recorder::filter
