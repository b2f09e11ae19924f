// YAML documents as the Sigma loader reads them: libyaml parses the text
// into its node tree (aliases resolved to the nodes they name); YamlNode is
// a view of one node. Every scalar is text (Sigma compares text); a plain
// scalar that is empty, `~`, `null`, `Null` or `NULL` is null, as YAML's
// core schema says. libyaml rather than yaml-cpp for speed: parsing was
// nearly all of loading a rule directory (BENCHMARKS.md row S).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

struct yaml_document_s;
struct yaml_node_s;

namespace recorder::signals {

class YamlNode {
 public:
  YamlNode() = default;
  // Whether the node exists (a map lookup of a missing key gives one that
  // does not).
  explicit operator bool() const { return node_ != nullptr; }
  bool IsNull() const;
  bool IsScalar() const;  // text that is not null
  bool IsSequence() const;
  bool IsMap() const;
  // A scalar's text; "" for anything else (null included).
  std::string_view Scalar() const;
  // A map's value for the first key whose text is `key`; a node that does
  // not exist when there is none or this is not a map.
  YamlNode operator[](std::string_view key) const;
  // A sequence's items; none for anything else.
  std::vector<YamlNode> Items() const;
  // A map's (key, value) pairs in the document's order; none for anything
  // else.
  std::vector<std::pair<YamlNode, YamlNode>> Entries() const;

 private:
  friend class YamlDocument;
  YamlNode(yaml_document_s* document, yaml_node_s* node) : document_(document), node_(node) {}
  YamlNode At(int id) const;
  yaml_document_s* document_ = nullptr;
  yaml_node_s* node_ = nullptr;
};

// One parsed document; its nodes live as long as it does.
class YamlDocument {
 public:
  YamlDocument();
  ~YamlDocument();
  YamlDocument(YamlDocument&&) noexcept;
  YamlDocument& operator=(YamlDocument&&) noexcept;
  YamlNode root() const;

 private:
  friend Result<std::vector<YamlDocument>> ParseYaml(std::string_view text);
  std::unique_ptr<yaml_document_s> document_;
};

// Every document of `text` (a stream), empty ones left out. Error: the
// text is not YAML; the message names the line and column (from 1).
Result<std::vector<YamlDocument>> ParseYaml(std::string_view text);

}  // namespace recorder::signals
