// The YAML the Sigma loader reads, through libyaml: scalars, nulls,
// sequences, maps, aliases, several documents, errors with their place.
#include "signals/yaml_tree.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace recorder::signals {
namespace {

YamlDocument One(const std::string& text) {
  Result<std::vector<YamlDocument>> docs = ParseYaml(text);
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  EXPECT_EQ(docs.ok() ? docs->size() : 0u, 1u) << text;
  return docs.ok() && !docs->empty() ? std::move((*docs)[0]) : YamlDocument();
}

TEST(YamlTree, ScalarsAreTextAndPlainNullsAreNull) {
  const YamlDocument doc =
      One("a: text\nb: 42\nc: true\nd: ~\ne: null\nf: NULL\ng:\nh: 'null'\ni: \"\"\nj: Null\n"
          "k: !!str null\n");
  const YamlNode root = doc.root();
  ASSERT_TRUE(root.IsMap());
  EXPECT_EQ(root["a"].Scalar(), "text");
  EXPECT_EQ(root["b"].Scalar(), "42");
  EXPECT_EQ(root["c"].Scalar(), "true");
  for (const char* key : {"d", "e", "f", "g", "j"}) {
    EXPECT_TRUE(root[key]) << key;
    EXPECT_TRUE(root[key].IsNull()) << key;
    EXPECT_FALSE(root[key].IsScalar()) << key;
    EXPECT_EQ(root[key].Scalar(), "") << key;
  }
  // Quoted: text, even when it spells null or nothing.
  EXPECT_TRUE(root["h"].IsScalar());
  EXPECT_EQ(root["h"].Scalar(), "null");
  EXPECT_TRUE(root["i"].IsScalar());
  EXPECT_EQ(root["i"].Scalar(), "");
  // A tag does not change what a plain scalar is (libyaml resolves every
  // tag; Sigma rules carry none).
  EXPECT_TRUE(root["k"].IsNull());
  EXPECT_FALSE(root["missing"]);
  EXPECT_FALSE(root["a"]["x"]);
}

TEST(YamlTree, SequencesMapsInOrderAndAliases) {
  const YamlDocument doc =
      One("list: [one, two, three]\n"
          "block:\n  - x\n  - {k: v}\n"
          "base: &anchor\n  Image|endswith: /sh\n"
          "copy: *anchor\n"
          "z: 1\ny: 2\nz: 3\n");
  const YamlNode root = doc.root();
  std::vector<std::string> list;
  for (const YamlNode& item : root["list"].Items()) list.emplace_back(item.Scalar());
  EXPECT_EQ(list, (std::vector<std::string>{"one", "two", "three"}));
  const std::vector<YamlNode> block = root["block"].Items();
  ASSERT_EQ(block.size(), 2u);
  EXPECT_EQ(block[0].Scalar(), "x");
  EXPECT_TRUE(block[1].IsMap());
  EXPECT_EQ(block[1]["k"].Scalar(), "v");
  EXPECT_EQ(root["copy"]["Image|endswith"].Scalar(), "/sh");
  std::vector<std::string> keys;
  for (const auto& [key, value] : root.Entries()) keys.emplace_back(key.Scalar());
  EXPECT_EQ(keys, (std::vector<std::string>{"list", "block", "base", "copy", "z", "y", "z"}));
  EXPECT_EQ(root["z"].Scalar(), "1");  // the first of a repeated key
  EXPECT_TRUE(root["list"].Entries().empty());
  EXPECT_TRUE(root.Items().empty());
}

TEST(YamlTree, DocumentsOfAStream) {
  Result<std::vector<YamlDocument>> docs =
      ParseYaml("%YAML 1.2\n---\na: 1\n--- # second\nb: 2\n...\n---\n# empty\n");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 2u);  // the empty third is left out
  EXPECT_EQ((*docs)[0].root()["a"].Scalar(), "1");
  EXPECT_EQ((*docs)[1].root()["b"].Scalar(), "2");
  Result<std::vector<YamlDocument>> none = ParseYaml("# only a comment\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(YamlTree, ErrorsNameTheLineAndColumn) {
  Result<std::vector<YamlDocument>> bad = ParseYaml("a: 1\nb: [unclosed\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalid);
  EXPECT_NE(bad.status().message().find("YAML: line 3, column 1"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("flow sequence"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(ParseYaml("a: *nowhere\n").ok());
  EXPECT_FALSE(ParseYaml("a: b: c\n").ok());
  EXPECT_FALSE(ParseYaml(std::string("a: \"\x01\"\n")).ok());
}

}  // namespace
}  // namespace recorder::signals
