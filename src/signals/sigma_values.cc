#include "signals/sigma_values.h"

#include <re2/re2.h>

namespace recorder::signals {
namespace {

enum class TokenKind : uint8_t { kLiteral, kStar, kOne };
struct Token {
  TokenKind kind;
  char c = 0;
};

std::vector<Token> Tokenize(std::string_view value) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && i + 1 < value.size() &&
        (value[i + 1] == '*' || value[i + 1] == '?' || value[i + 1] == '\\')) {
      tokens.push_back({TokenKind::kLiteral, value[++i]});
    } else if (c == '*') {
      tokens.push_back({TokenKind::kStar});
    } else if (c == '?') {
      tokens.push_back({TokenKind::kOne});
    } else {
      tokens.push_back({TokenKind::kLiteral, c});
    }
  }
  return tokens;
}

}  // namespace

ValueTest CompileWildcardValue(std::string_view value, WildcardAnchor anchor) {
  std::vector<Token> tokens = Tokenize(value);
  if (anchor == WildcardAnchor::kContains || anchor == WildcardAnchor::kEndsWith)
    tokens.insert(tokens.begin(), Token{TokenKind::kStar});
  if (anchor == WildcardAnchor::kContains || anchor == WildcardAnchor::kStartsWith)
    tokens.push_back(Token{TokenKind::kStar});
  size_t begin = 0, end = tokens.size();
  while (begin < end && tokens[begin].kind == TokenKind::kStar) ++begin;
  while (end > begin && tokens[end - 1].kind == TokenKind::kStar) --end;
  const bool lead = begin > 0, trail = end < tokens.size();
  bool literal = true;
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    if (tokens[i].kind != TokenKind::kLiteral) literal = false;
    text += tokens[i].c;
  }
  ValueTest test;
  if (literal && !text.empty()) {
    test.op = lead && trail ? ValueOp::kContains
              : lead        ? ValueOp::kEndsWith
              : trail       ? ValueOp::kStartsWith
                            : ValueOp::kEquals;
    test.text = std::move(text);
    return test;
  }
  // A regex; unanchored at an end that was a `*`. `.` written so that it
  // crosses newlines and leaves a literal start visible to the matcher's
  // prefix filter.
  test.op = ValueOp::kWildcard;
  test.text = lead ? "" : "^";
  std::string run;
  auto flush = [&] {
    test.text += RE2::QuoteMeta(run);
    run.clear();
  };
  for (size_t i = begin; i < end; ++i) {
    if (tokens[i].kind == TokenKind::kLiteral) {
      run += tokens[i].c;
      continue;
    }
    flush();
    test.text += tokens[i].kind == TokenKind::kStar ? "(?s:.*)" : "(?s:.)";
  }
  flush();
  if (!trail) test.text += '$';
  return test;
}

std::string EscapeWildcards(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::string> WindashVariants(std::string_view value) {
  std::vector<std::string> variants = {std::string(value)};
  for (std::string_view dash : {"/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"}) {
    std::string variant;
    bool changed = false;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '-' && (i == 0 || value[i - 1] == ' ')) {
        variant += dash;
        changed = true;
      } else {
        variant += value[i];
      }
    }
    if (changed) variants.push_back(std::move(variant));
  }
  return variants;
}

std::vector<std::string> Base64OffsetVariants(std::string_view value) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto encode = [](std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t n = static_cast<uint8_t>(in[i]) << 16;
      if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
      if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
      out += kAlphabet[(n >> 18) & 63];
      out += kAlphabet[(n >> 12) & 63];
      out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
      out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
    }
    return out;
  };
  static constexpr size_t kStart[] = {0, 2, 3};
  static constexpr size_t kEndCut[] = {0, 3, 2};
  std::vector<std::string> variants;
  for (size_t offset = 0; offset < 3; ++offset) {
    const std::string encoded = encode(std::string(offset, ' ') + std::string(value));
    const size_t cut = kEndCut[(value.size() + offset) % 3];
    if (encoded.size() < kStart[offset] + cut) continue;
    std::string part = encoded.substr(kStart[offset], encoded.size() - kStart[offset] - cut);
    if (!part.empty()) variants.push_back(std::move(part));
  }
  return variants;
}

}  // namespace recorder::signals
