// Pattern syntax shared by the parser and the matchers: globs as RE2
// regexes, addresses and CIDR blocks.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "filter/filter_parser.h"

namespace recorder::filter {
namespace {

// One literal byte in RE2 syntax (readable: only metacharacters escaped).
void AppendLiteral(char c, std::string* out) {
  static constexpr std::string_view kMeta = "\\.^$|?*+()[]{}";
  if (c == '\0') {
    *out += "\\x00";
    return;
  }
  if (kMeta.find(c) != std::string_view::npos) *out += '\\';
  *out += c;
}

}  // namespace

std::string GlobToRegex(std::string_view glob, bool path_semantics) {
  std::string out = "^";
  for (size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '*') {
      if (i + 1 < glob.size() && glob[i + 1] == '*') {
        ++i;
        // "a/**/b" also matches "a/b".
        if (path_semantics && i + 1 < glob.size() && glob[i + 1] == '/') {
          ++i;
          out += "(?:.*/)?";
        } else {
          out += ".*";
        }
      } else {
        out += path_semantics ? "[^/]*" : ".*";
      }
    } else if (c == '?') {
      out += path_semantics ? "[^/]" : ".";
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
      if (j < glob.size() && glob[j] == ']') ++j;
      while (j < glob.size() && glob[j] != ']') ++j;
      if (j >= glob.size()) {
        out += "\\[";
        continue;
      }
      std::string_view body = glob.substr(i + 1, j - i - 1);
      out += '[';
      if (!body.empty() && (body[0] == '!' || body[0] == '^')) {
        out += '^';
        if (path_semantics) out += '/';
        body.remove_prefix(1);
      }
      for (char b : body) {
        if (b == '\\' || b == '[') out += '\\';
        out += b;
      }
      out += ']';
      i = j;
    } else if (c == '\\' && i + 1 < glob.size()) {
      AppendLiteral(glob[++i], &out);
    } else {
      AppendLiteral(c, &out);
    }
  }
  out += '$';
  return out;
}

std::optional<Cidr> ParseCidr(std::string_view text, bool* host_bits) {
  Cidr cidr;
  std::string address(text);
  int prefix = -1;
  if (size_t slash = address.find('/'); slash != std::string::npos) {
    const std::string_view digits = std::string_view(address).substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
      return std::nullopt;
    address.resize(slash);
  }
  if (inet_pton(AF_INET, address.c_str(), cidr.bytes.data()) == 1) {
    cidr.v6 = false;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, address.c_str(), cidr.bytes.data()) == 1) {
    cidr.v6 = true;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  cidr.prefix = prefix;
  bool cleared = false;
  const int width = cidr.v6 ? 16 : 4;
  for (int i = 0; i < width; ++i) {
    const int keep = std::clamp(prefix - i * 8, 0, 8);
    const auto mask = static_cast<uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
    if (cidr.bytes[i] & ~mask) cleared = true;
    cidr.bytes[i] &= mask;
  }
  if (host_bits != nullptr) *host_bits = cleared;
  return cidr;
}

}  // namespace recorder::filter
