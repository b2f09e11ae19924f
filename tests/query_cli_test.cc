// `recorder query` as users run it: output formats, read-only guarantees
// (every kind of write is refused and the file stays intact), errors for
// bad SQL and a missing database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "db_query.h"
#include "recorder_cli.h"
#include "run_command.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace {

using recorder::RecorderRun;
using recorder::RunRecorder;
using recorder::RunRecorderApart;
using recorder::Scalar;
using recorder::TempDir;
// Shell quoting (run_command.h) under the short name these tests use.
constexpr auto Quote = &recorder::ShellQuote;

using ::testing::HasSubstr;

// One database from the captured log, shared by the tests (read-only).
class QueryCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    recorder::ReplayCaptureOnce("recorder-query-test", &temp_, &db_);
    dir_ = temp_->path();
  }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }

  RecorderRun Query(const std::string& args) {
    return RunRecorderApart("query --db " + Quote(db_) + " " + args, dir_ + "/stderr");
  }
  // A fingerprint of everything stored, to show a refused query changed nothing.
  static std::string Fingerprint() {
    return Scalar(db_,
                  "SELECT (SELECT count(*) FROM processes) || '/' || "
                  "(SELECT count(*) FROM file_events) || '/' || "
                  "(SELECT count(*) FROM strings) || '/' || "
                  "(SELECT count(*) FROM sqlite_schema) || '/' || "
                  "(SELECT count(*) FROM runs)");
  }

  static TempDir* temp_;
  static std::string dir_;
  static std::string db_;
};
TempDir* QueryCliTest::temp_ = nullptr;
std::string QueryCliTest::dir_;
std::string QueryCliTest::db_;

TEST_F(QueryCliTest, TableOutputIsAligned) {
  RecorderRun r =
      Query(Quote("SELECT 1 AS a, 'long value' AS bb, NULL AS c UNION ALL "
                  "SELECT 22, 'x', 3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.text,
            "a   bb          c\n"
            "--  ----------  -\n"
            "1   long value\n"
            "22  x           3\n");
}

TEST_F(QueryCliTest, JsonOutputIsAnArrayOfTypedObjects) {
  RecorderRun r = Query("--json " + Quote("SELECT 1 AS n, 'a\"b' AS s, NULL AS z, 2.5 AS f"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.text);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["n"], 1);
  EXPECT_EQ(j[0]["s"], "a\"b");
  EXPECT_TRUE(j[0]["z"].is_null());
  EXPECT_EQ(j[0]["f"], 2.5);
  // Column order is kept.
  EXPECT_LT(r.text.find("\"n\""), r.text.find("\"s\""));

  r = Query("--json " + Quote("SELECT * FROM processes WHERE 0"));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(r.text), nlohmann::json::array());

  r = Query("--json " + Quote("SELECT process_id, pid, exe FROM processes"));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(std::to_string(nlohmann::json::parse(r.text).size()),
            Scalar(db_, "SELECT count(*) FROM processes"));
}

TEST_F(QueryCliTest, CsvFollowsRfc4180) {
  RecorderRun r = Query("--csv " + Quote("SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z, "
                                         "'two' || char(10) || 'lines' AS w"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.text, "x,y,z,w\r\n\"a,b\",\"say \"\"hi\"\"\",,\"two\nlines\"\r\n");
}

TEST_F(QueryCliTest, ViewsAnswerQueries) {
  RecorderRun r =
      Query("--csv " + Quote("SELECT count(*) AS n FROM processes WHERE exe = '/usr/bin/true'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.text, "n\r\n" +
                        Scalar(db_,
                               "SELECT count(*) FROM processes WHERE exe = "
                               "'/usr/bin/true'") +
                        "\r\n");
  EXPECT_NE(r.text, "n\r\n0\r\n");
}

TEST_F(QueryCliTest, EveryKindOfWriteIsRefusedAndNothingChanges) {
  const std::string before = Fingerprint();
  // In the test's own directory: a file left elsewhere by another run
  // must not decide the check at the end.
  const std::string attach = dir_ + "/attached.db";
  const std::string attach_sql = "ATTACH DATABASE '" + attach + "' AS other";
  const char* writes[] = {
      "INSERT INTO strings(value) VALUES ('x')",
      "UPDATE process_data SET pid = 1",
      "DELETE FROM file_data",
      "DROP TABLE strings",
      "DROP VIEW processes",
      "CREATE TABLE t(x)",
      "CREATE TEMP TABLE t(x)",
      "CREATE INDEX i ON file_data(path_id)",
      "ALTER TABLE strings ADD COLUMN y",
      attach_sql.c_str(),
      "SELECT load_extension('/lib/x86_64-linux-gnu/libm.so.6')",
      "PRAGMA user_version = 7",
      "PRAGMA journal_mode = DELETE",
      "VACUUM",
      "SELECT 1; DELETE FROM file_data",
      "WITH x AS (SELECT 1) INSERT INTO strings(value) SELECT * FROM x",
  };
  for (const char* sql : writes) {
    RecorderRun r = Query(Quote(sql));
    EXPECT_EQ(r.exit_code, 1) << sql;
    EXPECT_THAT(r.err,
                testing::AnyOf(HasSubstr("refused"), HasSubstr("readonly"), HasSubstr("read-only")))
        << sql << ": " << r.err;
    EXPECT_EQ(r.text, "") << sql;  // "SELECT 1; DELETE ..." must not run its first half
  }
  EXPECT_EQ(Fingerprint(), before);
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
  EXPECT_FALSE(std::filesystem::exists(attach));
}

TEST_F(QueryCliTest, ReadOnlyPragmasAreAllowed) {
  RecorderRun r = Query("--csv " + Quote("PRAGMA user_version"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.text, "user_version\r\n" + std::to_string(recorder::store::kSchemaVersion) + "\r\n");
  r = Query("--csv " + Quote("SELECT name FROM pragma_table_info('runs') LIMIT 1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.text, "name\r\nrun_id\r\n");
}

TEST_F(QueryCliTest, BadSqlShowsSqlitesMessage) {
  RecorderRun r = Query(Quote("SELEC * FROM processes"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("syntax error"));
  r = Query(Quote("SELECT * FROM no_such_view"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no such table: no_such_view"));
}

TEST_F(QueryCliTest, MissingDatabaseIsNamedAndNotCreated) {
  const std::string missing = dir_ + "/absent.db";
  RecorderRun r =
      RunRecorderApart("query --db " + Quote(missing) + " 'SELECT 1'", dir_ + "/stderr");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(missing));
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(QueryCliTest, NotADatabaseIsAClearError) {
  const std::string text = dir_ + "/notes.txt";
  std::ofstream(text) << std::string(1000, 'z');
  RecorderRun r = RunRecorderApart("query --db " + Quote(text) + " 'SELECT 1 FROM processes'",
                                   dir_ + "/stderr");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not a database"));
}

TEST_F(QueryCliTest, AFileThatIsNotARecorderDatabaseIsRefusedEvenForSelectOne) {
  // SQLite opens any file lazily, so "SELECT 1" alone reads nothing of it.
  RecorderRun r = RunRecorderApart("query --db /bin/ls 'SELECT 1'", dir_ + "/stderr");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/bin/ls"));
  EXPECT_THAT(r.err, HasSubstr("not a database"));
  EXPECT_EQ(r.text, "");
  const std::string empty = dir_ + "/empty.db";
  std::ofstream{empty};
  r = RunRecorderApart("query --db " + Quote(empty) + " 'SELECT 1'", dir_ + "/stderr");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a recorder database"));
}

TEST_F(QueryCliTest, RefusalsNameTheStatementWhateverSqlitesReason) {
  // DELETE FROM a view fails in SQLite's prepare ("cannot modify runs
  // because it is a view") and DROP TABLE reaches the authorizer as a
  // DELETE on sqlite_master: the user reads the same refusal for both.
  for (const char* sql :
       {"DELETE FROM runs", "DROP TABLE strings", "  insert into runs values(1)"}) {
    RecorderRun r = Query(Quote(sql));
    EXPECT_EQ(r.exit_code, 1) << sql;
    std::string statement(sql);
    statement.erase(0, statement.find_first_not_of(' '));
    EXPECT_THAT(r.err,
                HasSubstr("refused: queries are read-only; `" + statement + "` is not allowed"))
        << r.err;
  }
}

TEST_F(QueryCliTest, JsonAndCsvTogetherIsAUsageError) {
  RecorderRun r = Query("--json --csv 'SELECT 1'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.text.find("1\r\n"), std::string::npos);
}

TEST_F(QueryCliTest, EveryUsageErrorExitsTwo) {
  // CLI11's own codes (105-109) are not the documented ones.
  for (const char* args :
       {"nosuch", "query --bogus 'SELECT 1'", "query", "run --source nowhere", "replay --db"}) {
    RecorderRun r = RunRecorderApart(args, dir_ + "/stderr");
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
  }
  RecorderRun r = RunRecorderApart("--help", dir_ + "/stderr");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.text, HasSubstr("2 a usage error"));
}

TEST_F(QueryCliTest, HelpHasExamplesAndExitCodes) {
  RecorderRun r = RunRecorderApart("query --help", dir_ + "/stderr");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.text, HasSubstr("Examples"));
  EXPECT_THAT(r.text, HasSubstr("Exit codes"));
  EXPECT_THAT(r.text, HasSubstr("read-only"));
}

}  // namespace
