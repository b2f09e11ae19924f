#include "filter/filter_describe.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "filter/filter_fields.h"
#include "normalize/event_codes.h"
#include "normalize/typed_event.h"

namespace recorder::filter {
namespace {

using nlohmann::json;

std::string PatternText(const Pattern& p) {
  switch (p.op) {
    case Operator::kRange:
      if (p.lo < 0) return "unset";
      return p.lo == p.hi ? fmt::format("{}", p.lo) : fmt::format("{}-{}", p.lo, p.hi);
    case Operator::kCidr: {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(p.cidr.v6 ? AF_INET6 : AF_INET, p.cidr.bytes.data(), text, sizeof(text));
      return fmt::format("{}/{}", text, p.cidr.prefix);
    }
    default:
      return p.text;
  }
}

std::vector<std::string> OperationNames(OperationMask mask) {
  std::vector<std::string> names;
  if (mask == kAllOperations) return {"all"};
  for (const EnumCode<FileOperation>& code : kFileOperationCodes)
    if (mask & (1u << static_cast<int>(code.value))) names.emplace_back(code.text);
  return names;
}

}  // namespace

std::string DescribeCondition(const Condition& c) {
  const FieldInfo& info = FieldInfoOf(c.field);
  std::string out;
  for (const Pattern& p : c.patterns) {
    if (!out.empty()) out += " or ";
    if (info.kind == FieldKind::kBool) {
      out += fmt::format("{} is {}", info.name, p.flag ? "true" : "false");
    } else if (p.op == Operator::kRange || p.op == Operator::kCidr) {
      out += fmt::format("{} in {}", info.name, PatternText(p));
    } else {
      out += fmt::format("{} {} {}{}", info.name, OperatorName(p.op), json(p.text).dump(),
                         p.case_insensitive ? " (any case)" : "");
    }
  }
  return c.patterns.size() > 1 ? "(" + out + ")" : out;
}

std::string DescribeRule(const Rule& rule) {
  std::string out;
  for (const Condition& c : rule.conditions)
    out += (out.empty() ? "" : " and ") + DescribeCondition(c);
  return out;
}

json FiltersToJson(const FilterConfig& config) {
  json out = json::object();
  json products = json::array();
  for (const ProductFilters& product : config.products) {
    json p = {{"file", product.file}, {"product", product.product}};
    json types = json::object();
    for (size_t t = 0; t < kEventTypeCount; ++t) {
      const TypeRules& rules = product.types[t];
      if (!rules.present) continue;
      json section = {{"include", json::array()}, {"exclude", json::array()}};
      for (const auto* list : {&rules.include, &rules.exclude}) {
        for (const Rule& rule : *list) {
          json r = {{"where", rule.where}, {"match", DescribeRule(rule)}};
          if (!rule.name.empty()) r["name"] = rule.name;
          if (rule.exclude && t == static_cast<size_t>(EventType::kProcess))
            r["children"] = rule.children;
          section[rule.exclude ? "exclude" : "include"].push_back(std::move(r));
        }
      }
      types[std::string(EventTypeName(static_cast<EventType>(t)))] = std::move(section);
    }
    p["types"] = std::move(types);
    products.push_back(std::move(p));
  }
  out["products"] = std::move(products);
  out["only_watch_file_root"] = config.only_watch_file_root;
  if (config.watchlist) {
    json entries = json::array();
    for (const WatchEntry& e : config.watchlist->entries)
      entries.push_back(
          {{"path", e.path}, {"exclude", e.exclude}, {"operations", OperationNames(e.operations)}});
    out["watchlist"] = {{"file", config.watchlist->file},
                        {"paths", std::move(entries)},
                        {"exclude", config.watchlist->exclude}};
  } else {
    out["watchlist"] = nullptr;
  }
  return out;
}

std::string FiltersToText(const FilterConfig& config) {
  std::string out;
  for (const ProductFilters& product : config.products) {
    out += fmt::format("{} (product {}):\n", product.file,
                       product.product.empty() ? "\"\", the main file" : product.product);
    bool any = false;
    for (size_t t = 0; t < kEventTypeCount; ++t) {
      const TypeRules& rules = product.types[t];
      if (!rules.present) continue;
      any = true;
      const std::string_view type = EventTypeName(static_cast<EventType>(t));
      if (rules.include.empty() && rules.exclude.empty())
        out += fmt::format("  {}: no rules (this product wants every {} event)\n", type, type);
      for (const auto* list : {&rules.include, &rules.exclude}) {
        for (const Rule& rule : *list) {
          const bool process_rule = rule.exclude && t == static_cast<size_t>(EventType::kProcess);
          out += fmt::format("  {} {}: {}{}{}\n", type, rule.exclude ? "exclude" : "include",
                             DescribeRule(rule), rule.name.empty() ? "" : "  [" + rule.name + "]",
                             process_rule && !rule.children ? "  (not its children)" : "");
        }
      }
    }
    if (!any) out += "  (no sections)\n";
  }
  if (config.watchlist) {
    out += fmt::format("{} (watchlist{}):\n", config.watchlist->file,
                       config.only_watch_file_root ? "" : "; onlyWatchFileRoot false: only these");
    for (const WatchEntry& e : config.watchlist->entries) {
      std::string ops;
      for (const std::string& n : OperationNames(e.operations)) ops += (ops.empty() ? "" : ",") + n;
      out += fmt::format("  watch {} [{}]", e.path, ops);
      for (const std::string& x : e.exclude) out += " except " + x;
      out += "\n";
    }
    for (const std::string& x : config.watchlist->exclude) out += fmt::format("  except {}\n", x);
  }
  return out;
}

}  // namespace recorder::filter
