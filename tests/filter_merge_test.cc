// Several products' filter files together, and the watchlist: one
// product's exclusion never removes what another asked for; a product has
// a say only on the types it names (or, with process exclusions, on all);
// watchlist.json wins for file events.
#include <gtest/gtest.h>

#include "filter/compiled_filters.h"
#include "filter_support.h"

namespace recorder::filter {
namespace {

class Merged {
 public:
  Merged(std::vector<FilterText> files, std::optional<FilterText> watchlist = std::nullopt,
         bool only_watch_file_root = true)
      : filters_(MustCompile(std::move(files), std::move(watchlist), only_watch_file_root)) {}
  bool Kept(const TypedEvent& e) {
    return filters_ != nullptr && filters_->Keep(e, nullptr, &scratch_);
  }
  DropReason Decide(const TypedEvent& e) { return filters_->Decide(e, nullptr, &scratch_); }

 private:
  std::shared_ptr<const CompiledFilters> filters_;
  MatchScratch scratch_;
};

TEST(FilterMergeTest, AnEventIsRecordedWhenAnyProductWithASayKeepsIt) {
  Merged m(
      {{"/c/filters.json", R"({"file": {"exclude": [{"exe": "/usr/bin/backup"}]}})"},
       {"/c/im_filters.json", R"({"file": {"include": [{"path": {"starts_with": "/etc/"}}]}})"}});
  // Trace excludes the backup agent, but Integrity Monitor wants /etc.
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/etc/passwd", "/usr/bin/backup")));
  // Neither wants the agent's other writes.
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/var/backup/x", "/usr/bin/backup")));
  // Trace wants everything else.
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/var/backup/x", "/usr/bin/cp")));
}

TEST(FilterMergeTest, AProductHasNoSayOnTypesItDoesNotName) {
  Merged m(
      {{"/c/filters.json", R"({"network": {"exclude": [{"remote_address": "127.0.0.0/8"}]}})"},
       {"/c/im_filters.json", R"({"file": {"include": [{"path": {"starts_with": "/etc/"}}]}})"}});
  // Only Trace speaks about network events: its exclusion applies.
  EXPECT_FALSE(m.Kept(Net(NetworkDirection::kOutbound, "tcp", "127.0.0.1", 80)));
  EXPECT_TRUE(m.Kept(Net(NetworkDirection::kOutbound, "tcp", "10.0.0.1", 80)));
  // Only IM speaks about files: outside /etc nothing is recorded.
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/tmp/x")));
  // Nobody speaks about process events.
  EXPECT_TRUE(m.Kept(Exec({"ls"}, "/bin/ls", 10, 1, 1)));
}

TEST(FilterMergeTest, ProcessExclusionsSpeakForEveryTypeButOthersCanStillAsk) {
  Merged m({{"/c/filters.json", R"({"process": {"exclude": [{"exe": "/opt/agent"}]}})"},
            {"/c/map_filters.json", R"({"network": {}})"}});
  // Trace drops everything the agent does...
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/var/agent.log", "/opt/agent")));
  EXPECT_FALSE(m.Kept(Exec({"agent"}, "/opt/agent", 10, 1, 1)));
  EXPECT_EQ(m.Decide(FileEv(FileOperation::kWrite, "/x", "/opt/agent")), DropReason::kProcess);
  // ... but Map asked for every network event.
  NetworkEvent n;
  EXPECT_TRUE(m.Kept(Event(n, "/opt/agent")));
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/x", "/usr/bin/other")));
}

TEST(FilterMergeTest, TheSameExclusionInEveryProductApplies) {
  const std::string exclude = R"({"file": {"exclude": [{"path": {"starts_with": "/proc/"}}]}})";
  Merged m({{"/c/filters.json", exclude}, {"/c/im_filters.json", exclude}});
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/proc/1/x")));
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/etc/x")));
}

TEST(FilterMergeTest, WatchlistWinsForFileEvents) {
  const FilterText watchlist{"/c/watchlist.json", R"({
      "paths": ["/etc", {"path": "/usr/local/bin", "operations": ["write", "delete"]}],
      "exclude": ["/etc/mtab", "/etc/**/*.swp"]})"};
  Merged m({{"/c/filters.json", R"({
      "process": {"exclude": [{"exe": "/opt/agent"}]},
      "file": {"exclude": [{"path": {"starts_with": "/etc"}},
                           {"path": {"starts_with": "/usr/local/"}}]}})"}},
           watchlist);
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/etc/passwd")));
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/etc/passwd", "/opt/agent")));  // over process
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kMkdir, "/etc")));          // the watched path itself
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/etcetera/x")));  // not under /etc
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/etc/mtab")));    // watchlist exclusion
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/etc/ssh/.x.swp")));
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kDelete, "/usr/local/bin/tool")));
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kChmod, "/usr/local/bin/tool")));  // not its operation
  // A rename into a watched tree is recorded.
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kRename, "/tmp/evil", "/usr/bin/mv", "/etc/cron.d/x")));
}

TEST(FilterMergeTest, OnlyWatchFileRootFalseRecordsOnlyWatchedFiles) {
  const FilterText watchlist{"/c/watchlist.json", R"(["/etc"])"};
  Merged m(std::vector<FilterText>{}, watchlist, /*only_watch_file_root=*/false);
  EXPECT_TRUE(m.Kept(FileEv(FileOperation::kWrite, "/etc/hosts")));
  EXPECT_FALSE(m.Kept(FileEv(FileOperation::kWrite, "/tmp/x")));
  EXPECT_EQ(m.Decide(FileEv(FileOperation::kWrite, "/tmp/x")), DropReason::kWatchlistOnly);
  EXPECT_TRUE(m.Kept(Net(NetworkDirection::kOutbound, "tcp", "10.0.0.1", 80)));  // files only
  Merged root(std::vector<FilterText>{}, watchlist, /*only_watch_file_root=*/true);
  EXPECT_TRUE(root.Kept(FileEv(FileOperation::kWrite, "/tmp/x")));
}

}  // namespace
}  // namespace recorder::filter
