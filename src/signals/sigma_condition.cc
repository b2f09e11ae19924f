#include "signals/sigma_condition.h"

#include <cctype>

namespace recorder::signals {
namespace {

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == '*' || c == '?';
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `*` matches any run, `?` one character (selection-name patterns): the
// usual greedy match that backs up to the last star.
bool NameMatches(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Deeper nesting than any real rule: refused rather than recursed into.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(std::string_view text, const std::vector<std::string>& names)
      : text_(text), names_(names) {}

  Result<ConditionNode> Parse() {
    if (text_.find('|') != std::string_view::npos)
      return Status::Error(StatusCode::kUnavailable,
                           "aggregation in the condition (`| count()` ...) is not supported");
    Tokenize();
    if (!error_.ok()) return error_;
    ConditionNode node = Or();
    if (error_.ok() && pos_ < tokens_.size())
      Fail(StatusCode::kInvalid, "unexpected \"" + tokens_[pos_] + "\" in the condition");
    if (tokens_.empty()) Fail(StatusCode::kInvalid, "empty condition");
    if (!error_.ok()) return error_;
    return node;
  }

 private:
  void Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.emplace_back(1, c);
        ++i;
      } else if (IsWordChar(c)) {
        size_t j = i;
        while (j < text_.size() && IsWordChar(text_[j])) ++j;
        tokens_.emplace_back(text_.substr(i, j - i));
        i = j;
      } else {
        Fail(StatusCode::kInvalid,
             std::string("unexpected character '") + c + "' in the condition");
        return;
      }
    }
  }

  void Fail(StatusCode code, std::string message) {
    if (error_.ok()) error_ = Status::Error(code, std::move(message));
  }
  bool Peek(std::string_view word) const {
    return pos_ < tokens_.size() && Lower(tokens_[pos_]) == word;
  }

  static ConditionNode Combine(ConditionNode::Kind kind, ConditionNode left, ConditionNode right) {
    if (left.kind == kind) {
      left.children.push_back(std::move(right));
      return left;
    }
    ConditionNode node;
    node.kind = kind;
    node.children.push_back(std::move(left));
    node.children.push_back(std::move(right));
    return node;
  }

  ConditionNode Or() {
    ConditionNode left = And();
    while (error_.ok() && Peek("or")) {
      ++pos_;
      left = Combine(ConditionNode::Kind::kOr, std::move(left), And());
    }
    return left;
  }
  ConditionNode And() {
    ConditionNode left = Not();
    while (error_.ok() && Peek("and")) {
      ++pos_;
      left = Combine(ConditionNode::Kind::kAnd, std::move(left), Not());
    }
    return left;
  }
  ConditionNode Not() {
    if (++depth_ > kMaxDepth) {
      Fail(StatusCode::kInvalid, "the condition nests too deeply");
      return {};
    }
    struct Leave {
      int* depth;
      ~Leave() { --*depth; }
    } leave{&depth_};
    if (Peek("not")) {
      ++pos_;
      ConditionNode node;
      node.kind = ConditionNode::Kind::kNot;
      node.children.push_back(Not());
      return node;
    }
    return Primary();
  }
  ConditionNode Primary() {
    ConditionNode node;
    if (!error_.ok()) return node;
    if (pos_ >= tokens_.size()) {
      Fail(StatusCode::kInvalid, "the condition ends where a selection was expected");
      return node;
    }
    const std::string token = tokens_[pos_++];
    if (token == "(") {
      node = Or();
      if (error_.ok() && !(pos_ < tokens_.size() && tokens_[pos_] == ")"))
        Fail(StatusCode::kInvalid, "a '(' without its ')' in the condition");
      ++pos_;
      return node;
    }
    const std::string word = Lower(token);
    if (word == ")" || word == "and" || word == "or" || word == "of") {
      Fail(StatusCode::kInvalid, "unexpected \"" + token + "\" in the condition");
      return node;
    }
    if (word == "near") {
      Fail(StatusCode::kUnavailable, "`near` conditions are not supported");
      return node;
    }
    if (Peek("of")) {
      ++pos_;
      if (word == "1" || word == "any") {
        node.kind = ConditionNode::Kind::kOneOf;
      } else if (word == "all") {
        node.kind = ConditionNode::Kind::kAllOf;
      } else {
        Fail(StatusCode::kUnavailable, "\"" + token + " of\" is not supported (1, any or all)");
        return node;
      }
      if (pos_ >= tokens_.size()) {
        Fail(StatusCode::kInvalid, "\"of\" without selections in the condition");
        return node;
      }
      const std::string pattern = tokens_[pos_++];
      const bool them = Lower(pattern) == "them";
      for (uint32_t i = 0; i < names_.size(); ++i) {
        // `them` leaves out selections named with a leading '_' (Sigma's rule).
        if (them ? names_[i].empty() || names_[i][0] != '_' : NameMatches(pattern, names_[i]))
          node.selections.push_back(i);
      }
      if (node.selections.empty())
        Fail(StatusCode::kInvalid, "\"" + pattern + "\" names no selection of the rule");
      return node;
    }
    for (uint32_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == token) {
        node.selections.push_back(i);
        return node;
      }
    }
    Fail(StatusCode::kInvalid, "the condition names \"" + token + "\", which is no selection");
    return node;
  }

  std::string_view text_;
  const std::vector<std::string>& names_;
  std::vector<std::string> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  Status error_ = Status::Ok();
};

}  // namespace

Result<ConditionNode> ParseCondition(std::string_view text,
                                     const std::vector<std::string>& selection_names) {
  return Parser(text, selection_names).Parse();
}

}  // namespace recorder::signals
