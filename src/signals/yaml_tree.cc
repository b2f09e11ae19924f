#include "signals/yaml_tree.h"

#include <fmt/format.h>
#include <yaml.h>

namespace recorder::signals {
namespace {

std::string_view Text(const yaml_node_t* node) {
  return {reinterpret_cast<const char*>(node->data.scalar.value), node->data.scalar.length};
}

// Plain `~`, `null`, `Null`, `NULL` or nothing. libyaml gives every node a
// resolved tag (a scalar without one is !!str), so a tag cannot tell
// `!!str null` from `null`: the style does, as far as Sigma needs.
bool IsNullScalar(const yaml_node_t* node) {
  if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const std::string_view text = Text(node);
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

}  // namespace

bool YamlNode::IsNull() const {
  return node_ != nullptr && node_->type == YAML_SCALAR_NODE && IsNullScalar(node_);
}

bool YamlNode::IsScalar() const {
  return node_ != nullptr && node_->type == YAML_SCALAR_NODE && !IsNullScalar(node_);
}

bool YamlNode::IsSequence() const { return node_ != nullptr && node_->type == YAML_SEQUENCE_NODE; }

bool YamlNode::IsMap() const { return node_ != nullptr && node_->type == YAML_MAPPING_NODE; }

std::string_view YamlNode::Scalar() const { return IsScalar() ? Text(node_) : std::string_view(); }

YamlNode YamlNode::At(int id) const { return {document_, yaml_document_get_node(document_, id)}; }

YamlNode YamlNode::operator[](std::string_view key) const {
  if (!IsMap()) return {};
  for (const yaml_node_pair_t* pair = node_->data.mapping.pairs.start;
       pair < node_->data.mapping.pairs.top; ++pair) {
    const YamlNode k = At(pair->key);
    if (k.IsScalar() && k.Scalar() == key) return At(pair->value);
  }
  return {};
}

std::vector<YamlNode> YamlNode::Items() const {
  std::vector<YamlNode> items;
  if (!IsSequence()) return items;
  for (const yaml_node_item_t* item = node_->data.sequence.items.start;
       item < node_->data.sequence.items.top; ++item)
    items.push_back(At(*item));
  return items;
}

std::vector<std::pair<YamlNode, YamlNode>> YamlNode::Entries() const {
  std::vector<std::pair<YamlNode, YamlNode>> entries;
  if (!IsMap()) return entries;
  for (const yaml_node_pair_t* pair = node_->data.mapping.pairs.start;
       pair < node_->data.mapping.pairs.top; ++pair)
    entries.emplace_back(At(pair->key), At(pair->value));
  return entries;
}

YamlDocument::YamlDocument() : document_(std::make_unique<yaml_document_t>()) {}

YamlDocument::~YamlDocument() {
  if (document_) yaml_document_delete(document_.get());
}

YamlDocument::YamlDocument(YamlDocument&&) noexcept = default;
YamlDocument& YamlDocument::operator=(YamlDocument&& other) noexcept {
  if (this != &other) {
    if (document_) yaml_document_delete(document_.get());
    document_ = std::move(other.document_);
  }
  return *this;
}

YamlNode YamlDocument::root() const {
  return {document_.get(), yaml_document_get_root_node(document_.get())};
}

Result<std::vector<YamlDocument>> ParseYaml(std::string_view text) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return Status::Errorf("YAML: out of memory");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  std::vector<YamlDocument> documents;
  std::string error;
  while (true) {
    YamlDocument document;
    if (yaml_parser_load(&parser, document.document_.get()) == 0) {
      // Nothing to delete: a failed load leaves the document empty.
      document.document_.reset();
      error = fmt::format("YAML: line {}, column {}: {}", parser.problem_mark.line + 1,
                          parser.problem_mark.column + 1,
                          parser.problem != nullptr ? parser.problem : "cannot parse");
      if (parser.context != nullptr) error += fmt::format(" ({})", parser.context);
      break;
    }
    const YamlNode root = document.root();
    if (!root) break;  // the end of the stream
    if (!root.IsNull()) documents.push_back(std::move(document));
  }
  yaml_parser_delete(&parser);
  if (!error.empty()) return Status::Errorf(StatusCode::kInvalid, "{}", error);
  return documents;
}

}  // namespace recorder::signals
