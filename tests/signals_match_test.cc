// Sigma rules against typed events: every modifier, wildcard, condition
// form and mapped field, on rules and events written here; the parent
// fields asked of the real process table through TableLineage.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "filter_support.h"
#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"

namespace recorder::signals {
namespace {

using filter::Exec;
using filter::FileEv;
using filter::Net;

// A rule for `source` ("process_creation", ..., or "auditd") with the
// given detection body (YAML, indented by four spaces).
std::string Rule(const std::string& source, const std::string& detection,
                 const std::string& id = "r1") {
  const std::string logsource = source == "auditd"
                                    ? "    product: linux\n    service: auditd\n"
                                    : "    product: linux\n    category: " + source + "\n";
  return "title: test rule " + id + "\nid: " + id + "\nlevel: high\nauthor: Tester\n" +
         "logsource:\n" + logsource + "detection:\n" + detection;
}

class SignalsMatch : public ::testing::Test {
 protected:
  // Loads and compiles the rules; fails the test when one does not load.
  void Load(const std::vector<std::string>& texts) {
    std::vector<SigmaRule> rules;
    for (size_t i = 0; i < texts.size(); ++i) {
      std::optional<SigmaRule> rule;
      RuleReport report = LoadSigmaText("rule" + std::to_string(i) + ".yml", texts[i], {}, &rule);
      ASSERT_EQ(report.outcome, Outcome::kLoaded) << report.reason << "\n" << texts[i];
      rules.push_back(std::move(*rule));
    }
    auto compiled = SignalMatcher::Compile(std::move(rules));
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    matcher_ = *compiled;
  }
  void Load(const std::string& text) { Load(std::vector<std::string>{text}); }

  // The ids of the rules that match.
  std::vector<std::string> Ids(const TypedEvent& event) {
    std::vector<SignalMatch> matches;
    matcher_->Match(event, &lineage_, &state_, &matches);
    std::vector<std::string> ids;
    for (const SignalMatch& m : matches) ids.push_back(matcher_->rules()[m.rule].id);
    return ids;
  }
  bool Fires(const TypedEvent& event) { return !Ids(event).empty(); }
  std::string Selection(const TypedEvent& event) {
    std::vector<SignalMatch> matches;
    matcher_->Match(event, &lineage_, &state_, &matches);
    return matches.empty() ? "(none)" : matches[0].selection;
  }

  static TypedEvent Run(const std::vector<std::string>& argv, const std::string& exe = "/bin/x",
                        int32_t pid = 500, int32_t ppid = 1) {
    return Exec(argv, exe, pid, ppid, 5000);
  }

  enrich::ProcessTable table_{[] {
    enrich::ProcessTableOptions o;
    o.proc_root = "/nonexistent";
    return o;
  }()};
  enrich::TableLineage lineage_{&table_};
  std::shared_ptr<const SignalMatcher> matcher_;
  MatchState state_;
};

TEST_F(SignalsMatch, PlainValueIsWholeAndCaseInsensitive) {
  Load(Rule("process_creation", "  sel:\n    Image: /usr/bin/CURL\n  condition: sel\n"));
  EXPECT_TRUE(Fires(Run({"curl"}, "/usr/bin/curl")));
  EXPECT_TRUE(Fires(Run({"curl"}, "/USR/BIN/Curl")));
  EXPECT_FALSE(Fires(Run({"curl"}, "/usr/bin/curl2")));
  EXPECT_FALSE(Fires(Run({"curl"}, "/x/usr/bin/curl")));
}

TEST_F(SignalsMatch, ContainsStartsWithEndsWith) {
  Load({Rule("process_creation", "  sel:\n    CommandLine|contains: '-EnC '\n  condition: sel\n",
             "contains"),
        Rule("process_creation", "  sel:\n    Image|startswith: /tmp/\n  condition: sel\n",
             "starts"),
        Rule("process_creation", "  sel:\n    Image|endswith: /nc\n  condition: sel\n", "ends")});
  EXPECT_EQ(Ids(Run({"pwsh", "-enc", "AAA"}, "/usr/bin/pwsh")),
            std::vector<std::string>{"contains"});
  EXPECT_EQ(Ids(Run({"x"}, "/TMP/evil")), std::vector<std::string>{"starts"});
  EXPECT_EQ(Ids(Run({"nc"}, "/usr/bin/nc")), std::vector<std::string>{"ends"});
  EXPECT_TRUE(Ids(Run({"nc"}, "/usr/bin/ncat")).empty());
  EXPECT_TRUE(Ids(Run({"x"}, "/var/tmp/evil")).empty());
}

TEST_F(SignalsMatch, WildcardsInsideValues) {
  Load(
      {Rule("process_creation",
            "  sel:\n    CommandLine: 'bash -i >& /dev/tcp/*'\n  condition: sel\n", "star"),
       Rule("process_creation", "  sel:\n    Image: '/usr/bin/python?'\n  condition: sel\n", "one"),
       Rule("process_creation", "  sel:\n    CommandLine: '*chmod*+s*'\n  condition: sel\n",
            "inner")});
  EXPECT_EQ(Ids(Run({"bash", "-i", ">&", "/dev/tcp/10.0.0.1/4444"})),
            std::vector<std::string>{"star"});
  EXPECT_EQ(Ids(Run({"python3"}, "/usr/bin/python3")), std::vector<std::string>{"one"});
  EXPECT_TRUE(Ids(Run({"python"}, "/usr/bin/python")).empty());  // ? is exactly one
  EXPECT_TRUE(Ids(Run({"python"}, "/usr/bin/python3.11")).empty());
  EXPECT_EQ(Ids(Run({"CHMOD", "u+s", "/tmp/x"})), std::vector<std::string>{"inner"});
  EXPECT_TRUE(Ids(Run({"chmod", "755", "/tmp/x"})).empty());
}

TEST_F(SignalsMatch, EscapedWildcardsAreLiteral) {
  Load({Rule("process_creation", "  sel:\n    CommandLine|contains: 'a\\*b'\n  condition: sel\n",
             "star"),
        Rule("process_creation", "  sel:\n    CommandLine: 'what\\?'\n  condition: sel\n", "q"),
        Rule("process_creation", "  sel:\n    CommandLine|endswith: 'c:\\\\*'\n  condition: sel\n",
             "bs")});
  EXPECT_EQ(Ids(Run({"echo", "a*b"})), std::vector<std::string>{"star"});
  EXPECT_TRUE(Ids(Run({"echo", "axxb"})).empty());
  EXPECT_EQ(Ids(Run({"what?"})), std::vector<std::string>{"q"});
  EXPECT_TRUE(Ids(Run({"whatx"})).empty());
  // `c:\\*`: a literal backslash, then a real wildcard.
  EXPECT_EQ(Ids(Run({"dir", "c:\\windows"})), std::vector<std::string>{"bs"});
}

TEST_F(SignalsMatch, ListsAreOrAndAllMakesThemAnd) {
  Load({Rule("process_creation",
             "  sel:\n    CommandLine|contains:\n      - wget\n      - curl\n  condition: sel\n",
             "any"),
        Rule("process_creation",
             "  sel:\n    CommandLine|contains|all:\n      - ' -o '\n      - http\n  condition: "
             "sel\n",
             "all")});
  EXPECT_EQ(Ids(Run({"wget", "x"})), std::vector<std::string>{"any"});
  EXPECT_EQ(Ids(Run({"CURL", "x"})), std::vector<std::string>{"any"});
  EXPECT_EQ(Ids(Run({"fetch", "-o", "y", "http://h"})), std::vector<std::string>{"all"});
  EXPECT_TRUE(Ids(Run({"fetch", "-o", "y"})).empty());  // only one of the two
}

TEST_F(SignalsMatch, MapsAreAndListOfMapsIsOr) {
  Load({Rule("process_creation",
             "  sel:\n    Image|endswith: /tar\n    CommandLine|contains: /etc/shadow\n"
             "  condition: sel\n",
             "and"),
        Rule("process_creation",
             "  sel:\n    - Image|endswith: /nmap\n    - CommandLine|contains: masscan\n"
             "  condition: sel\n",
             "or")});
  EXPECT_EQ(Ids(Run({"tar", "c", "/etc/shadow"}, "/bin/tar")), std::vector<std::string>{"and"});
  EXPECT_TRUE(Ids(Run({"tar", "c", "/etc/passwd"}, "/bin/tar")).empty());
  EXPECT_EQ(Ids(Run({"nmap"}, "/usr/bin/nmap")), std::vector<std::string>{"or"});
  EXPECT_EQ(Ids(Run({"./masscan"}, "/opt/m")), std::vector<std::string>{"or"});
}

TEST_F(SignalsMatch, RegexIsCaseSensitiveAndUnanchored) {
  Load({Rule("process_creation", "  sel:\n    CommandLine|re: 'base64 -d'\n  condition: sel\n",
             "re"),
        Rule("process_creation", "  sel:\n    CommandLine|re|i: '^SUDO '\n  condition: sel\n",
             "rei")});
  EXPECT_EQ(Ids(Run({"echo", "x|", "base64", "-d"})), std::vector<std::string>{"re"});
  EXPECT_TRUE(Ids(Run({"echo", "x|", "BASE64", "-d"})).empty());
  EXPECT_EQ(Ids(Run({"sudo", "id"})), std::vector<std::string>{"rei"});
  EXPECT_TRUE(Ids(Run({"x", "sudo", "id"})).empty());
}

TEST_F(SignalsMatch, RegexOverAThirtyThousandCharacterCommandLine) {
  Load(Rule("process_creation",
            "  sel:\n    CommandLine|re: '(a|b)*c[0-9]{3}$'\n  condition: sel\n"));
  std::string long_arg(30000, 'a');
  EXPECT_FALSE(Fires(Run({"x", long_arg})));
  EXPECT_TRUE(Fires(Run({"x", long_arg + "c123"})));
  std::string middle = std::string(15000, 'b') + "c999" + std::string(15000, 'z');
  EXPECT_FALSE(Fires(Run({"x", middle})));  // $ anchors at the end
}

TEST_F(SignalsMatch, CidrOnAddresses) {
  Load(Rule("network_connection",
            "  sel:\n    DestinationIp|cidr:\n      - 10.0.0.0/8\n      - 'fd00::/8'\n"
            "    Initiated: 'true'\n  condition: sel\n"));
  EXPECT_TRUE(Fires(Net(NetworkDirection::kOutbound, "tcp", "10.2.3.4", 443)));
  EXPECT_TRUE(Fires(Net(NetworkDirection::kOutbound, "tcp", "fd12::1", 443)));
  EXPECT_TRUE(Fires(Net(NetworkDirection::kOutbound, "tcp", "::ffff:10.9.9.9", 443)));
  EXPECT_FALSE(Fires(Net(NetworkDirection::kOutbound, "tcp", "11.2.3.4", 443)));
  // An accept: the remote end is the source, not the destination.
  EXPECT_FALSE(Fires(Net(NetworkDirection::kInbound, "tcp", "10.2.3.4", 443)));
}

TEST_F(SignalsMatch, NetworkFieldsFollowTheDirection) {
  Load({Rule("network_connection",
             "  sel:\n    DestinationPort: 4444\n    Initiated: 'true'\n    Protocol: tcp\n"
             "    SourceIp: 10.1.1.1\n  condition: sel\n",
             "out"),
        Rule("network_connection",
             "  sel:\n    DestinationPort: 22\n    Initiated: 'false'\n    SourceIp: 1.2.3.4\n"
             "    SourcePort: 5555\n  condition: sel\n",
             "in"),
        Rule("network_connection",
             "  sel:\n    DestinationHostname|endswith: .onion\n  condition: sel\n", "dns")});
  EXPECT_EQ(Ids(Net(NetworkDirection::kOutbound, "tcp", "9.9.9.9", 4444)),
            std::vector<std::string>{"out"});
  EXPECT_TRUE(Ids(Net(NetworkDirection::kOutbound, "udp", "9.9.9.9", 4444)).empty());
  EXPECT_EQ(Ids(Net(NetworkDirection::kInbound, "tcp", "1.2.3.4", 5555, "10.1.1.1", 22)),
            std::vector<std::string>{"in"});
  // A listen is no connection.
  EXPECT_TRUE(Ids(Net(NetworkDirection::kListen, "tcp", "", -1, "0.0.0.0", 22)).empty());
}

TEST_F(SignalsMatch, FileEventTargetFilename) {
  Load(Rule("file_event",
            "  sel:\n    TargetFilename|startswith: /etc/cron.d/\n    Image|endswith: /bash\n"
            "  condition: sel\n"));
  EXPECT_TRUE(Fires(FileEv(FileOperation::kCreate, "/etc/cron.d/job", "/bin/bash")));
  EXPECT_TRUE(Fires(FileEv(FileOperation::kWrite, "/etc/cron.d/job", "/bin/bash")));
  // A rename counts under its new name.
  EXPECT_TRUE(Fires(FileEv(FileOperation::kRename, "/tmp/job", "/bin/bash", "/etc/cron.d/job")));
  EXPECT_FALSE(Fires(FileEv(FileOperation::kDelete, "/etc/cron.d/job", "/bin/bash")));
  EXPECT_FALSE(Fires(FileEv(FileOperation::kCreate, "/etc/cron.d/job", "/bin/vi")));
  // A process rule is not a file rule.
  EXPECT_FALSE(Fires(Run({"bash"}, "/bin/bash")));
}

TEST_F(SignalsMatch, ProcessFieldsAndTheParentFromTheProcessTable) {
  TypedEvent parent = Exec({"sshd", "-D"}, "/usr/sbin/sshd", 300, 1, 1000);
  table_.Apply(parent);
  TypedEvent child = Exec({"sh", "-c", "id"}, "/bin/sh", 301, 300, 2000);
  child.enrichment.user = "alice";
  child.enrichment.process_start_ms = 2000;
  std::get<ProcessStart>(child.body).cwd = "/home/alice";
  table_.Apply(child);
  Load(Rule("process_creation",
            "  sel:\n    ParentImage: /usr/sbin/sshd\n    ParentCommandLine: 'sshd -D'\n"
            "    User: alice\n    LogonId: 1000\n    CurrentDirectory: /home/alice\n"
            "    ProcessId: 301\n    ParentProcessId: 300\n  condition: sel\n"));
  EXPECT_TRUE(Fires(child));
  TypedEvent other = child;
  other.enrichment.user = "bob";
  EXPECT_FALSE(Fires(other));
}

TEST_F(SignalsMatch, ConditionPrecedenceNotAndOr) {
  // not > and > or: `a or b and not c` is `a or (b and (not c))`.
  Load(Rule("process_creation",
            "  a:\n    CommandLine|contains: AAA\n  b:\n    CommandLine|contains: BBB\n"
            "  c:\n    CommandLine|contains: CCC\n  condition: a or b and not c\n"));
  EXPECT_TRUE(Fires(Run({"AAA", "CCC"})));
  EXPECT_TRUE(Fires(Run({"BBB"})));
  EXPECT_FALSE(Fires(Run({"BBB", "CCC"})));
  EXPECT_FALSE(Fires(Run({"zzz"})));
}

TEST_F(SignalsMatch, Parentheses) {
  Load(Rule("process_creation",
            "  a:\n    CommandLine|contains: AAA\n  b:\n    CommandLine|contains: BBB\n"
            "  c:\n    CommandLine|contains: CCC\n  condition: (a or b) and not c\n"));
  EXPECT_TRUE(Fires(Run({"AAA"})));
  EXPECT_FALSE(Fires(Run({"AAA", "CCC"})));
}

TEST_F(SignalsMatch, OneOfAllOfAndThem) {
  const std::string sels =
      "  sel_a:\n    CommandLine|contains: AAA\n  sel_b:\n    CommandLine|contains: BBB\n"
      "  filter_x:\n    Image: /usr/bin/ok\n  filter_y:\n    User: root\n";
  Load({Rule("process_creation", sels + "  condition: 1 of sel_* and not 1 of filter_*\n", "one"),
        Rule("process_creation", sels + "  condition: all of sel_*\n", "all"),
        Rule("process_creation", sels + "  condition: 1 of them\n", "them1"),
        Rule("process_creation",
             "  s1:\n    CommandLine|contains: AAA\n  s2:\n    Image|endswith: /x\n"
             "  condition: all of them\n",
             "themall")});
  EXPECT_EQ(Ids(Run({"AAA"})), (std::vector<std::string>{"one", "them1", "themall"}));
  EXPECT_EQ(Ids(Run({"AAA", "BBB"}, "/bin/y")), (std::vector<std::string>{"one", "all", "them1"}));
  // `not 1 of filter_*`: either filter removes it.
  EXPECT_EQ(Ids(Run({"AAA"}, "/usr/bin/ok")), (std::vector<std::string>{"them1"}));
  TypedEvent as_root = Run({"BBB"}, "/bin/y");
  as_root.enrichment.user = "root";
  EXPECT_EQ(Ids(as_root), (std::vector<std::string>{"them1"}));
}

TEST_F(SignalsMatch, SelectionNamesTheSelectionsThatHeld) {
  Load(Rule("process_creation",
            "  sel_a:\n    CommandLine|contains: AAA\n  sel_b:\n    CommandLine|contains: BBB\n"
            "  filter:\n    Image: /usr/bin/ok\n  condition: 1 of sel_* and not filter\n"));
  EXPECT_EQ(Selection(Run({"AAA"})), "sel_a");
  EXPECT_EQ(Selection(Run({"AAA", "BBB"})), "sel_a,sel_b");
}

TEST_F(SignalsMatch, KeywordsMatchAnyTextOfTheEvent) {
  Load(Rule("auditd", "  keywords:\n    - 'nc -e'\n    - '/dev/shm/'\n  condition: keywords\n"));
  EXPECT_TRUE(Fires(Run({"NC", "-e", "/bin/sh"})));
  EXPECT_TRUE(Fires(FileEv(FileOperation::kWrite, "/dev/shm/payload")));
  EXPECT_FALSE(Fires(Run({"nc", "-l"})));
}

TEST_F(SignalsMatch, AuditdRecordFields) {
  Load({Rule("auditd",
             "  sel:\n    type: EXECVE\n    a0: chmod\n    a1|contains: '+s'\n  condition: sel\n",
             "execve"),
        Rule("auditd",
             "  sel:\n    type: SYSCALL\n    SYSCALL: connect\n    exe|endswith: /nc\n"
             "  condition: sel\n",
             "syscall"),
        Rule("auditd", "  sel:\n    type: PATH\n    name: /etc/shadow\n  condition: sel\n", "path"),
        Rule("auditd", "  sel:\n    key: susp_activity\n    success: 'yes'\n  condition: sel\n",
             "key")});
  EXPECT_EQ(Ids(Run({"chmod", "u+s", "/tmp/x"}, "/bin/chmod")), std::vector<std::string>{"execve"});
  EXPECT_EQ(
      Ids(Net(NetworkDirection::kOutbound, "tcp", "1.1.1.1", 80, "10.1.1.1", 4000, "/usr/bin/nc")),
      std::vector<std::string>{"syscall"});
  EXPECT_EQ(Ids(FileEv(FileOperation::kWrite, "/etc/shadow")), std::vector<std::string>{"path"});
  TypedEvent keyed = FileEv(FileOperation::kWrite, "/tmp/a");
  keyed.header.key = "susp_activity";
  EXPECT_EQ(Ids(keyed), std::vector<std::string>{"key"});
  keyed.header.success = false;
  EXPECT_TRUE(Ids(keyed).empty());
}

// nametype as the kernel's PATH records give it: SigmaHQ's "Systemd
// Service Creation" asks for a PATH of nametype CREATE under a unit
// directory.
TEST_F(SignalsMatch, AuditdNameTypeFollowsTheFileOperation) {
  Load(Rule("auditd",
            "  path:\n    type: PATH\n    nametype: CREATE\n"
            "  dir:\n    name|startswith: /etc/systemd/system/\n  condition: path and dir\n",
            "created"));
  EXPECT_TRUE(Fires(FileEv(FileOperation::kCreate, "/etc/systemd/system/evil.service")));
  EXPECT_FALSE(Fires(FileEv(FileOperation::kWrite, "/etc/systemd/system/evil.service")));
  EXPECT_FALSE(Fires(FileEv(FileOperation::kDelete, "/etc/systemd/system/evil.service")));
  TypedEvent moved = FileEv(FileOperation::kRename, "/tmp/evil.service");
  std::get<FileEvent>(moved.body).new_path = "/etc/systemd/system/evil.service";
  EXPECT_TRUE(Fires(moved));
  Load(Rule("auditd", "  sel:\n    nametype: DELETE\n  condition: sel\n", "deleted"));
  EXPECT_TRUE(Fires(FileEv(FileOperation::kRmdir, "/tmp/d")));
  EXPECT_TRUE(Fires(moved));
  EXPECT_FALSE(Fires(FileEv(FileOperation::kMkdir, "/tmp/d")));
  EXPECT_FALSE(Fires(Run({"ls"}, "/bin/ls")));
  Load(Rule("auditd", "  sel:\n    nametype: NORMAL\n  condition: sel\n", "normal"));
  EXPECT_TRUE(Fires(Run({"ls"}, "/bin/ls")));
  EXPECT_TRUE(Fires(FileEv(FileOperation::kChmod, "/tmp/f")));
}

// The matcher skips a rule none of whose values hit only when its
// condition cannot hold without a hit; these can, and must still fire.
TEST_F(SignalsMatch, RulesThatHoldWithoutAHitAreStillEvaluated) {
  Load({Rule("process_creation", "  sel:\n    Image|endswith: /never\n  condition: not sel\n",
             "negated"),
        Rule("process_creation",
             "  sel:\n    Image|endswith: /never\n  gone:\n    CurrentDirectory|exists: false\n"
             "  condition: sel or gone\n",
             "exists"),
        Rule("process_creation", "  sel:\n    Image|endswith: /ls\n  condition: sel\n", "hit")});
  TypedEvent ls = Run({"ls"}, "/bin/ls");
  std::get<ProcessStart>(ls.body).cwd.clear();
  EXPECT_EQ(Ids(ls), (std::vector<std::string>{"negated", "exists", "hit"}));
  TypedEvent never = Run({"never"}, "/bin/never");
  std::get<ProcessStart>(never.body).cwd = "/root";
  EXPECT_EQ(Ids(never), std::vector<std::string>{"exists"});
}

TEST_F(SignalsMatch, NullAndExists) {
  // (An id of "null" would be YAML's null: no id.)
  Load(
      {Rule("process_creation", "  sel:\n    CurrentDirectory: null\n  condition: sel\n", "isnull"),
       Rule("process_creation", "  sel:\n    CurrentDirectory|exists: true\n  condition: sel\n",
            "exists")});
  TypedEvent with_cwd = Run({"x"});
  std::get<ProcessStart>(with_cwd.body).cwd = "/root";
  EXPECT_EQ(Ids(with_cwd), std::vector<std::string>{"exists"});
  EXPECT_EQ(Ids(Run({"x"})), std::vector<std::string>{"isnull"});
}

TEST_F(SignalsMatch, WindashAndBase64Offset) {
  Load({Rule("process_creation",
             "  sel:\n    CommandLine|windash|contains: ' -exec '\n  condition: sel\n", "windash"),
        Rule("process_creation",
             "  sel:\n    CommandLine|base64offset|contains: '/bin/sh'\n  condition: sel\n",
             "b64")});
  EXPECT_EQ(Ids(Run({"find", ".", "/exec", "x"})), std::vector<std::string>{"windash"});
  EXPECT_EQ(Ids(Run({"find", ".", "-exec", "x"})), std::vector<std::string>{"windash"});
  // base64 of "echo /bin/sh" at any of the three offsets.
  for (const char* encoded : {"L2Jpbi9zaA==", "IC9iaW4vc2g=", "ICAvYmluL3No"})
    EXPECT_EQ(Ids(Run({"echo", encoded})), std::vector<std::string>{"b64"}) << encoded;
}

// A value's hits are remembered per field (MatchState::value_hits):
// the same command line again gives the same matches, the same text on
// another field is that field's own, and a cache emptied when full (more
// distinct values than it holds) forgets nothing it should answer.
TEST_F(SignalsMatch, RememberedHitsOfALongValueAreItsOwnField) {
  Load({Rule("process_creation",
             "  sel:\n    CommandLine|contains: 'remembered-marker'\n  condition: sel\n", "cmd"),
        Rule("process_creation",
             "  sel:\n    Image|endswith: '/remembered-marker --long-argument-to-be-cached'\n"
             "  condition: sel\n",
             "image"),
        // A field that differs in every round: each event's inputs as a
        // whole are new, so its values are answered one by one.
        Rule("process_creation",
             "  sel:\n    CurrentDirectory: /never-this-directory\n  condition: sel\n", "cwd")});
  const std::string text = "/opt/remembered-marker --long-argument-to-be-cached";
  auto in = [](TypedEvent event, int round) {
    std::get<ProcessStart>(event.body).cwd = "/round/" + std::to_string(round);
    return event;
  };
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(
        Ids(in(Run({"/opt/remembered-marker", "--long-argument-to-be-cached"}, "/bin/long-name"),
               round)),
        std::vector<std::string>{"cmd"})
        << "round " << round;
    // The command line's text as the image: the image rule, not the
    // command line's hits.
    EXPECT_EQ(Ids(in(Run({"other", "--argument-long-enough-for-the-cache"}, text), round)),
              std::vector<std::string>{"image"})
        << "round " << round;
  }
  EXPECT_EQ(state_.outcomes.size(), 6u);
  for (int i = 0; i < 5000; ++i)
    Ids(Run({"filler-command-line-long-enough", std::to_string(i)}, "/bin/long-name"));
  EXPECT_LE(state_.value_hits.size(), 4096u);
  // Bounded in bytes too: 100 command lines of 100 KB are not all kept.
  for (int i = 0; i < 100; ++i)
    Ids(Run({std::string(100'000, static_cast<char>('a' + i % 26)), std::to_string(i)},
            "/bin/long-name"));
  size_t bytes = 0;
  for (const auto& [key, cached] : state_.value_hits) bytes += cached.text.size();
  EXPECT_EQ(bytes, state_.value_hits_bytes);
  EXPECT_LE(bytes, size_t{4} << 20);
  EXPECT_EQ(Ids(Run({"/opt/remembered-marker", "--long-argument-to-be-cached"}, "/bin/long-name")),
            std::vector<std::string>{"cmd"});
  EXPECT_TRUE(
      Ids(Run({"/opt/innocent", "--long-argument-to-be-cached"}, "/bin/long-name")).empty());
}

// The remembered hits belong to the rules that found them: after a reload
// (a new matcher, the same state), a command line seen before is scanned
// for the new rules' values, not answered with the old rules' atom
// numbers (the new rules' first atom is also number 0 here).
TEST_F(SignalsMatch, RememberedHitsDoNotOutliveAReload) {
  Load(Rule("process_creation",
            "  sel:\n    CommandLine|contains: alpha-marker\n  condition: sel\n", "alpha"));
  const std::vector<std::string> argv = {"/opt/tool", "--with-alpha-marker-and-a-long-tail"};
  EXPECT_EQ(Ids(Run(argv, "/opt/tool")), std::vector<std::string>{"alpha"});
  Load(Rule("process_creation", "  sel:\n    CommandLine|contains: beta-marker\n  condition: sel\n",
            "beta"));
  EXPECT_TRUE(Ids(Run(argv, "/opt/tool")).empty());
  EXPECT_EQ(Ids(Run({"/opt/tool", "--with-beta-marker-and-a-long-tail"}, "/opt/tool")),
            std::vector<std::string>{"beta"});
}

// Short values are remembered too, on a field with a regex (or a wildcard)
// (the RE2 set is the dearest part of a match): each answer stays its own.
TEST_F(SignalsMatch, RememberedHitsOfShortValuesOnARegexField) {
  Load({Rule("process_creation", "  sel:\n    Image|re: '/ab+c$'\n  condition: sel\n"),
        Rule("process_creation", "  sel:\n    CommandLine: never-this\n  condition: sel\n", "r2")});
  for (int round = 0; round < 3; ++round) {
    // A command line of its own each round: the image's hits are the
    // remembered ones, not the whole event's outcome.
    const std::string arg = "round" + std::to_string(round);
    EXPECT_TRUE(Fires(Run({arg}, "/bin/abbc"))) << "round " << round;
    EXPECT_FALSE(Fires(Run({arg}, "/bin/abbd"))) << "round " << round;
    EXPECT_FALSE(Fires(Run({arg}, "/bin/ABBC"))) << "round " << round;
  }
}

// An event whose inputs (every value a loaded rule reads) were seen
// before is answered from its remembered outcome: the same rules, the
// same selections; one value that a rule reads changed, and it is matched
// afresh.
TEST_F(SignalsMatch, RepeatedEventsHaveTheSameOutcome) {
  Load({Rule("process_creation",
             "  tool:\n    Image|endswith: /curl\n  remote:\n    CommandLine|contains: http\n"
             "  condition: tool and remote\n",
             "fetch"),
        Rule("auditd", "  sel:\n    type: EXECVE\n    a1: -O\n  condition: sel\n", "dash-o")});
  for (int round = 0; round < 3; ++round) {
    std::vector<SignalMatch> matches;
    matcher_->Match(Run({"curl", "-O", "http://x/"}, "/usr/bin/curl"), &lineage_, &state_,
                    &matches);
    ASSERT_EQ(matches.size(), 2u) << "round " << round;
    EXPECT_EQ(matcher_->rules()[matches[0].rule].id, "fetch");
    EXPECT_EQ(matches[0].selection, "tool,remote");
    EXPECT_EQ(matcher_->rules()[matches[1].rule].id, "dash-o");
    EXPECT_EQ(Ids(Run({"curl", "-O", "ftp://x/"}, "/usr/bin/curl")),
              std::vector<std::string>{"dash-o"})
        << "round " << round;
    EXPECT_EQ(Ids(Run({"curl", "-q", "http://x/"}, "/usr/bin/curl")),
              std::vector<std::string>{"fetch"})
        << "round " << round;
    // Only values no rule reads differ (the pid, the parent): the same
    // inputs.
    EXPECT_EQ(Ids(Run({"curl", "-O", "http://x/"}, "/usr/bin/curl", 700 + round, 9)).size(), 2u);
  }
  EXPECT_EQ(state_.outcomes.size(), 3u);
}

// Two inputs under one hash: the remembered outcome is another event's,
// and is not used (the inputs are compared, not only their hashes).
TEST_F(SignalsMatch, AnOutcomeIsUsedOnlyForItsOwnInputs) {
  Load(Rule("process_creation", "  sel:\n    Image|endswith: /nc\n  condition: sel\n", "nc"));
  const TypedEvent bad = Run({"nc", "-l"}, "/usr/bin/nc");
  const TypedEvent good = Run({"ls"}, "/usr/bin/ls");
  EXPECT_EQ(Ids(bad), std::vector<std::string>{"nc"});
  ASSERT_EQ(state_.outcomes.size(), 1u);
  const CachedOutcome bad_outcome = state_.outcomes.begin()->second;
  EXPECT_TRUE(Ids(good).empty());
  ASSERT_EQ(state_.outcomes.size(), 2u);
  // Give the harmless event's hash the other event's outcome, as if the
  // two had collided and the other had been remembered last.
  for (auto& [key, outcome] : state_.outcomes)
    if (outcome.matches.empty()) outcome = bad_outcome;
  EXPECT_TRUE(Ids(good).empty());
  // ... and the other way round.
  for (auto& [key, outcome] : state_.outcomes)
    if (outcome.matches.empty()) outcome = bad_outcome;
  state_.outcomes.begin()->second.matches.clear();
  state_.outcomes.begin()->second.inputs = "x";
  EXPECT_EQ(Ids(bad), std::vector<std::string>{"nc"});
}

// The outcomes are bounded (entries and bytes, per generation); an event
// that keeps recurring survives a flood of new ones.
TEST_F(SignalsMatch, RememberedOutcomesAreBoundedAndKeepWhatRecurs) {
  Load(Rule("process_creation", "  sel:\n    CommandLine|contains: marker\n  condition: sel\n",
            "m"));
  const TypedEvent recurring = Run({"/opt/marker-tool", "--run"}, "/opt/marker-tool");
  // Every 3,000 new events (fewer than a generation holds): found each
  // time after the first, across the generations' turns.
  int recurrences = 0;
  for (int i = 0; i < 20'000; ++i) {
    EXPECT_EQ(Ids(Run({"filler", std::to_string(i)})).size(), 0u);
    if (i % 3000 == 0) {
      EXPECT_EQ(Ids(recurring), std::vector<std::string>{"m"}) << i;
      ++recurrences;
    }
    ASSERT_LE(state_.outcomes.size(), 4096u);
    ASSERT_LE(state_.older_outcomes.size(), 4096u);
  }
  EXPECT_EQ(state_.outcomes_reused, static_cast<uint64_t>(recurrences - 1));
  size_t bytes = 0;
  for (const auto& [key, outcome] : state_.outcomes) bytes += outcome.inputs.size();
  EXPECT_EQ(bytes, state_.outcomes_bytes);
  bool kept = false;
  for (const auto* generation : {&state_.outcomes, &state_.older_outcomes})
    for (const auto& [key, outcome] : *generation) kept = kept || !outcome.matches.empty();
  EXPECT_TRUE(kept) << "the recurring event's outcome was dropped";
  // Bytes: 100 command lines of 100 KB are not all kept.
  for (int i = 0; i < 100; ++i)
    Ids(Run({std::string(100'000, static_cast<char>('a' + i % 26)), std::to_string(i)}));
  EXPECT_LE(state_.outcomes_bytes, size_t{2} << 20);
  size_t older_bytes = 0;
  for (const auto& [key, outcome] : state_.older_outcomes) older_bytes += outcome.inputs.size();
  EXPECT_LE(older_bytes, size_t{2} << 20);
  EXPECT_EQ(Ids(recurring), std::vector<std::string>{"m"});
}

// The pairs SameValuesAs reads once have the same values on every kind of
// event.
TEST(SignalFields, FieldsReadAsOneHaveTheSameValues) {
  enrich::ProcessTable table{[] {
    enrich::ProcessTableOptions o;
    o.proc_root = "/nonexistent";
    return o;
  }()};
  enrich::TableLineage lineage{&table};
  std::vector<TypedEvent> events;
  TypedEvent exec = Exec({"/bin/sh", "-c", "id"}, "/bin/sh", 500, 400, 5000);
  std::get<ProcessStart>(exec.body).cwd = "/home/u";
  events.push_back(exec);
  table.Apply(exec);
  events.push_back(FileEv(FileOperation::kWrite, "/tmp/f", "/bin/sh"));
  events.back().subject.pid = 500;
  events.push_back(Net(NetworkDirection::kOutbound, "tcp", "10.0.0.1", 443));
  ExecFailure failed;
  failed.path = "/usr/local/bin/nosuch";
  failed.cwd = "/srv";
  events.push_back(filter::Event(failed, "/bin/bash"));
  SecurityEvent security;
  security.user = "root";
  events.push_back(filter::Event(security));
  TypedEvent mac = exec;
  mac.platform = Platform::kMacos;
  events.push_back(mac);
  size_t compared = 0;
  for (size_t f = 0; f < kSignalFieldCount; ++f) {
    const FieldRef field{static_cast<SignalField>(f), 0};
    const FieldRef same = SameValuesAs(field);
    if (same == field) continue;
    for (const TypedEvent& event : events) {
      ValueScratch scratch;
      std::vector<std::string_view> a, b;
      scratch.ForgetEvent();
      Values(field, event, &lineage, &scratch, &a);
      const std::vector<std::string> a_text(a.begin(), a.end());
      scratch.ForgetEvent();
      Values(same, event, &lineage, &scratch, &b);
      EXPECT_EQ(a_text, std::vector<std::string>(b.begin(), b.end()))
          << "field " << f << " against " << static_cast<int>(same.field);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6 * events.size());
}

TEST_F(SignalsMatch, ManyRulesShareOneScan) {
  std::vector<std::string> rules;
  for (int i = 0; i < 200; ++i)
    rules.push_back(Rule(
        "process_creation",
        "  sel:\n    CommandLine|contains: marker" + std::to_string(i) + "x\n  condition: sel\n",
        "r" + std::to_string(i)));
  Load(rules);
  EXPECT_EQ(Ids(Run({"run", "marker137x"})), std::vector<std::string>{"r137"});
  EXPECT_TRUE(Ids(Run({"run", "marker1000x"})).empty());
}

}  // namespace
}  // namespace recorder::signals
