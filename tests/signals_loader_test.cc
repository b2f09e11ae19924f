// Loading Sigma rules: what loads, what is skipped and why, what is
// malformed; a directory of rule files with one report per file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "signals/sigma_condition.h"
#include "signals/sigma_fields.h"
#include "signals/sigma_loader.h"

namespace recorder::signals {
namespace {

namespace fs = std::filesystem;

RuleReport Report(const std::string& text, LoadOptions options = {}) {
  std::optional<SigmaRule> rule;
  RuleReport report = LoadSigmaText("/rules/x.yml", text, options, &rule);
  EXPECT_EQ(rule.has_value(), report.outcome == Outcome::kLoaded);
  return report;
}

const std::string kGood = R"(title: Suspicious curl
id: 1111-2222
status: test
author: Jane Doe, John Roe
level: critical
logsource:
  product: linux
  category: process_creation
detection:
  selection:
    Image|endswith: /curl
  condition: selection
)";

std::string Swap(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

std::string With(const std::string& from, const std::string& to) { return Swap(kGood, from, to); }

TEST(SignalsLoader, LoadsTheRuleWithItsMetadata) {
  std::optional<SigmaRule> rule;
  RuleReport report = LoadSigmaText("/rules/curl.yml", kGood, {}, &rule);
  ASSERT_EQ(report.outcome, Outcome::kLoaded) << report.reason;
  EXPECT_EQ(rule->id, "1111-2222");
  EXPECT_EQ(rule->title, "Suspicious curl");
  EXPECT_EQ(rule->author, "Jane Doe, John Roe");
  EXPECT_EQ(rule->level, Level::kCritical);
  EXPECT_EQ(rule->source, LogSource::kProcessCreation);
  ASSERT_EQ(rule->selections.size(), 1u);
  EXPECT_EQ(rule->selections[0].alternatives[0][0].values[0].op, ValueOp::kEndsWith);
}

TEST(SignalsLoader, IdDefaultsToTheFileNameAndLevelToMedium) {
  std::optional<SigmaRule> rule;
  std::string text = With("id: 1111-2222\n", "");
  text = text.replace(text.find("level: critical\n"), 16, "");
  ASSERT_EQ(LoadSigmaText("/rules/curl_rule.yml", text, {}, &rule).outcome, Outcome::kLoaded);
  EXPECT_EQ(rule->id, "curl_rule");
  EXPECT_EQ(rule->level, Level::kMedium);
}

TEST(SignalsLoader, SkipsWhatItDoesNotSupportSayingWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {With("product: linux", "product: solaris"), "product \"solaris\""},
      {With("product: linux\n  category: process_creation",
            "product: windows\n  service: security"),
       "windows service \"security\""},
      {With("product: linux\n  category: process_creation",
            "product: windows\n  category: create_remote_thread"),
       "windows category \"create_remote_thread\""},
      {With("product: linux\n  category: process_creation",
            "product: macos\n  category: file_event"),
       "macos category \"file_event\""},
      {With("category: process_creation", "category: registry_set"), "category \"registry_set\""},
      {With("  category: process_creation", "  service: sshd"), "service \"sshd\""},
      {With("Image|endswith", "Image|gt"), "unsupported modifier |gt"},
      {With("Image|endswith", "Hashes|contains"), "unknown field \"Hashes\""},
      {With("condition: selection", "condition: selection | count() > 5"), "aggregation"},
      {With("condition: selection", "condition: selection\n  timeframe: 5m"), "timeframe"},
      {With("condition: selection", "condition: near selection"), "`near`"},
      {kGood + "---\n" + kGood, "rule collections"},
      {kGood + "...\n---\n" + kGood, "rule collections"},
      {"%YAML 1.2\n---\n" + kGood + "--- # a second document\n" + kGood, "rule collections"},
      {With("condition: selection", "condition: 2 of selection"), "not supported"},
  };
  for (const auto& [text, reason] : cases) {
    RuleReport report = Report(text);
    EXPECT_NE(report.outcome, Outcome::kLoaded) << text;
    EXPECT_NE(report.reason.find(reason), std::string::npos) << report.reason;
  }
  EXPECT_EQ(Report(With("product: linux", "product: solaris")).outcome, Outcome::kSkipped);
  EXPECT_EQ(Report(With("Image|endswith", "Image|gt")).outcome, Outcome::kSkipped);
}

TEST(SignalsLoader, MalformedRulesAreErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"title: [unclosed\n", "YAML: line"},
      {With("title: Suspicious curl\n", ""), "no title"},
      {With("  condition: selection\n", ""), "no detection.condition"},
      {With("condition: selection", "condition: selection and missing"), "\"missing\""},
      {With("condition: selection", "condition: (selection"), "'('"},
      {With("condition: selection", "condition: 1 of nothing_*"), "names no selection"},
      {With("Image|endswith: /curl", "Image|re: '(unclosed'"), "bad regex"},
      {With("Image|endswith: /curl", "Image|cidr: 10.0.0.0/99"), "bad CIDR"},
      {With("level: critical", "level: apocalyptic"), "unknown level"},
      {"just a string\n", "not a YAML map"},
      {"", "no YAML document"},
      {"# only a comment\n---\n", "no YAML document"},
      // yaml-cpp 0.7's LoadAll never returned on these (found by
      // sigma_fuzz when the loader used it); libyaml refuses their tags.
      {"!a,b", "YAML: line 1, column 3"},
      {"!t,v a", "YAML: line 1, column 3"},
      {kGood + "---\nnot: [closed\n", "YAML: line 15"},
      // After `...` the next document starts with `---` (libyaml reads
      // YAML 1.1 streams; 1.2 would allow a bare document).
      {kGood + "...\n" + kGood, "YAML: line 14, column 1: did not find expected <document start>"},
  };
  for (const auto& [text, reason] : cases) {
    RuleReport report = Report(text);
    EXPECT_EQ(report.outcome, Outcome::kMalformed) << text << "\n" << report.reason;
    EXPECT_NE(report.reason.find(reason), std::string::npos) << report.reason;
  }
}

TEST(SignalsLoader, DisableSignalsTrieSkipsSubstringRules) {
  LoadOptions no_trie;
  no_trie.substring_matching = false;
  RuleReport report = Report(kGood, no_trie);
  EXPECT_EQ(report.outcome, Outcome::kSkipped);
  EXPECT_NE(report.reason.find("DisableSignalsTrie"), std::string::npos);
  // A whole-value rule needs no automaton.
  EXPECT_EQ(Report(With("Image|endswith: /curl", "Image: /usr/bin/curl"), no_trie).outcome,
            Outcome::kLoaded);
}

TEST(SignalsLoader, ConditionPrecedenceTree) {
  auto node = ParseCondition("a or b and not c", {"a", "b", "c"});
  ASSERT_TRUE(node.ok()) << node.status().message();
  ASSERT_EQ(node->kind, ConditionNode::Kind::kOr);
  ASSERT_EQ(node->children.size(), 2u);
  EXPECT_EQ(node->children[1].kind, ConditionNode::Kind::kAnd);
  EXPECT_EQ(node->children[1].children[1].kind, ConditionNode::Kind::kNot);
  // `them` leaves out selections whose name starts with '_'.
  auto them = ParseCondition("all of them", {"a", "_helper", "b"});
  ASSERT_TRUE(them.ok());
  EXPECT_EQ(them->selections, (std::vector<uint32_t>{0, 2}));
  EXPECT_FALSE(ParseCondition(std::string(200, '(') + "a" + std::string(200, ')'), {"a"}).ok());
}

TEST(SignalsLoader, DirectoryReportsEveryFile) {
  const fs::path dir = fs::path(::testing::TempDir()) / "signals_loader_dir";
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  auto write = [&](const fs::path& path, const std::string& text) { std::ofstream(path) << text; };
  write(dir / "a_good.yml", kGood);
  write(dir / "sub" / "b_dup.yaml", kGood);  // the same id again
  write(dir / "c_solaris.yml", With("product: linux", "product: solaris"));
  write(dir / "d_broken.yml", "title: [\n");
  write(dir / "notes.txt", "not a rule");
  Result<LoadedRules> loaded = LoadSigmaDirectory(dir.string());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  ASSERT_EQ(loaded->reports.size(), 4u);
  EXPECT_EQ(loaded->rules.size(), 1u);
  EXPECT_EQ(loaded->count(Outcome::kLoaded), 1u);
  EXPECT_EQ(loaded->count(Outcome::kSkipped), 2u);
  EXPECT_EQ(loaded->count(Outcome::kMalformed), 1u);
  EXPECT_NE(loaded->reports[3].reason.find("another rule with this id"), std::string::npos);
  EXPECT_FALSE(LoadSigmaDirectory((dir / "missing").string()).ok());
  fs::remove_all(dir);
}

// docs/signals.md documents every field of the mapping table.
TEST(SignalsLoader, EveryMappedFieldIsDocumented) {
  std::ifstream in(std::string(RECORDER_TEST_DATA) + "/../../docs/signals.md");
  std::stringstream doc;
  doc << in.rdbuf();
  ASSERT_FALSE(doc.str().empty());
  for (const FieldInfo& info : FieldTable())
    EXPECT_NE(doc.str().find("`" + std::string(info.name) + "`"), std::string::npos) << info.name;
  for (const WindowsFieldInfo& info : WindowsFieldTable())
    EXPECT_NE(doc.str().find("`" + std::string(info.name) + "`"), std::string::npos) << info.name;
}

// A Windows rule names Sysmon's fields, and only those its category's
// events carry; a macOS rule the Linux process_creation fields.
TEST(SignalsLoader, WindowsAndMacosRulesLoadWithTheirProductsFields) {
  const std::string windows_registry = With("product: linux\n  category: process_creation",
                                            "product: windows\n  category: registry_set");
  std::optional<SigmaRule> rule;
  RuleReport report =
      LoadSigmaText("/rules/r.yml",
                    windows_registry.substr(0, windows_registry.find("    Image|endswith")) +
                        "    TargetObject|contains: \\CurrentVersion\\Run\n    Details: x\n"
                        "  condition: selection\n",
                    {}, &rule);
  ASSERT_EQ(report.outcome, Outcome::kLoaded) << report.reason;
  EXPECT_EQ(rule->source, LogSource::kWindowsRegistrySet);
  EXPECT_EQ(rule->selections[0].alternatives[0][0].field.field, SignalField::kSysmonField);
  // CommandLine is no field of a registry event.
  report = Report(Swap(With("product: linux\n  category: process_creation",
                            "product: windows\n  category: registry_set"),
                       "Image|", "CommandLine|"));
  EXPECT_EQ(report.outcome, Outcome::kSkipped);
  EXPECT_NE(report.reason.find("unknown field \"CommandLine\" for windows/registry_set"),
            std::string::npos)
      << report.reason;
  // Hashes: a Sysmon field of process creation, no Linux one.
  report = Report(Swap(With("product: linux", "product: windows"), "Image|", "Hashes|"));
  EXPECT_EQ(report.outcome, Outcome::kLoaded) << report.reason;
  ASSERT_EQ(
      LoadSigmaText("/rules/m.yml", With("product: linux", "product: macos"), {}, &rule).outcome,
      Outcome::kLoaded);
  EXPECT_EQ(rule->source, LogSource::kMacosProcessCreation);
  EXPECT_EQ(rule->selections[0].alternatives[0][0].field.field, SignalField::kImage);
}

}  // namespace
}  // namespace recorder::signals
