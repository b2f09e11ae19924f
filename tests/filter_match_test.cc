// The compiled matchers: every operator (with and without case), every
// event type and field, rules with several conditions, include and
// exclude, and the substring automaton against a brute-force search.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "filter/aho_corasick.h"
#include "filter/compiled_filters.h"
#include "filter_support.h"
#include "normalize/event_codes.h"

namespace recorder::filter {
namespace {

// Whether the event is recorded under the given filters.json.
bool Kept(const std::string& filters_json, const TypedEvent& event) {
  auto filters = MustCompile(filters_json);
  if (filters == nullptr) return true;
  MatchScratch scratch;
  return filters->Keep(event, nullptr, &scratch);
}

std::string ExcludeFile(const std::string& condition) {
  return R"({"file": {"exclude": [{"path": )" + condition + "}]}}";
}

TEST(FilterMatchTest, NoFiltersKeepEverything) {
  auto filters = MustCompile(std::vector<FilterText>{});
  ASSERT_NE(filters, nullptr);
  EXPECT_TRUE(filters->empty());
  MatchScratch scratch;
  EXPECT_TRUE(filters->Keep(FileEv(FileOperation::kWrite, "/x"), nullptr, &scratch));
}

TEST(FilterMatchTest, StringOperators) {
  const TypedEvent e = FileEv(FileOperation::kWrite, "/var/log/App/Server.log");
  struct Case {
    std::string condition;
    bool matches;
  };
  const Case cases[] = {
      {R"("/var/log/App/Server.log")", true},
      {R"("/var/log/app/server.log")", false},
      {R"({"equals": "/var/log/app/server.log", "case_insensitive": true})", true},
      {R"({"equals": "/var/log/App/Server.lo"})", false},
      {R"({"contains": "App/Ser"})", true},
      {R"({"contains": "app/ser"})", false},
      {R"({"contains": "APP/SER", "ignore_case": true})", true},
      {R"({"contains": "Apps"})", false},
      {R"({"starts_with": "/var/log/"})", true},
      {R"({"starts_with": "/VAR/", "case_insensitive": true})", true},
      {R"({"starts_with": "log/"})", false},  // occurs, but not at the start
      {R"({"ends_with": ".log"})", true},
      {R"({"ends_with": ".LOG", "case_insensitive": true})", true},
      {R"({"ends_with": "/var"})", false},  // occurs, but not at the end
      {R"({"glob": "/var/log/*/*.log"})", true},
      {R"({"glob": "/var/log/*.log"})", false},  // * stops at '/' in paths
      {R"({"glob": "/var/**.log"})", true},
      {R"({"glob": "/var/log/app/*", "case_insensitive": true})", true},
      {R"({"glob": "/var/log/App/Server.lo?"})", true},
      {R"({"glob": "/var/log/App/[A-Z]erver.log"})", true},
      {R"({"glob": "/var/log/App/[!S]erver.log"})", false},
      {R"({"regex": "^/var/log/[A-Z][a-z]+/"})", true},
      {R"({"regex": "server\\.log$"})", false},
      {R"({"regex": "server\\.log$", "case_insensitive": true})", true},
      {R"(["/nope", {"ends_with": ".log"}])", true},  // any of a list
      {R"(["/nope", {"ends_with": ".txt"}])", false},
  };
  for (const Case& c : cases)
    EXPECT_EQ(Kept(ExcludeFile(c.condition), e), !c.matches) << c.condition;
}

TEST(FilterMatchTest, RegexesWithALiteralStartAreSkippedOnlyWhenNoneCanMatch) {
  // Every pattern anchored with a literal start: the set runs only for
  // values that begin with one of them, and must then still find all.
  const std::string anchored = R"({"file": {"exclude": [
      {"path": {"regex": "^/opt/ab*c/[0-9]+$"}},
      {"path": {"glob": "/HOME/*/.cache/**", "case_insensitive": true}},
      {"path": {"glob": "/srv/?x"}}]}})";
  EXPECT_FALSE(Kept(anchored, FileEv(FileOperation::kWrite, "/opt/ac/12")));  // b* may be empty
  EXPECT_FALSE(Kept(anchored, FileEv(FileOperation::kWrite, "/opt/abbc/7")));
  EXPECT_FALSE(Kept(anchored, FileEv(FileOperation::kWrite, "/home/u/.cache/x")));
  EXPECT_FALSE(Kept(anchored, FileEv(FileOperation::kWrite, "/srv/ax")));
  EXPECT_TRUE(Kept(anchored, FileEv(FileOperation::kWrite, "/opt/ab/12")));
  EXPECT_TRUE(Kept(anchored, FileEv(FileOperation::kWrite, "/var/x")));
  // One unanchored regex: every value goes through the set.
  const std::string mixed = R"({"file": {"exclude": [
      {"path": {"regex": "^/opt/x"}}, {"path": {"regex": "\\.bak$"}},
      {"path": {"regex": "^/(a|b)/"}}]}})";
  EXPECT_FALSE(Kept(mixed, FileEv(FileOperation::kWrite, "/var/y.bak")));
  EXPECT_FALSE(Kept(mixed, FileEv(FileOperation::kWrite, "/opt/xy")));
  EXPECT_FALSE(Kept(mixed, FileEv(FileOperation::kWrite, "/b/y")));
  EXPECT_TRUE(Kept(mixed, FileEv(FileOperation::kWrite, "/var/y")));
}

TEST(FilterMatchTest, RegexIsLinearOnLongInput) {
  // A pattern that is exponential for a backtracking engine.
  const std::string path = "/" + std::string(100000, 'a') + "!";
  EXPECT_TRUE(Kept(ExcludeFile(R"({"regex": "^/(a+)+$"})"), FileEv(FileOperation::kWrite, path)));
  EXPECT_FALSE(Kept(ExcludeFile(R"({"regex": "^/(a+)+!$"})"), FileEv(FileOperation::kWrite, path)));
}

TEST(FilterMatchTest, NonUtf8BytesMatchAsBytes) {
  const TypedEvent e = FileEv(FileOperation::kWrite, std::string("/tmp/\xff\xfe/x"));
  EXPECT_FALSE(Kept(ExcludeFile(R"({"glob": "/tmp/??/x"})"), e));
  EXPECT_FALSE(Kept(ExcludeFile(R"({"regex": "^/tmp/../x$"})"), e));
}

TEST(FilterMatchTest, ProcessFields) {
  TypedEvent e = Exec({"/usr/bin/python3", "/opt/poll.py", "--every", "1s"}, "/usr/bin/python3.11",
                      4242, 1, 1000);
  e.subject.uid = 998;
  e.subject.auid = kUnsetId;
  e.enrichment.user = "nagios";
  auto excluded = [&](const std::string& rule) {
    return !Kept(R"({"process": {"exclude": [)" + rule + "]}}", e);
  };
  EXPECT_TRUE(excluded(R"({"exe": "/usr/bin/python3.11"})"));
  EXPECT_TRUE(excluded(R"({"cmdline": {"contains": "poll.py --every"}})"));
  EXPECT_TRUE(excluded(R"({"cmdline": {"regex": "^/usr/bin/python3 /opt/\\w+\\.py"}})"));
  EXPECT_FALSE(excluded(R"({"cmdline": {"contains": "poll.py  --every"}})"));
  EXPECT_TRUE(excluded(R"({"uid": 998})"));
  EXPECT_TRUE(excluded(R"({"uid": "900-999"})"));
  EXPECT_FALSE(excluded(R"({"uid": [0, 1000]})"));
  EXPECT_TRUE(excluded(R"({"auid": "unset"})"));
  EXPECT_FALSE(excluded(R"({"auid": 1000})"));
  EXPECT_TRUE(excluded(R"({"user": "nagios"})"));
  EXPECT_TRUE(excluded(R"({"operation": "start"})"));
  EXPECT_FALSE(excluded(R"({"operation": "end"})"));
  EXPECT_TRUE(excluded(R"({"syscall": "execve", "success": true})"));
  EXPECT_FALSE(excluded(R"({"success": false})"));
  // Several conditions: all must match.
  EXPECT_TRUE(excluded(R"({"exe": {"ends_with": "/python3.11"}, "uid": 998})"));
  EXPECT_FALSE(excluded(R"({"exe": {"ends_with": "/python3.11"}, "uid": 0})"));
  // The same field twice (two spellings) is two conditions.
  EXPECT_FALSE(excluded(R"({"exe": "/usr/bin/python3.11", "process_path": "/bin/sh"})"));

  ProcessEnd end;
  end.exit_code = 0;
  EXPECT_FALSE(Kept(R"({"process": {"exclude": [{"operation": "end"}]}})", Event(end)));
}

TEST(FilterMatchTest, FileFields) {
  const TypedEvent rename =
      FileEv(FileOperation::kRename, "/srv/a.tmp", "/usr/bin/mv", "/srv/a.json");
  auto excluded = [&](const std::string& rule) {
    return !Kept(R"({"file": {"exclude": [)" + rule + "]}}", rename);
  };
  EXPECT_TRUE(excluded(R"({"new_path": {"ends_with": ".json"}})"));
  EXPECT_TRUE(excluded(R"({"operation": ["rename", "delete"]})"));
  EXPECT_FALSE(excluded(R"({"operation": "write"})"));
  EXPECT_TRUE(excluded(R"({"exe": "/usr/bin/mv", "path": {"glob": "/srv/*.tmp"}})"));
  EXPECT_FALSE(excluded(R"({"exe": "/usr/bin/cp", "path": {"glob": "/srv/*.tmp"}})"));
  EXPECT_TRUE(excluded(R"({"syscall": "openat"})"));
  // A write has no new path: a condition on it never matches.
  EXPECT_TRUE(Kept(R"({"file": {"exclude": [{"new_path": {"glob": "**"}}]}})",
                   FileEv(FileOperation::kWrite, "/x")));
}

TEST(FilterMatchTest, NetworkFields) {
  const TypedEvent out4 = Net(NetworkDirection::kOutbound, "tcp", "127.0.0.1", 8080);
  const TypedEvent out6 = Net(NetworkDirection::kOutbound, "tcp", "2001:db8::7", 443, "::1", 5000);
  const TypedEvent mapped = Net(NetworkDirection::kInbound, "tcp", "::ffff:10.2.3.4", 51000);
  const TypedEvent udp = Net(NetworkDirection::kOutbound, "udp", "8.8.8.8", 53);
  auto excluded = [&](const std::string& rule, const TypedEvent& e) {
    return !Kept(R"({"network": {"exclude": [)" + rule + "]}}", e);
  };
  EXPECT_TRUE(excluded(R"({"remote_address": "127.0.0.0/8"})", out4));
  EXPECT_FALSE(excluded(R"({"remote_address": "127.0.0.0/8"})", out6));
  EXPECT_TRUE(excluded(R"({"remote_address": "2001:db8::/32"})", out6));
  EXPECT_FALSE(excluded(R"({"remote_address": "2001:db9::/32"})", out6));
  EXPECT_TRUE(excluded(R"({"remote_address": "2001:db8::7"})", out6));
  EXPECT_TRUE(excluded(R"({"local_address": "::1"})", out6));
  EXPECT_TRUE(excluded(R"({"remote_address": "10.0.0.0/8"})", mapped));  // v4-mapped is v4
  EXPECT_TRUE(excluded(R"({"remote_address": ["192.168.0.0/16", "0.0.0.0/0"]})", udp));
  EXPECT_TRUE(excluded(R"({"remote_port": 8080})", out4));
  EXPECT_TRUE(excluded(R"({"remote_port": "8000-8100"})", out4));
  EXPECT_FALSE(excluded(R"({"remote_port": "8081-8100"})", out4));
  EXPECT_TRUE(excluded(R"({"local_port": {"range": [40000, 40000]}})", out4));
  EXPECT_TRUE(excluded(R"({"protocol": "udp", "remote_port": 53})", udp));
  EXPECT_FALSE(excluded(R"({"protocol": "udp", "remote_port": 53})", out4));
  EXPECT_TRUE(excluded(R"({"direction": "inbound"})", mapped));
  EXPECT_FALSE(excluded(R"({"direction": "listen"})", mapped));
  EXPECT_TRUE(excluded(R"({"family": "ipv6"})", out6));
  // Overlapping ranges each report their rule.
  EXPECT_TRUE(excluded(
      R"({"remote_port": "1-9000", "protocol": "udp"}, {"remote_port": "8000-8080"})", out4));
}

TEST(FilterMatchTest, SecurityModuleAndImageFields) {
  SecurityEvent s;
  s.kind = SecurityKind::kLogin;
  s.record_type = SecurityRecordType::kUserLogin;
  s.user = "backup";
  s.target_user = "root";
  s.result = SecurityResult::kFailed;
  s.terminal = "ssh";
  s.hostname = "jump.example";
  s.address = "192.0.2.10";
  const TypedEvent login = Event(s, "/usr/sbin/sshd");
  auto excluded = [&](const std::string& section, const std::string& rule, const TypedEvent& e) {
    return !Kept("{\"" + section + R"(": {"exclude": [)" + rule + "]}}", e);
  };
  EXPECT_TRUE(excluded("security", R"({"user": "backup"})", login));  // the acting user
  EXPECT_TRUE(excluded("security", R"({"operation": "login", "result": "failed"})", login));
  EXPECT_FALSE(excluded("security", R"({"result": "success"})", login));
  EXPECT_TRUE(excluded("security", R"({"target_user": "root", "terminal": "ssh"})", login));
  EXPECT_TRUE(excluded("security", R"({"record_type": {"starts_with": "USER_"}})", login));
  EXPECT_TRUE(excluded("security", R"({"hostname": {"ends_with": ".example"}})", login));
  EXPECT_TRUE(excluded("security", R"({"remote_address": "192.0.2.0/24"})", login));
  EXPECT_TRUE(excluded("security", R"({"exe": "/usr/sbin/sshd"})", login));

  ModuleEvent m;
  m.operation = ModuleOperation::kUnload;
  m.module = "usb_storage";
  const TypedEvent unload = Event(m, "/usr/bin/kmod");
  EXPECT_TRUE(
      excluded("module", R"({"module": {"starts_with": "usb"}, "operation": "unload"})", unload));
  EXPECT_FALSE(excluded("module", R"({"operation": "load"})", unload));

  ImageLoadEvent image;
  image.path = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
  const TypedEvent load = Event(image, "/usr/bin/curl");
  EXPECT_TRUE(excluded("image", R"({"path": {"glob": "/usr/lib/**/libssl.so*"}})", load));
  EXPECT_TRUE(excluded("image", R"({"exe": "/usr/bin/curl"})", load));
  EXPECT_FALSE(excluded("image", R"({"path": {"glob": "/usr/lib/*/libcrypto*"}})", load));
}

TEST(FilterMatchTest, TypesAreIndependent) {
  // A file exclusion leaves network events alone, and the other way round.
  const std::string filters = R"({"file": {"exclude": [{"exe": "/usr/bin/app"}]}})";
  EXPECT_FALSE(Kept(filters, FileEv(FileOperation::kWrite, "/x")));
  EXPECT_TRUE(Kept(filters, Net(NetworkDirection::kOutbound, "tcp", "1.1.1.1", 443)));
  EXPECT_TRUE(Kept(filters, Exec({"app"}, "/usr/bin/app", 10, 1, 5)));
}

TEST(FilterMatchTest, IncludeRulesKeepOnlyWhatTheyMatchExcludesWin) {
  const std::string filters = R"({"file": {
      "include": [{"path": {"starts_with": "/etc/"}}, {"path": {"starts_with": "/home/"}}],
      "exclude": [{"path": {"ends_with": ".swp"}}]}})";
  EXPECT_TRUE(Kept(filters, FileEv(FileOperation::kWrite, "/etc/passwd")));
  EXPECT_TRUE(Kept(filters, FileEv(FileOperation::kWrite, "/home/u/notes")));
  EXPECT_FALSE(Kept(filters, FileEv(FileOperation::kWrite, "/var/tmp/x")));
  EXPECT_FALSE(Kept(filters, FileEv(FileOperation::kWrite, "/etc/.passwd.swp")));
  // An empty section: this product wants every event of the type.
  EXPECT_TRUE(Kept(R"({"file": {}})", FileEv(FileOperation::kWrite, "/x")));
}

TEST(FilterMatchTest, ManyRulesOnOneFieldShareOneAutomaton) {
  std::string rules;
  for (int i = 0; i < 500; ++i)
    rules += (i ? "," : "") + std::string(R"({"path": {"contains": "/d)") + std::to_string(i) +
             R"(/"}})";
  const std::string filters = R"({"file": {"exclude": [)" + rules + "]}}";
  EXPECT_FALSE(Kept(filters, FileEv(FileOperation::kWrite, "/x/d499/y")));
  EXPECT_FALSE(Kept(filters, FileEv(FileOperation::kWrite, "/x/d0/y")));
  EXPECT_TRUE(Kept(filters, FileEv(FileOperation::kWrite, "/x/d500/y")));
}

TEST(AhoCorasickTest, FindsEveryOccurrenceLikeABruteForceSearch) {
  using Mode = AhoCorasick::Mode;
  std::mt19937 rng(7);
  const std::string alphabet = "abAB/";
  auto random_text = [&](size_t length) {
    std::string s;
    for (size_t i = 0; i < length; ++i) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  for (Mode mode : {Mode::kAnywhere, Mode::kPrefix, Mode::kSuffix}) {
    for (bool fold : {false, true}) {
      for (int round = 0; round < 50; ++round) {
        std::vector<AhoCorasick::PatternInput> patterns;
        for (uint32_t id = 0; id < 20; ++id) {
          std::string p = random_text(1 + rng() % 4);
          if (fold)
            for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          patterns.push_back({p, id});
        }
        Result<AhoCorasick> ac = AhoCorasick::Build(patterns, fold, mode);
        ASSERT_TRUE(ac.ok());
        const std::string text = random_text(mode == Mode::kAnywhere ? 200 : 1 + rng() % 6);
        std::set<std::tuple<uint32_t, size_t>> found, expected;
        ac->Scan(text, [&](uint32_t id, uint32_t length, size_t end) {
          EXPECT_EQ(length, patterns[id].text.size());
          found.insert({id, end});
        });
        std::string haystack = text;
        if (fold)
          for (char& c : haystack)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const auto& p : patterns) {
          for (size_t at = haystack.find(p.text); at != std::string::npos;
               at = haystack.find(p.text, at + 1)) {
            const size_t end = at + p.text.size();
            if ((mode == Mode::kPrefix && at != 0) || (mode == Mode::kSuffix && end != text.size()))
              continue;
            expected.insert({p.id, end});
          }
        }
        ASSERT_EQ(found, expected) << "round " << round << " fold " << fold << " mode "
                                   << static_cast<int>(mode) << " text " << text;
      }
    }
  }
}

TEST(AhoCorasickTest, RefusesAnAutomatonOverItsSizeLimit) {
  std::vector<AhoCorasick::PatternInput> patterns;
  for (uint32_t i = 0; i < 2000; ++i)
    patterns.push_back({"pattern-" + std::to_string(i * 7919), i});
  EXPECT_TRUE(AhoCorasick::Build(patterns, false).ok());
  Result<AhoCorasick> small = AhoCorasick::Build(patterns, false, AhoCorasick::Mode::kAnywhere,
                                                 /*max_bytes=*/64 * 1024);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("automaton"), std::string::npos);
}

}  // namespace
}  // namespace recorder::filter
