#include "util/json_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace recorder {

std::string CanonicalKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '_' || c == '-') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string OffsetToLineCol(std::string_view text, size_t byte_offset) {
  // nlohmann's byte is 1-based and may point one past the end at EOF.
  const size_t end = std::min(byte_offset == 0 ? 0 : byte_offset - 1, text.size());
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return fmt::format("{}:{}", line, end - line_start + 1);
}

Result<nlohmann::json> ParseJsonText(std::string_view name, std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's message carries "[json.exception...] parse error at line
    // L, column C: ..." on new versions only; keep the part after it.
    std::string what = e.what();
    if (size_t at = what.find("syntax error"); at != std::string::npos) what = what.substr(at);
    return Status::Errorf("{}:{}: invalid JSON: {}", name, OffsetToLineCol(text, e.byte), what);
  } catch (const nlohmann::json::exception& e) {
    // A number too large for a double ("number overflow parsing '1E999'")
    // is not a parse_error and carries no offset: find the quoted token.
    std::string what = e.what();
    if (size_t at = what.find("] "); at != std::string::npos) what = what.substr(at + 2);
    size_t offset = 0;
    const size_t open = what.find('\'');
    const size_t close = open == std::string::npos ? open : what.find('\'', open + 1);
    if (close != std::string::npos && close > open + 1) {
      const size_t found = text.find(what.substr(open + 1, close - open - 1));
      if (found != std::string_view::npos) offset = found + 1;
    }
    return Status::Errorf("{}:{}: invalid JSON: {}", name,
                          offset ? OffsetToLineCol(text, offset) : std::string("1:1"), what);
  }
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string NearestKey(std::string_view key, const std::vector<std::string>& candidates) {
  const std::string wanted = CanonicalKey(key);
  if (wanted.empty()) return "";
  // A typo changes a few letters: allow one edit per three characters
  // (at least two), so "exlude" finds "exclude" but "size" finds nothing.
  const size_t limit = std::max<size_t>(2, wanted.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t d = EditDistance(wanted, CanonicalKey(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view key, const std::vector<std::string>& candidates) {
  std::string nearest = NearestKey(key, candidates);
  return nearest.empty() ? std::string() : fmt::format(" (did you mean \"{}\"?)", nearest);
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Errorf("{}: cannot read: {}", path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::Errorf("{}: read error", path);
  return text.str();
}

}  // namespace recorder
