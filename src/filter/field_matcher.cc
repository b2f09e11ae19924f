#include "filter/field_matcher.h"

#include <arpa/inet.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cstring>

#include "filter/filter_parser.h"

namespace recorder::filter {
namespace {

// The set's DFA gets this much; past it RE2 reports out-of-memory and the
// regexes are tried one by one (slower, still correct).
constexpr int64_t kRegexSetMemory = 64 << 20;

RE2::Options RegexOptions() {
  RE2::Options options;
  // Bytes, not UTF-8: paths and command lines need not be valid UTF-8,
  // and a pattern's UTF-8 text still matches the same bytes.
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_log_errors(false);
  options.set_max_mem(kRegexSetMemory);
  return options;
}

// The literal text every match must start with, or "" when there is none
// to be sure of. Globs are anchored; a regex only with a leading '^' and
// no alternation; a literal followed by a quantifier does not count.
std::string RequiredPrefix(const std::string& text, bool glob) {
  std::string_view rest = text;
  if (!glob) {
    if (rest.empty() || rest[0] != '^' || rest.find('|') != std::string_view::npos) return "";
    rest.remove_prefix(1);
  }
  static constexpr std::string_view kGlobSpecial = "*?[\\";
  static constexpr std::string_view kRegexSpecial = "\\.[](){}*+?|^$";
  const std::string_view special = glob ? kGlobSpecial : kRegexSpecial;
  size_t n = 0;
  while (n < rest.size() && special.find(rest[n]) == std::string_view::npos) ++n;
  if (!glob && n < rest.size() && (rest[n] == '*' || rest[n] == '?' || rest[n] == '{') && n > 0)
    --n;
  return std::string(rest.substr(0, n));
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

}  // namespace

struct RegexSet {
  RegexSet() : set(RegexOptions(), RE2::UNANCHORED) {}
  RE2::Set set;
  // The same regexes one by one, for when the set's DFA runs out of memory.
  std::vector<std::unique_ptr<RE2>> each;
};

bool ParseAddress(std::string_view text, std::array<uint8_t, 16>* bytes, bool* v6) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  bytes->fill(0);
  if (inet_pton(AF_INET, buffer, bytes->data()) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buffer, bytes->data()) != 1) return false;
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d (a dual-stack socket).
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes->data(), kMapped, sizeof(kMapped)) == 0) {
    std::memmove(bytes->data(), bytes->data() + 12, 4);
    std::fill(bytes->begin() + 4, bytes->end(), 0);
    *v6 = false;
    return true;
  }
  *v6 = true;
  return true;
}

size_t FieldMatcher::NetKeyHash::operator()(const NetKey& k) const {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, k.bytes.data(), 8);
  std::memcpy(&b, k.bytes.data() + 8, 8);
  return std::hash<uint64_t>{}(a * 0x9e3779b97f4a7c15ULL ^ b ^ (uint64_t{k.prefix} << 1 | k.v6));
}

FieldMatcher::FieldMatcher(Field field, FieldKind kind) : field_(field), kind_(kind) {}
FieldMatcher::~FieldMatcher() = default;
FieldMatcher::FieldMatcher(FieldMatcher&&) noexcept = default;
// clang-tidy reports the standard library's own names (__i0) inside the
// defaulted member as ours.
// NOLINTNEXTLINE(bugprone-reserved-identifier)
FieldMatcher& FieldMatcher::operator=(FieldMatcher&&) noexcept = default;

void FieldMatcher::Add(const Pattern& p, uint32_t condition) {
  switch (p.op) {
    case Operator::kEquals:
      if (kind_ == FieldKind::kBool) {
        (p.flag ? bool_true_ : bool_false_).push_back(condition);
      } else {
        if (p.case_insensitive) {
          equals_ci_[Lower(p.text)].push_back(condition);
        } else {
          equals_[p.text].push_back(condition);
        }
        if (equals_length_.size() <= p.text.size()) equals_length_.resize(p.text.size() + 1);
        equals_length_[p.text.size()] = 1;
      }
      break;
    case Operator::kContains:
    case Operator::kStartsWith:
    case Operator::kEndsWith: {
      const int mode = p.op == Operator::kContains ? 0 : p.op == Operator::kStartsWith ? 1 : 2;
      pending_[mode][p.case_insensitive].push_back(
          {p.case_insensitive ? Lower(p.text) : p.text,
           static_cast<uint32_t>(literal_condition_.size())});
      literal_condition_.push_back(condition);
      break;
    }
    case Operator::kGlob:
    case Operator::kRegex: {
      const std::string prefix = RequiredPrefix(p.text, p.op == Operator::kGlob);
      if (prefix.empty()) {
        regex_prefilter_usable_ = false;
      } else {
        regex_prefixes_[p.case_insensitive].push_back(
            {p.case_insensitive ? Lower(prefix) : prefix, 0});
      }
      std::string source =
          p.op == Operator::kGlob ? GlobToRegex(p.text, kind_ == FieldKind::kPath) : p.text;
      if (p.case_insensitive) source = "(?i)" + source;
      regex_sources_.push_back(std::move(source));
      regex_condition_.push_back(condition);
      break;
    }
    case Operator::kRange:
      ranges_.push_back({p.lo, p.hi, condition});
      break;
    case Operator::kCidr: {
      NetKey key{};
      key.bytes = p.cidr.bytes;
      key.prefix = static_cast<uint8_t>(p.cidr.prefix);
      key.v6 = p.cidr.v6;
      nets_[key].push_back(condition);
      std::vector<uint8_t>& lengths = prefixes_[p.cidr.v6];
      if (std::find(lengths.begin(), lengths.end(), key.prefix) == lengths.end()) {
        lengths.push_back(key.prefix);
        std::sort(lengths.rbegin(), lengths.rend());
      }
      break;
    }
  }
}

Status FieldMatcher::Finish() {
  static constexpr AhoCorasick::Mode kModes[] = {
      AhoCorasick::Mode::kAnywhere, AhoCorasick::Mode::kPrefix, AhoCorasick::Mode::kSuffix};
  for (int mode = 0; mode < 3; ++mode) {
    for (int ci = 0; ci < 2; ++ci) {
      std::vector<AhoCorasick::PatternInput>& pending = pending_[mode][ci];
      if (pending.empty()) continue;
      Result<AhoCorasick> built = AhoCorasick::Build(pending, ci == 1, kModes[mode]);
      if (!built.ok()) return built.status();
      substrings_[mode][ci] = std::move(built).value();
      pending.clear();
      pending.shrink_to_fit();
    }
  }

  if (!regex_sources_.empty()) {
    regex_set_ = std::make_unique<RegexSet>();
    for (const std::string& source : regex_sources_) {
      std::string error;
      if (regex_set_->set.Add(source, &error) < 0)
        return Status::Errorf("regex \"{}\": {}", source, error);
      regex_set_->each.push_back(std::make_unique<RE2>(source, RegexOptions()));
    }
    if (!regex_set_->set.Compile())
      return Status::Error("the regexes do not fit in memory together");
    for (int ci = 0; ci < 2 && regex_prefilter_usable_; ++ci) {
      if (regex_prefixes_[ci].empty()) continue;
      Result<AhoCorasick> built =
          AhoCorasick::Build(regex_prefixes_[ci], ci == 1, AhoCorasick::Mode::kPrefix);
      if (!built.ok()) return built.status();
      regex_prefilter_[ci] = std::move(built).value();
    }
    regex_prefixes_[0].clear();
    regex_prefixes_[1].clear();
  }

  if (!ranges_.empty()) {
    // Elementary segments between every range boundary, each with the
    // conditions whose range covers it.
    std::vector<int64_t> points;
    for (const auto& r : ranges_) {
      points.push_back(r[0]);
      if (r[1] < INT64_MAX) points.push_back(r[1] + 1);
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    starts_ = points;
    segment_conditions_.assign(points.size(), {});
    for (const auto& r : ranges_) {
      auto first = std::lower_bound(starts_.begin(), starts_.end(), r[0]);
      for (auto it = first; it != starts_.end() && *it <= r[1]; ++it)
        segment_conditions_[static_cast<size_t>(it - starts_.begin())].push_back(
            static_cast<uint32_t>(r[2]));
    }
    ranges_.clear();
  }
  return Status::Ok();
}

bool FieldMatcher::RegexHits(std::string_view value, MatchBuffers* buffers) const {
  std::vector<int>& hits = buffers->regex_hits;
  hits.clear();
  if (regex_prefilter_usable_) {
    bool may_match = false;
    for (const AhoCorasick& prefixes : regex_prefilter_)
      prefixes.Scan(value, [&](uint32_t, uint32_t, size_t) { may_match = true; });
    if (!may_match) return false;
  }
  const re2::StringPiece text(value.data(), value.size());
  RE2::Set::ErrorInfo info{};
  // Asking which regexes matched costs an allocation in RE2; most values
  // match none, so ask first whether any did.
  if (!regex_set_->set.Match(text, nullptr, &info) && info.kind == RE2::Set::kNoError) return false;
  if (info.kind == RE2::Set::kNoError && regex_set_->set.Match(text, &hits, &info)) return true;
  if (info.kind == RE2::Set::kNoError) return false;
  // The set's DFA ran out of memory: one by one (slower, still right).
  hits.clear();
  for (size_t i = 0; i < regex_set_->each.size(); ++i)
    if (RE2::PartialMatch(text, *regex_set_->each[i])) hits.push_back(static_cast<int>(i));
  return !hits.empty();
}

}  // namespace recorder::filter
