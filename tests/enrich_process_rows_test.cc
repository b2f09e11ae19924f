// ProcessRows, the second step of process identity: which process row an
// event belongs to, per node, across pid reuse, expiry and transactions
// that roll back. The database is a fake ProcessRowSource (the store's
// side is tested against SQLite in store_test.cc).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "enrich/process_rows.h"

namespace recorder::enrich {
namespace {

class FakeRows : public ProcessRowSource {
 public:
  Result<int64_t> ExeId(std::string_view exe) override {
    if (exe.empty()) return int64_t{0};
    auto [it, added] = exes_.try_emplace(std::string(exe), static_cast<int64_t>(exes_.size()) + 1);
    (void)added;
    return it->second;
  }
  Result<int64_t> StoredInstance(const InstanceKey& instance) override {
    ++lookups;
    auto it = stored.find({instance.process.packed(), instance.start_ms});
    return it != stored.end() ? it->second : int64_t{0};
  }
  int64_t Exe(std::string_view exe) { return *ExeId(exe); }

  std::map<std::pair<uint64_t, int64_t>, int64_t> stored;  // (node|pid, start) -> row
  int lookups = 0;

 private:
  std::map<std::string, int64_t, std::less<>> exes_;
};

constexpr uint32_t kWeb1 = 7, kWeb2 = 8;

TEST(ProcessRowsTest, ExecsPlaceholdersPidReuseAndExpiry) {
  FakeRows db;
  ProcessRowsOptions options;
  options.expiration_ms = 1000;
  ProcessRows rows(options);
  rows.BeginTransaction(1);
  const ProcessKey p{kWeb1, 100};
  EXPECT_EQ(*rows.RowOf(p, 10, -1, "/bin/a", &db), 0);  // never seen: a placeholder
  rows.NoteExec(p, 1, db.Exe("/bin/a"), 10, /*success=*/true);
  EXPECT_EQ(*rows.RowOf(p, 20, -1, "/bin/a", &db), 1);
  EXPECT_EQ(*rows.RowOf(p, 20, -1, "", &db), 1);        // no exe: still the pid's row
  EXPECT_EQ(*rows.RowOf(p, 20, -1, "/bin/b", &db), 0);  // another program, no exec: reused
  // A failed exec leaves the running program its pid.
  rows.NoteExec(p, 2, db.Exe("/bin/nosuch"), 30, /*success=*/false);
  EXPECT_EQ(*rows.RowOf(p, 40, -1, "/bin/a", &db), 1);
  // Late events within the expiry go to the exited row; later ones do not.
  rows.NoteExit(p, 1, 50);
  EXPECT_EQ(*rows.RowOf(p, 1050, -1, "/bin/a", &db), 1);
  EXPECT_EQ(*rows.RowOf(p, 1051, -1, "/bin/a", &db), 0);
  // The same pid on another node is another process.
  EXPECT_EQ(*rows.RowOf({kWeb2, 100}, 20, -1, "/bin/a", &db), 0);
}

TEST(ProcessRowsTest, TheEnrichStagesInstanceWinsAndIsFoundInTheDatabase) {
  FakeRows db;
  ProcessRows rows;
  rows.BeginTransaction(1);
  const ProcessKey p{kWeb1, 100};
  rows.NoteExec(p, 1, db.Exe("/bin/a"), 10, true);
  EXPECT_EQ(*rows.RowOf(p, 20, 10, "/bin/a", &db), 1);
  EXPECT_EQ(db.lookups, 0);
  // The enrich stage knows pid 100 as an instance that started at 15 (an
  // exec this store never saw): not row 1. An earlier run stored it.
  db.stored[{p.packed(), 15}] = 42;
  EXPECT_EQ(*rows.RowOf(p, 20, 15, "/bin/a", &db), 42);
  EXPECT_EQ(db.lookups, 1);
  EXPECT_EQ(*rows.RowOf(p, 21, 15, "/bin/a", &db), 42);
  EXPECT_EQ(db.lookups, 1);  // remembered
  // Parents: by instance first, else the pid's row unless its start differs.
  EXPECT_EQ(*rows.ParentOf(p, 30, 15, &db), 42);
  EXPECT_EQ(*rows.ParentOf(p, 30, -1, &db), 1);  // unnamed: whatever the pid runs now
  EXPECT_EQ(*rows.ParentOf(p, 30, 99, &db), 0);  // a start nobody stored
  EXPECT_EQ(*rows.ParentOf({kWeb2, 100}, 30, -1, &db), 0);
  // A placeholder with a known start (seeded) is an instance too.
  rows.NotePlaceholder({kWeb1, 1}, 3, 0, 30, 5);
  EXPECT_EQ(*rows.ParentOf({kWeb1, 1}, 40, 5, &db), 3);
}

TEST(ProcessRowsTest, AnAbandonedTransactionTaughtNothing) {
  FakeRows db;
  ProcessRows rows;
  const ProcessKey a{kWeb1, 100}, b{kWeb1, 200}, c{kWeb1, 300};
  rows.BeginTransaction(1);  // commits
  rows.NoteExec(a, 1, db.Exe("/bin/a"), 10, true);
  rows.NoteExec(c, 2, db.Exe("/bin/c"), 11, true);
  rows.BeginTransaction(2);  // rolls back: its rows 3 and 4 are gone
  rows.NoteExec(b, 3, db.Exe("/bin/b"), 20, true);
  rows.NotePlaceholder(a, 4, db.Exe("/bin/x"), 21, -1);  // took pid 100 over
  rows.NoteExit(c, 2, 22);
  rows.AbandonTransaction(2);
  rows.BeginTransaction(3);
  EXPECT_EQ(*rows.RowOf(b, 30, -1, "/bin/b", &db), 0);
  EXPECT_EQ(*rows.ParentOf(b, 30, 20, &db), 0);  // its instance, asked of the database
  EXPECT_EQ(db.lookups, 1);
  // What transaction 2 changed of pids 100 and 300 is void with it; the
  // instance transaction 1 learned is still known.
  EXPECT_EQ(*rows.RowOf(a, 30, -1, "/bin/x", &db), 0);
  EXPECT_EQ(*rows.RowOf(a, 30, 10, "/bin/a", &db), 1);
  EXPECT_EQ(db.lookups, 1);
  // Ids are handed out again: new knowledge of row 3 is good.
  rows.NoteExec(b, 3, db.Exe("/bin/b2"), 40, true);
  EXPECT_EQ(*rows.RowOf(b, 41, -1, "/bin/b2", &db), 3);
}

TEST(ProcessRowsTest, PidSuccessionFollowsTheRowsThatTakeAPidOver) {
  PidSuccession succession;
  const ProcessKey p{kWeb1, 100};
  succession.Note(p, 5, /*placeholder=*/false, /*success=*/true);
  succession.Note(p, 9, /*placeholder=*/false, /*success=*/false);  // a failed exec
  succession.Note({kWeb2, 100}, 12, /*placeholder=*/true, /*success=*/false);
  EXPECT_FALSE(succession.Superseded(p, 5));
  EXPECT_FALSE(succession.Superseded(p, 9));
  succession.Note(p, 7, /*placeholder=*/true, false);
  EXPECT_TRUE(succession.Superseded(p, 5));
  EXPECT_FALSE(succession.Superseded(p, 7));
  EXPECT_FALSE(succession.Superseded({kWeb2, 100}, 12));
  EXPECT_TRUE(succession.Superseded({kWeb2, 100}, 3));
}

}  // namespace
}  // namespace recorder::enrich
