// Sigma rules by product: Windows rules on events imported from Sysmon
// (their fields read from the record's EventData by Sysmon's names, the
// registry categories split by EventType), macOS rules on BSM execs, and
// no rule on another product's event.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"

namespace recorder::signals {
namespace {

std::string Rule(const std::string& id, const std::string& product, const std::string& category,
                 const std::string& selection) {
  return "title: " + id + "\nid: " + id + "\nlevel: high\nlogsource:\n  product: " + product +
         "\n  category: " + category + "\ndetection:\n  selection:\n" + selection +
         "  condition: selection\n";
}

std::shared_ptr<const SignalMatcher> Compile(const std::vector<std::string>& texts) {
  std::vector<SigmaRule> rules;
  for (const std::string& text : texts) {
    std::optional<SigmaRule> rule;
    RuleReport report = LoadSigmaText("r.yml", text, {}, &rule);
    EXPECT_EQ(report.outcome, Outcome::kLoaded) << report.reason << "\n" << text;
    if (rule) rules.push_back(std::move(*rule));
  }
  auto compiled = SignalMatcher::Compile(std::move(rules));
  EXPECT_TRUE(compiled.ok());
  return compiled.ok() ? *compiled : nullptr;
}

std::vector<std::string> Ids(const SignalMatcher& matcher, const TypedEvent& event) {
  MatchState state;
  std::vector<SignalMatch> matches;
  matcher.Match(event, nullptr, &state, &matches);
  std::vector<std::string> ids;
  for (const SignalMatch& m : matches) ids.push_back(matcher.rules()[m.rule].id);
  return ids;
}

TypedEvent SysmonEvent(uint32_t id, EventBody body, const std::string& data_json) {
  TypedEvent event;
  event.platform = Platform::kWindows;
  event.body = std::move(body);
  auto windows = std::make_shared<WindowsRecord>();
  windows->event_id = id;
  windows->data_json = data_json;
  event.windows = std::move(windows);
  return event;
}

TypedEvent Exec(Platform platform, const std::string& exe) {
  TypedEvent event;
  event.platform = platform;
  event.subject.exe = exe;
  ProcessStart start;
  start.argv = {exe, "-x"};
  start.argc = 2;
  event.body = std::move(start);
  return event;
}

TEST(SignalsPlatform, RegistryCategoriesFollowSysmonsEventType) {
  const std::string key = "    TargetObject|contains: '\\Run\\'\n";
  auto matcher = Compile({Rule("add", "windows", "registry_add", key),
                          Rule("delete", "windows", "registry_delete", key),
                          Rule("set", "windows", "registry_set", key),
                          Rule("any", "windows", "registry_event", key)});
  ASSERT_NE(matcher, nullptr);
  auto registry = [](uint32_t id, const std::string& type) {
    return SysmonEvent(
        id, RegistryEvent{type, "HKLM\\Software\\Run\\x", "", ""},
        R"({"EventType":")" + type + R"(","TargetObject":"HKLM\\Software\\Run\\x"})");
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids(*matcher, registry(12, "CreateKey")), (V{"add", "any"}));
  EXPECT_EQ(Ids(*matcher, registry(12, "DeleteValue")), (V{"delete", "any"}));
  EXPECT_EQ(Ids(*matcher, registry(13, "SetValue")), (V{"set", "any"}));
  EXPECT_EQ(Ids(*matcher, registry(14, "RenameKey")), (V{"any"}));
}

TEST(SignalsPlatform, WindowsFieldsAreTheRecordsOwnAndKeywordsSeeThemAll) {
  auto matcher =
      Compile({Rule("dns", "windows", "dns_query", "    QueryName|endswith: .evil.example\n"),
               Rule("image", "windows", "image_load",
                    "    ImageLoaded|endswith: '\\dbghelp.dll'\n    Signed: 'false'\n"),
               "title: kw\nid: kw\nlogsource:\n  product: windows\n  category: dns_query\n"
               "detection:\n  keywords:\n    - '*203.0.113.7*'\n  condition: keywords\n"});
  ASSERT_NE(matcher, nullptr);
  TypedEvent dns = SysmonEvent(
      22, DnsEvent{}, R"({"QueryName":"a.evil.example","QueryResults":"::ffff:203.0.113.7;"})");
  EXPECT_EQ(Ids(*matcher, dns), (std::vector<std::string>{"dns", "kw"}));
  TypedEvent image = SysmonEvent(7, ImageLoadEvent{},
                                 R"({"ImageLoaded":"C:\\Windows\\dbghelp.dll","Signed":"false"})");
  EXPECT_EQ(Ids(*matcher, image), (std::vector<std::string>{"image"}));
  TypedEvent signed_image = SysmonEvent(
      7, ImageLoadEvent{}, R"({"ImageLoaded":"C:\\Windows\\dbghelp.dll","Signed":"true"})");
  EXPECT_TRUE(Ids(*matcher, signed_image).empty());
}

TEST(SignalsPlatform, ARuleMatchesOnlyItsOwnProductsEvents) {
  const std::string image = "    Image|endswith: tool\n";
  auto matcher = Compile({Rule("linux", "linux", "process_creation", image),
                          Rule("windows", "windows", "process_creation", image),
                          Rule("macos", "macos", "process_creation", image)});
  ASSERT_NE(matcher, nullptr);
  using V = std::vector<std::string>;
  EXPECT_EQ(Ids(*matcher, Exec(Platform::kLinux, "/usr/bin/tool")), (V{"linux"}));
  EXPECT_EQ(Ids(*matcher, Exec(Platform::kMacos, "/usr/local/bin/tool")), (V{"macos"}));
  ProcessStart start;
  start.argv = {"tool"};
  start.argc = 1;
  TypedEvent windows = SysmonEvent(1, std::move(start), R"({"Image":"C:\\bin\\tool"})");
  windows.subject.exe = "C:\\bin\\tool";
  EXPECT_EQ(Ids(*matcher, windows), (V{"windows"}));
}

}  // namespace
}  // namespace recorder::signals
