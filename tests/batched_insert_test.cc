// BatchedInsert against a real SQLite file: when rows reach the table
// (full statements at once, the rest at Flush), their order and NULLs,
// Discard, and SQLite's errors coming back as values.
#include "store/batched_insert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "temp_dir.h"

namespace recorder::store {
namespace {

using ::testing::HasSubstr;

constexpr int kFull = BatchedInsert::kRowsPerStatement;  // this SQLite allows 64 x 2

class BatchedInsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Database>> db =
        Database::Open(dir_.File("t.db"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER);"
                          "CREATE TABLE k(x INTEGER PRIMARY KEY, y INTEGER) WITHOUT ROWID;")
                    .ok());
    Result<std::unique_ptr<BatchedInsert>> rows = BatchedInsert::Create(db_.get(), "t(a, b)");
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    rows_ = std::move(rows).value();
  }

  int64_t Count() { return *db_->QueryInt("SELECT count(*) FROM t"); }
  // Every row as "a:b" in rowid order, NULL as "-".
  std::string Rows() {
    auto stmt = db_->Prepare("SELECT a, b FROM t ORDER BY id");
    std::string out;
    while (*(*stmt)->Step()) {
      if (!out.empty()) out += ",";
      out += std::to_string((*stmt)->ColumnInt(0)) + ":" +
             ((*stmt)->ColumnType(1) == SQLITE_NULL ? "-" : std::to_string((*stmt)->ColumnInt(1)));
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<BatchedInsert> rows_;
};

TEST_F(BatchedInsertTest, RowsWaitForAFullStatementOrFlush) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(rows_->Add({Int(i), i == 1 ? NullInt() : Int(10 * i)}).ok());
  EXPECT_EQ(rows_->pending_rows(), 3u);
  EXPECT_EQ(Count(), 0);
  ASSERT_TRUE(rows_->Flush().ok());
  EXPECT_EQ(rows_->pending_rows(), 0u);
  EXPECT_EQ(Rows(), "0:0,1:-,2:20");
  ASSERT_TRUE(rows_->Flush().ok());  // nothing queued: nothing written
  EXPECT_EQ(Count(), 3);
}

TEST_F(BatchedInsertTest, AFullStatementIsWrittenByTheAddThatCompletesIt) {
  const int total = 2 * kFull + 5;
  for (int i = 0; i < total; ++i) {
    ASSERT_TRUE(rows_->Add({Int(i), Int(i % 3 == 0 ? -i : i)}).ok());
    EXPECT_EQ(Count(), (i + 1) / kFull * kFull) << "after row " << i;
  }
  EXPECT_EQ(rows_->pending_rows(), 5u);
  ASSERT_TRUE(rows_->Flush().ok());
  // Every row once, in the order added, each with its own values.
  EXPECT_EQ(*db_->QueryInt("SELECT count(*) FROM t WHERE a = id - 1 AND "
                           "b = CASE WHEN a % 3 = 0 THEN -a ELSE a END"),
            total);
}

TEST_F(BatchedInsertTest, DiscardForgetsQueuedRowsOnly) {
  for (int i = 0; i < kFull + 2; ++i) ASSERT_TRUE(rows_->Add({Int(i), NullInt()}).ok());
  rows_->Discard();
  EXPECT_EQ(rows_->pending_rows(), 0u);
  ASSERT_TRUE(rows_->Flush().ok());
  EXPECT_EQ(Count(), kFull);
}

TEST_F(BatchedInsertTest, SqliteErrorsComeBackFromTheWriteThatHitsThem) {
  // NOT NULL broken in a queued row: the error comes at Flush.
  ASSERT_TRUE(rows_->Add({NullInt(), Int(1)}).ok());
  Status status = rows_->Flush();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("NOT NULL"));

  // A duplicate key inside a full statement: that Add fails.
  Result<std::unique_ptr<BatchedInsert>> keys = BatchedInsert::Create(db_.get(), "k(x, y)");
  ASSERT_TRUE(keys.ok());
  Status last;
  for (int i = 0; i < kFull; ++i) last = (*keys)->Add({Int(i == kFull - 1 ? 0 : i), Int(i)});
  ASSERT_FALSE(last.ok());
  EXPECT_THAT(last.message(), HasSubstr("UNIQUE"));
}

TEST_F(BatchedInsertTest, StatementsStayWithinTheConnectionsParameterLimit) {
  sqlite3_limit(db_->handle(), SQLITE_LIMIT_VARIABLE_NUMBER, 7);  // 3 rows of 2
  Result<std::unique_ptr<BatchedInsert>> rows = BatchedInsert::Create(db_.get(), "t(a, b)");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ((*rows)->rows_per_statement(), 3u);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE((*rows)->Add({Int(i), Int(-i)}).ok());
  EXPECT_EQ(Count(), 6);
  ASSERT_TRUE((*rows)->Flush().ok());
  EXPECT_EQ(Rows(), "0:0,1:-1,2:-2,3:-3,4:-4,5:-5,6:-6");
}

TEST_F(BatchedInsertTest, BadTableOrColumnsAreErrorsAtCreate) {
  Result<std::unique_ptr<BatchedInsert>> missing = BatchedInsert::Create(db_.get(), "nope(a)");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nope"));
  EXPECT_FALSE(BatchedInsert::Create(db_.get(), "t(a, nope)").ok());
  EXPECT_FALSE(BatchedInsert::Create(db_.get(), "t( )").ok());
  EXPECT_FALSE(BatchedInsert::Create(db_.get(), "t").ok());
  // The column count comes from the names.
  EXPECT_EQ(rows_->columns(), 2u);
  EXPECT_EQ((*BatchedInsert::Create(db_.get(), "t(id, a, b)"))->columns(), 3u);
}

}  // namespace
}  // namespace recorder::store
