// Every JSON example in docs/filters.md compiles as the file it shows (a
// filter file, or the watchlist for ```json watchlist blocks), without a
// warning; and the error messages the page quotes are the real ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "filter_support.h"

namespace recorder::filter {
namespace {

using ::testing::HasSubstr;

struct Block {
  int line;
  bool watchlist;
  std::string text;
};

std::vector<Block> JsonBlocks(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<Block> blocks;
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (open == nullptr && line.rfind("```json", 0) == 0) {
      blocks.push_back(Block{number, line.find("watchlist") != std::string::npos, ""});
      open = &blocks.back();
    } else if (open != nullptr && line.rfind("```", 0) == 0) {
      open = nullptr;
    } else if (open != nullptr) {
      open->text += line + "\n";
    }
  }
  return blocks;
}

const std::string kDoc = std::string(RECORDER_TEST_DATA) + "/../../docs/filters.md";

TEST(FilterDocsTest, EveryJsonExampleCompilesWithoutWarnings) {
  const std::vector<Block> blocks = JsonBlocks(kDoc);
  ASSERT_GE(blocks.size(), 8u);
  for (const Block& b : blocks) {
    std::vector<FilterText> files;
    std::optional<FilterText> watchlist;
    if (b.watchlist) {
      watchlist = FilterText{"watchlist.json", b.text};
    } else {
      files.push_back({"filters.json", b.text});
    }
    Result<LoadedFilters> loaded = CompileFilterTexts(files, watchlist);
    ASSERT_TRUE(loaded.ok()) << "docs/filters.md:" << b.line << ": " << loaded.status().message();
    EXPECT_TRUE(loaded->warnings.empty())
        << "docs/filters.md:" << b.line << ": " << loaded->warnings.front();
  }
}

TEST(FilterDocsTest, QuotedErrorsAreTheRealOnes) {
  EXPECT_EQ(CompileError({{"filters.json", R"({"process": {"exclude": [{"exee": "x"}]}})"}}),
            "filters.json: process.exclude[0]: unknown field \"exee\" (did you mean \"exe\"?)");
  EXPECT_EQ(CompileError({{"filters.json", R"({"file": {"exclude": [{}, {}, {"name": "tmp",
                                               "remote_port": 1}]}})"}}),
            "3 errors in the filters:\n"
            "filters.json: file.exclude[0]: a rule needs at least one field (an empty rule would "
            "match every event)\n"
            "filters.json: file.exclude[1]: a rule needs at least one field (an empty rule would "
            "match every event)\n"
            "filters.json: file.exclude[2] (\"tmp\"): field \"remote_port\" does not apply to file "
            "events (their fields: exe, parent_exe, user, uid, auid, success, syscall, path, "
            "new_path, operation)");
  EXPECT_EQ(CompileError({{"filters.json",
                           R"({"process": {"exclude": [{}, {"cmdline": {"regex": "a(b"}}]}})"}}),
            "2 errors in the filters:\n"
            "filters.json: process.exclude[0]: a rule needs at least one field (an empty rule "
            "would match every event)\n"
            "filters.json: process.exclude[1]: cmdline: bad regex \"a(b\": missing ): a(b");
  EXPECT_EQ(
      CompileError(
          {{"filters.json", R"({"network": {"exclude": [{"remote_address": "10.0.0.0/33"}]}})"}}),
      "filters.json: network.exclude[0]: remote_address: bad address or CIDR \"10.0.0.0/33\"");
  EXPECT_THAT(CompileError({{"filters.json", R"({"file": {"include": [{"operation": "wrte"}]}})"}}),
              HasSubstr("filters.json: file.include[0]: operation: \"wrte\" is not one of create, "
                        "write, "));
  EXPECT_THAT(CompileError({{"filters.json", "{\n  \"process\": {\n    \"exclude\": [,]\n  }\n}"}}),
              HasSubstr("filters.json:3:17: invalid JSON: syntax error while parsing value - "
                        "unexpected ','"));
  // The page quotes these lines; keep them in step with the above.
  std::ifstream in(kDoc);
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_THAT(doc.str(), HasSubstr("filters.json: process.exclude[0]: unknown field \"exee\" "
                                   "(did you mean \"exe\"?)"));
  EXPECT_THAT(doc.str(), HasSubstr("bad regex \"a(b\": missing ): a(b"));
  EXPECT_THAT(doc.str(), HasSubstr("(their fields: exe, parent_exe, user, uid, auid, success, "
                                   "syscall, path, new_path, operation)"));
  EXPECT_THAT(doc.str(), HasSubstr("filters.json:3:17: invalid JSON: syntax error while parsing "
                                   "value - unexpected ','"));
}

}  // namespace
}  // namespace recorder::filter
