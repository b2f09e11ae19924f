// Filter files and watchlist.json: the accepted spellings, and errors that
// name the file, the rule and the reason (or FILE:LINE:COLUMN for JSON).
#include "filter/filter_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "filter/filter_fields.h"
#include "filter_support.h"

namespace recorder::filter {
namespace {

using ::testing::HasSubstr;

ParsedFilters MustParse(const std::string& text, std::optional<FilterText> watchlist = {}) {
  Result<ParsedFilters> parsed = ParseFilterTexts({{"filters.json", text}}, std::move(watchlist));
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? std::move(parsed).value() : ParsedFilters{};
}

std::string ParseError(const std::string& text, const std::string& name = "filters.json") {
  return CompileError({{name, text}});
}

// A rule's condition on `field` (JSON objects are read in key order, not
// in the order written).
const Condition& On(const Rule& rule, Field field) {
  for (const Condition& c : rule.conditions)
    if (c.field == field) return c;
  ADD_FAILURE() << "no condition on " << FieldInfoOf(field).name;
  static const Condition kNone;
  return kNone;
}

bool HasWarning(const ParsedFilters& parsed, const std::string& a, const std::string& b = "") {
  for (const std::string& w : parsed.warnings)
    if (w.find(a) != std::string::npos && w.find(b) != std::string::npos) return true;
  return false;
}

TEST(FilterParserTest, ReadsRulesWithEveryValueForm) {
  ParsedFilters parsed = MustParse(R"({
    "process": {"exclude": [
      {"name": "agent", "exe": "/opt/agent/bin/agent"},
      {"cmdline": {"contains": ["--poll", "--watch"], "case_insensitive": true}, "children": false}
    ]},
    "files": {"include": [{"path": {"starts_with": "/etc/"}}],
              "exclude": [{"path": {"glob": "/etc/**/*.swp"}, "operation": ["write", "create"]}]},
    "network": {"exclude": [{"remote_address": ["127.0.0.0/8", "::1"], "remote_port": "1-1023"},
                            {"local_port": {"range": [8000, 8100]}, "protocol": "TCP"}]}
  })");
  const FilterConfig& c = parsed.config;
  ASSERT_EQ(c.products.size(), 1u);
  const auto& types = c.products[0].types;
  const TypeRules& process = types[static_cast<size_t>(EventType::kProcess)];
  ASSERT_EQ(process.exclude.size(), 2u);
  EXPECT_EQ(process.exclude[0].name, "agent");
  EXPECT_EQ(process.exclude[0].where, "filters.json: process.exclude[0] (\"agent\")");
  EXPECT_TRUE(process.exclude[0].children);
  EXPECT_FALSE(process.exclude[1].children);
  const Condition& cmdline = On(process.exclude[1], Field::kCmdline);
  ASSERT_EQ(cmdline.patterns.size(), 2u);
  EXPECT_EQ(cmdline.patterns[1].op, Operator::kContains);
  EXPECT_TRUE(cmdline.patterns[1].case_insensitive);

  const TypeRules& file = types[static_cast<size_t>(EventType::kFile)];
  EXPECT_TRUE(file.present);
  ASSERT_EQ(file.include.size(), 1u);
  ASSERT_EQ(file.exclude[0].conditions.size(), 2u);
  ASSERT_EQ(On(file.exclude[0], Field::kOperation).patterns.size(), 2u);
  EXPECT_EQ(On(file.exclude[0], Field::kOperation).patterns[1].text, "create");

  const TypeRules& net = types[static_cast<size_t>(EventType::kNetwork)];
  const Condition& ports = On(net.exclude[0], Field::kRemotePort);
  ASSERT_EQ(ports.patterns.size(), 1u);
  EXPECT_EQ(ports.patterns[0].lo, 1);
  EXPECT_EQ(ports.patterns[0].hi, 1023);
  EXPECT_EQ(On(net.exclude[1], Field::kProtocol).patterns.at(0).text, "tcp");  // lower-cased
  EXPECT_FALSE(types[static_cast<size_t>(EventType::kSecurity)].present);
  EXPECT_TRUE(parsed.warnings.empty());
}

TEST(FilterParserTest, AcceptsOtherSpellingsOfKeys) {
  ParsedFilters parsed = MustParse(R"({
    "Processes": {"Exclusions": [{"ProcessPath": {"StartsWith": "/opt/"}, "IgnoreCase": true}]},
    "Network": {"Excludes": [{"remoteIp": "10.0.0.0/8", "Proto": "udp"}]}
  })");
  const auto& types = parsed.config.products[0].types;
  const Rule& rule = types[static_cast<size_t>(EventType::kProcess)].exclude.at(0);
  ASSERT_EQ(On(rule, Field::kExe).patterns.size(), 1u);
  EXPECT_EQ(On(rule, Field::kExe).patterns[0].op, Operator::kStartsWith);
  EXPECT_TRUE(On(rule, Field::kExe).patterns[0].case_insensitive);
  EXPECT_EQ(types[static_cast<size_t>(EventType::kNetwork)].exclude.at(0).conditions.size(), 2u);
}

TEST(FilterParserTest, BrokenJsonNamesFileLineAndColumn) {
  EXPECT_THAT(
      ParseError("{\n  \"process\": {\n    \"exclude\": [,]\n  }\n}", "/etc/r/filters.json"),
      HasSubstr("/etc/r/filters.json:3:17: invalid JSON"));
  EXPECT_THAT(ParseError("[1, 2]"), HasSubstr("filters.json:1:1: the top level must be"));
  EXPECT_THAT(CompileError({{"filters.json", "{}"}}, FilterText{"watchlist.json", "{\"paths\": ["}),
              HasSubstr("watchlist.json:1:"));
}

TEST(FilterParserTest, BadFieldsNameFileRuleAndReason) {
  EXPECT_EQ(ParseError(R"({"process": {"exclude": [{"exee": "/bin/x"}]}})"),
            "filters.json: process.exclude[0]: unknown field \"exee\" (did you mean \"exe\"?)");
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"name": "ports", "remote_port": 80}]}})"),
              HasSubstr("filters.json: file.exclude[0] (\"ports\"): field \"remote_port\" does "
                        "not apply to file events (their fields: exe, parent_exe"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"cmdline": "x"}]}})"),
              HasSubstr("exclude the process"));
  EXPECT_THAT(
      ParseError(R"({"file": {"include": [{"operation": "wrte"}]}})"),
      HasSubstr(
          "file.include[0]: operation: \"wrte\" is not one of create, write, "
          "rename, delete, chmod, chown, mkdir, rmdir, link, truncate, set_times (did you mean "
          "\"write\"?)"));
  EXPECT_THAT(
      ParseError(R"({"file": {"exclude": [{"path": {"startswith": "/a", "containz": "b"}}]}})"),
      HasSubstr("path: unknown operator \"containz\" (did you mean \"contains\"?)"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"path": 12}]}})"),
              HasSubstr("path: expected a string, a list, or an operator object"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"path": {"contains": ""}}]}})"),
              HasSubstr("path: contains: an empty pattern matches every value"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{}]}})"),
              HasSubstr("file.exclude[0]: a rule needs at least one field"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"name": "only a name"}]}})"),
              HasSubstr("a rule needs at least one field"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"path": "/x", "children": false}]}})"),
              HasSubstr("\"children\" applies to process exclude rules only"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": {"path": 1}}})"), HasSubstr("file.exclude[0]"));
  EXPECT_THAT(ParseError(R"({"file": {"exclude": "nope"}})"),
              HasSubstr("file.exclude: expected a list of rules"));
  EXPECT_THAT(ParseError(R"({"file": []})"),
              HasSubstr("file: expected an object with \"include\" and/or \"exclude\""));
}

TEST(FilterParserTest, BadRegexGlobCidrAndPortsAreErrors) {
  EXPECT_THAT(ParseError(R"({"process": {"exclude": [{"cmdline": {"regex": "a(b"}}]}})"),
              HasSubstr("filters.json: process.exclude[0]: cmdline: bad regex \"a(b\": missing )"));
  EXPECT_THAT(ParseError(R"({"process": {"exclude": [{"cmdline": {"regex": "(?<x>a)\\1"}}]}})"),
              HasSubstr("bad regex"));  // backreferences: not in RE2's linear-time language
  EXPECT_THAT(ParseError(R"({"file": {"exclude": [{"path": {"glob": "/a/[z-a]"}}]}})"),
              HasSubstr("path: bad glob \"/a/[z-a]\""));
  EXPECT_THAT(ParseError(R"({"network": {"exclude": [{"remote_address": "10.0.0.0/33"}]}})"),
              HasSubstr("network.exclude[0]: remote_address: bad address or CIDR \"10.0.0.0/33\""));
  EXPECT_THAT(ParseError(R"({"network": {"exclude": [{"remote_address": "10.0.0.300"}]}})"),
              HasSubstr("bad address or CIDR"));
  EXPECT_THAT(ParseError(R"({"network": {"exclude": [{"remote_address": "fe80::/129"}]}})"),
              HasSubstr("bad address or CIDR"));
  EXPECT_THAT(ParseError(R"({"network": {"exclude": [{"remote_port": 70000}]}})"),
              HasSubstr("remote_port: 70000 is not a port 0..65535"));
  EXPECT_THAT(ParseError(R"({"network": {"exclude": [{"remote_port": "100-10"}]}})"),
              HasSubstr("100-10 is not a port"));
  EXPECT_THAT(ParseError(R"({"network": {"exclude": [{"remote_port": "http"}]}})"),
              HasSubstr("expected a port 0..65535 or a range"));
  EXPECT_THAT(ParseError(R"({"process": {"exclude": [{"uid": -5}]}})"),
              HasSubstr("uid: -5 is not an id"));
}

TEST(FilterParserTest, EveryErrorIsReportedAtOnce) {
  const std::string error = ParseError(R"({"process": {"exclude": [{"exee": "x"}, {"uidd": 1}]},
                                           "file": {"exclude": [{"path": {"regex": "("}}]}})");
  EXPECT_THAT(error, HasSubstr("3 errors in the filters:\n"));
  EXPECT_THAT(error, HasSubstr("process.exclude[0]"));
  EXPECT_THAT(error,
              HasSubstr("process.exclude[1]: unknown field \"uidd\" (did you mean \"uid\"?)"));
  EXPECT_THAT(error, HasSubstr("file.exclude[0]"));
}

TEST(FilterParserTest, SectionsThatSelectNothingWarn) {
  ParsedFilters parsed = MustParse(R"({
    "proccess": {"exclude": [{"exe": "/x"}]},
    "registry": {"exclude": [{"key": "HKLM\\Software"}]},
    "dns": {"exclude": [{"exe": "/usr/sbin/unbound"}]},
    "file": {"exlude": [{"path": "/x"}]},
    "version": 1, "comment": "ignored"
  })");
  EXPECT_TRUE(HasWarning(parsed, "filters.json: proccess: unknown section; ignored",
                         "(did you mean \"process\"?)"));
  EXPECT_TRUE(HasWarning(parsed, "registry", "not applicable"));
  EXPECT_TRUE(HasWarning(parsed, "file.exlude: unknown key; ignored", "did you mean \"exclude\"?"));
  // DNS events are recorded (MonitorDNS): their rules select something.
  EXPECT_EQ(parsed.warnings.size(), 3u);
}

TEST(FilterParserTest, HostBitsInACidrAreClearedWithAWarning) {
  ParsedFilters parsed =
      MustParse(R"({"network": {"exclude": [{"remote_address": "10.1.2.3/8"}]}})");
  EXPECT_TRUE(HasWarning(parsed, "remote_address", "bits set past its prefix"));
  const auto& rules = parsed.config.products.at(0).types[static_cast<size_t>(EventType::kNetwork)];
  ASSERT_EQ(rules.exclude.size(), 1u);
  const Pattern& p = rules.exclude[0].conditions.at(0).patterns.at(0);
  EXPECT_EQ(p.cidr.bytes[0], 10);
  EXPECT_EQ(p.cidr.bytes[1], 0);
  EXPECT_EQ(p.cidr.prefix, 8);
}

TEST(FilterParserTest, ProductComesFromTheFileName) {
  EXPECT_EQ(ProductOfFile("/opt/t/filters.json"), "");
  EXPECT_EQ(ProductOfFile("/opt/t/im_filters.json"), "im");
  EXPECT_EQ(ProductOfFile("map_filters.json"), "map");
  EXPECT_EQ(ProductOfFile("_filters.json"), "");
  Result<ParsedFilters> parsed = ParseFilterTexts(
      {{"/d/map_filters.json", "{}"}, {"/d/filters.json", "{}"}, {"/d/im_filters.json", "{}"}},
      std::nullopt);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->config.products.size(), 3u);
  EXPECT_EQ(parsed->config.products[0].file, "/d/filters.json");
  EXPECT_EQ(parsed->config.products[1].product, "im");
  EXPECT_EQ(parsed->config.products[2].product, "map");
}

TEST(FilterParserTest, WatchlistForms) {
  ParsedFilters parsed = MustParse("{}", FilterText{"watchlist.json", R"({
    "paths": ["/etc/", {"path": "/usr/local/bin", "operations": ["write", "Delete"],
                        "exclude": ["/usr/local/bin/*.tmp"]}],
    "exclusions": ["/etc/mtab"],
    "operations": ["create", "write", "rename", "delete"]
  })"});
  ASSERT_TRUE(parsed.config.watchlist.has_value());
  const Watchlist& w = *parsed.config.watchlist;
  ASSERT_EQ(w.entries.size(), 2u);
  EXPECT_EQ(w.entries[0].path, "/etc");  // trailing '/' dropped
  EXPECT_EQ(w.entries[0].operations, OperationBit("create") | OperationBit("write") |
                                         OperationBit("rename") | OperationBit("delete"));
  EXPECT_EQ(w.entries[1].operations, OperationBit("write") | OperationBit("delete"));
  EXPECT_EQ(w.entries[1].exclude, std::vector<std::string>{"/usr/local/bin/*.tmp"});
  EXPECT_EQ(w.exclude, std::vector<std::string>{"/etc/mtab"});

  // A bare list is a list of paths.
  ParsedFilters bare = MustParse("{}", FilterText{"watchlist.json", R"(["/srv", "/opt/app"])"});
  EXPECT_EQ(bare.config.watchlist->entries.size(), 2u);
}

TEST(FilterParserTest, WatchlistErrors) {
  auto error = [](const std::string& text) {
    return CompileError({}, FilterText{"/c/watchlist.json", text});
  };
  EXPECT_THAT(error(R"({"paths": ["etc"]})"),
              HasSubstr("/c/watchlist.json: paths[0]: expected an absolute path, got \"etc\""));
  EXPECT_THAT(error(R"({"paths": ["/etc/*"]})"), HasSubstr("not a glob"));
  EXPECT_THAT(error(R"({"paths": [{"path": "/etc", "operations": ["wirte"]}]})"),
              HasSubstr("paths[0].operations: unknown file operation \"wirte\" (did you mean "
                        "\"write\"?)"));
  EXPECT_THAT(error(R"({"paths": [{"exclude": ["/x"]}]})"), HasSubstr("needs a \"path\""));
  EXPECT_THAT(error(R"({"paths": ["/etc"], "exclude": ["/etc/[z-a]"]})"), HasSubstr("bad glob"));
  Result<ParsedFilters> typo = ParseFilterTexts({}, FilterText{"w.json", R"({"pathz": ["/etc"]})"});
  ASSERT_TRUE(typo.ok());
  EXPECT_TRUE(HasWarning(*typo, "pathz: unknown key", "did you mean \"paths\"?"));
  EXPECT_TRUE(HasWarning(*typo, "the watchlist names no path"));
}

TEST(FilterParserTest, OnlyWatchFileRootFalseWithoutAWatchlistWarns) {
  Result<ParsedFilters> parsed = ParseFilterTexts({}, std::nullopt, /*only_watch_file_root=*/false);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(HasWarning(*parsed, "onlyWatchFileRoot is false but there is no watchlist"));
}

TEST(FilterParserTest, GlobsBecomeAnchoredRegexes) {
  EXPECT_EQ(GlobToRegex("/home/*/.cache/**", true), "^/home/[^/]*/\\.cache/.*$");
  EXPECT_EQ(GlobToRegex("/a/**/b", true), "^/a/(?:.*/)?b$");
  EXPECT_EQ(GlobToRegex("*.log", false), "^.*\\.log$");
  EXPECT_EQ(GlobToRegex("/x/?[!a-c]", true), "^/x/[^/][^/a-c]$");
  EXPECT_EQ(GlobToRegex("a[b", false), "^a\\[b$");
  EXPECT_EQ(GlobToRegex("\\*", false), "^\\*$");
}

TEST(FilterParserTest, CidrParsing) {
  bool host_bits = true;
  std::optional<Cidr> v4 = ParseCidr("192.168.0.0/16", &host_bits);
  ASSERT_TRUE(v4.has_value());
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(v4->prefix, 16);
  EXPECT_FALSE(host_bits);
  std::optional<Cidr> v6 = ParseCidr("2001:db8::1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(v6->prefix, 128);
  EXPECT_FALSE(ParseCidr("10.0.0.0/").has_value());
  EXPECT_FALSE(ParseCidr("10.0.0.0/x").has_value());
  EXPECT_FALSE(ParseCidr("host.example").has_value());
}

}  // namespace
}  // namespace recorder::filter
