// The signal stage as it is wired: enricher -> filter -> SignalSink ->
// next. Which events get which hits (rule, title, level, author,
// selection), that every event goes on in order, the counts by level and
// by rule, the JSON lines of --signals-out, a rule on the parent through
// the process table, and a replacement of the rules between batches.
#include "signals/signal_sink.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "enrich_front.h"
#include "filter/filtering_sink.h"
#include "filter_support.h"
#include "signals/sigma_loader.h"
#include "signals_support.h"

namespace recorder::signals {
namespace {

using filter::Exec;
using filter::FileEv;

using signals_test::CompileRules;

const std::string kCurlRule = R"(title: Curl to a pastebin
id: rule-curl
author: Alice Author
level: high
logsource: {product: linux, category: process_creation}
detection:
  sel_image:
    Image|endswith: /curl
  sel_site:
    CommandLine|contains: pastebin
  filter_ok:
    CommandLine|contains: --allowed
  condition: all of sel_* and not 1 of filter_*
)";

const std::string kShadowRule = R"(title: Shadow written
id: rule-shadow
author: Bob Author
level: critical
logsource: {product: linux, category: file_event}
detection:
  selection:
    TargetFilename: /etc/shadow
  condition: selection
)";

const std::string kParentRule = R"(title: Shell under a web server
id: rule-parent
author: Carol Author
level: medium
logsource: {product: linux, category: process_creation}
detection:
  selection:
    ParentImage|endswith: /nginx
    Image|endswith: /sh
  condition: selection
)";

// enricher -> filter -> signals -> collected.
struct Chain : chain_test::EnrichFront {
  Chain(std::shared_ptr<const SignalMatcher> matcher, std::FILE* out = nullptr,
        std::shared_ptr<const filter::CompiledFilters> filters = nullptr)
      : signals(&collected, std::move(matcher), &lineage, out),
        filtering(&signals, std::move(filters), &lineage) {
    Front(&filtering);
  }
  chain_test::CollectingSink collected;
  SignalSink signals;
  filter::FilteringSink filtering;
};

TEST(SignalSinkTest, MarksTheMatchingEventsAndPassesEveryEventOnInOrder) {
  Chain chain(CompileRules({kCurlRule, kShadowRule}));
  std::vector<TypedEvent> batch;
  batch.push_back(Exec({"curl", "https://pastebin.com/x"}, "/usr/bin/curl", 100, 1, 1000));
  batch.push_back(Exec({"curl", "https://example.com"}, "/usr/bin/curl", 101, 1, 1100));
  batch.push_back(Exec({"curl", "pastebin", "--allowed"}, "/usr/bin/curl", 102, 1, 1200));
  batch.push_back(FileEv(FileOperation::kWrite, "/etc/shadow"));
  batch.push_back(FileEv(FileOperation::kWrite, "/etc/shadow-"));
  ASSERT_TRUE(chain.Feed(std::move(batch)).ok());

  const std::vector<TypedEvent>& kept = chain.collected.kept;
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_EQ(kept[0].subject.pid, 100);
  EXPECT_EQ(kept[2].subject.pid, 102);
  ASSERT_EQ(kept[0].signals.size(), 1u);
  EXPECT_EQ(kept[0].signals[0], (SignalHit{"rule-curl", "Curl to a pastebin", "high",
                                           "Alice Author", "sel_image,sel_site"}));
  EXPECT_TRUE(kept[1].signals.empty());
  EXPECT_TRUE(kept[2].signals.empty());  // the filter selection holds: `not` removes it
  ASSERT_EQ(kept[3].signals.size(), 1u);
  EXPECT_EQ(kept[3].signals[0],
            (SignalHit{"rule-shadow", "Shadow written", "critical", "Bob Author", "selection"}));
  EXPECT_TRUE(kept[4].signals.empty());

  const SignalStats stats = chain.signals.stats();
  EXPECT_EQ(stats.rules, 2u);
  EXPECT_EQ(stats.total(), 2u);
  EXPECT_EQ(stats.matches[static_cast<size_t>(Level::kHigh)], 1u);
  EXPECT_EQ(stats.matches[static_cast<size_t>(Level::kCritical)], 1u);
  EXPECT_EQ(stats.matches[static_cast<size_t>(Level::kMedium)], 0u);
}

TEST(SignalSinkTest, CountsByRuleMostMatchesFirstAcrossAReplacement) {
  Chain chain(CompileRules({kCurlRule, kShadowRule}));
  ASSERT_TRUE(chain
                  .Feed({FileEv(FileOperation::kWrite, "/etc/shadow"),
                         FileEv(FileOperation::kWrite, "/etc/shadow"),
                         Exec({"curl", "pastebin"}, "/usr/bin/curl", 100, 1, 1000)})
                  .ok());
  SignalStats stats = chain.signals.stats();
  ASSERT_EQ(stats.by_rule.size(), 2u);
  EXPECT_EQ(stats.by_rule[0].rule_id, "rule-shadow");
  EXPECT_EQ(stats.by_rule[0].title, "Shadow written");
  EXPECT_EQ(stats.by_rule[0].matches, 2u);
  EXPECT_EQ(stats.by_rule[1].rule_id, "rule-curl");
  EXPECT_EQ(stats.by_rule[1].matches, 1u);

  // Only the shadow rule after the reload: the curl exec no longer
  // matches; the counts so far are kept.
  chain.signals.Replace(CompileRules({kShadowRule}));
  EXPECT_EQ(chain.signals.stats().rules, 1u);
  ASSERT_TRUE(chain
                  .Feed({Exec({"curl", "pastebin"}, "/usr/bin/curl", 101, 1, 2000),
                         FileEv(FileOperation::kWrite, "/etc/shadow")})
                  .ok());
  EXPECT_TRUE(chain.collected.kept[3].signals.empty());
  EXPECT_EQ(chain.collected.kept[4].signals.size(), 1u);
  stats = chain.signals.stats();
  EXPECT_EQ(stats.by_rule[0].matches, 3u);
  EXPECT_EQ(stats.by_rule[1].matches, 1u);

  // None (DisableSignals on a reload): nothing matches, nothing counted.
  chain.signals.Replace(nullptr);
  ASSERT_TRUE(chain.Feed({FileEv(FileOperation::kWrite, "/etc/shadow")}).ok());
  EXPECT_TRUE(chain.collected.kept.back().signals.empty());
  EXPECT_EQ(chain.signals.stats().total(), 4u);
  EXPECT_EQ(chain.signals.stats().rules, 0u);
}

TEST(SignalSinkTest, ParentFieldsComeFromTheProcessTable) {
  Chain chain(CompileRules({kParentRule}));
  ASSERT_TRUE(chain
                  .Feed({Exec({"nginx"}, "/usr/sbin/nginx", 200, 1, 1000),
                         Exec({"sh", "-c", "id"}, "/bin/sh", 201, 200, 1100),
                         Exec({"sh", "-c", "id"}, "/bin/sh", 202, 1, 1200)})
                  .ok());
  ASSERT_EQ(chain.collected.kept.size(), 3u);
  EXPECT_TRUE(chain.collected.kept[0].signals.empty());
  ASSERT_EQ(chain.collected.kept[1].signals.size(), 1u);
  EXPECT_EQ(chain.collected.kept[1].signals[0].rule_id, "rule-parent");
  EXPECT_TRUE(chain.collected.kept[2].signals.empty());  // its parent is not nginx
}

TEST(SignalSinkTest, AnEventTheFiltersLeaveOutIsNotMatched) {
  Chain chain(CompileRules({kShadowRule}), nullptr,
              filter::MustCompile(R"({"file": {"exclude": [{"path": "/etc/shadow"}]}})"));
  ASSERT_TRUE(chain.Feed({FileEv(FileOperation::kWrite, "/etc/shadow")}).ok());
  EXPECT_TRUE(chain.collected.kept.empty());
  EXPECT_EQ(chain.signals.stats().total(), 0u);
}

TEST(SignalSinkTest, SignalsOutWritesOneJsonLinePerMatch) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    Chain chain(CompileRules({kCurlRule, kShadowRule}), out);
    ASSERT_TRUE(chain
                    .Feed({Exec({"curl", "pastebin"}, "/usr/bin/curl", 100, 1, 1000),
                           Exec({"ls"}, "/bin/ls", 101, 1, 1100),
                           FileEv(FileOperation::kWrite, "/etc/shadow")})
                    .ok());
  }
  std::rewind(out);
  std::vector<nlohmann::json> lines;
  char buffer[65536];
  while (std::fgets(buffer, sizeof buffer, out) != nullptr)
    lines.push_back(nlohmann::json::parse(buffer));
  std::fclose(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["rule_id"], "rule-curl");
  EXPECT_EQ(lines[0]["title"], "Curl to a pastebin");
  EXPECT_EQ(lines[0]["level"], "high");
  EXPECT_EQ(lines[0]["author"], "Alice Author");
  EXPECT_EQ(lines[0]["selection"], "sel_image,sel_site");
  EXPECT_EQ(lines[0]["event"]["pid"], 100) << lines[0].dump();
  EXPECT_EQ(lines[1]["rule_id"], "rule-shadow");
  EXPECT_EQ(lines[1]["author"], "Bob Author");
}

}  // namespace
}  // namespace recorder::signals
