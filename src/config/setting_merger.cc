#include "config/setting_merger.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/json_text.h"

namespace recorder::config {
namespace {

using nlohmann::json;

constexpr int64_t kMiB = int64_t{1024} * 1024;

std::optional<int64_t> Combine(std::optional<int64_t> so_far, int64_t v, Merge merge) {
  if (!so_far || merge == Merge::kLast) return v;
  if (merge == Merge::kMax) return std::max(*so_far, v);
  if (merge == Merge::kMin) return std::min(*so_far, v);
  return v;
}

bool ParsePercent(std::string s, double* out) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  if (s.empty() || s.back() != '%') return false;
  s.pop_back();
  try {
    size_t used = 0;
    *out = std::stod(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

bool ParseSize(std::string s, int64_t* bytes) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(s, &used);
  } catch (...) {
    return false;
  }
  if (number < 0 || !std::isfinite(number)) return false;
  const std::string unit = CanonicalKey(s.substr(used));
  double scale = 0;
  if (unit.empty() || unit == "mb" || unit == "m" || unit == "mib") {
    scale = kMiB;
  } else if (unit == "kb" || unit == "k" || unit == "kib") {
    scale = 1024;
  } else if (unit == "gb" || unit == "g" || unit == "gib") {
    scale = 1024.0 * kMiB;
  } else if (unit == "b" || unit == "bytes") {
    scale = 1;
  } else {
    return false;
  }
  *bytes = static_cast<int64_t>(std::min(number * scale, 9e18));
  return true;
}

}  // namespace

std::string Where(const Occurrence& o) { return fmt::format("{}: {}", o.file, o.key); }

Merger::Merger(std::vector<std::string>* warnings,
               std::map<std::string, std::vector<std::string>>* sources)
    : warnings_(warnings), sources_(sources) {}

void Merger::Add(std::string canonical, Occurrence occurrence) {
  seen_[std::move(canonical)].push_back(std::move(occurrence));
}

// Each Take* consumes the occurrences of one setting (so whatever is
// left at the end is unknown) and returns the merged value, or nothing
// when no file set a usable value.
std::optional<int64_t> Merger::TakeInt(std::initializer_list<const char*> names, int64_t lo,
                                       int64_t hi, Merge merge) {
  std::optional<int64_t> result;
  for (const Occurrence& o : Take(names)) {
    std::optional<int64_t> v = AsInt(o);
    if (!v) continue;
    *v = Clamp(o, *v, lo, hi);
    result = Combine(result, *v, merge);
    Used(names, o, merge);
  }
  return result;
}

std::optional<bool> Merger::TakeBool(std::initializer_list<const char*> names, Merge merge) {
  std::optional<bool> result;
  for (const Occurrence& o : Take(names)) {
    std::optional<bool> v = AsBool(o);
    if (!v) continue;
    if (!result || merge == Merge::kLast) {
      result = *v;
    } else if (merge == Merge::kAllTrue) {
      result = *result && *v;
    }
    Used(names, o, merge);
  }
  return result;
}

std::optional<std::string> Merger::TakeString(std::initializer_list<const char*> names) {
  std::optional<std::string> result;
  for (const Occurrence& o : Take(names)) {
    if (!o.value.is_string()) {
      Warn("{}: expected a string, got {}; ignored", Where(o), o.value.dump());
      continue;
    }
    result = o.value.get<std::string>();
    Used(names, o, Merge::kLast);
  }
  return result;
}

std::optional<std::vector<std::string>> Merger::TakeStringList(
    std::initializer_list<const char*> names) {
  std::optional<std::vector<std::string>> result;
  for (const Occurrence& o : Take(names)) {
    std::vector<std::string> list;
    const json items = o.value.is_string() ? json::array({o.value}) : o.value;
    if (!items.is_array()) {
      Warn("{}: expected a list of paths, got {}; ignored", Where(o), o.value.dump());
      continue;
    }
    for (const json& item : items) {
      if (!item.is_string() || item.get<std::string>().empty() ||
          item.get<std::string>()[0] != '/') {
        Warn("{}: {} is not an absolute path; skipped", Where(o), item.dump());
        continue;
      }
      list.push_back(item.get<std::string>());
    }
    if (list.empty()) {
      Warn("{}: no usable path; ignored", Where(o));
      continue;
    }
    result = std::move(list);
    Used(names, o, Merge::kLast);
  }
  return result;
}

// cpuThreshold: a fraction (0.25), a percent string ("25%") or, with a
// warning, a number above 1 read as a percent.
std::optional<double> Merger::TakeFraction(std::initializer_list<const char*> names, double lo,
                                           double hi, Merge merge) {
  std::optional<double> result;
  for (const Occurrence& o : Take(names)) {
    double v = 0;
    if (o.value.is_number()) {
      v = o.value.get<double>();
      if (v > 1.0 && v <= 100.0) {
        Warn("{}: {} read as {}% (write fractions, e.g. 0.25 for 25%)", Where(o), o.value.dump(),
             v);
        v /= 100.0;
      }
    } else if (o.value.is_string() && ParsePercent(o.value.get<std::string>(), &v)) {
      v /= 100.0;
    } else {
      Warn("{}: expected a fraction like 0.25 or \"25%\", got {}; ignored", Where(o),
           o.value.dump());
      continue;
    }
    if (std::isnan(v) || v < lo || v > hi) {
      const double clamped = std::isnan(v) ? hi : std::clamp(v, lo, hi);
      Warn("{}: {} is outside {}..{}; using {}", Where(o), o.value.dump(), lo, hi, clamped);
      v = clamped;
    }
    if (!result || merge == Merge::kLast) {
      result = v;
    } else if (merge == Merge::kMin) {
      result = std::min(*result, v);
    } else if (merge == Merge::kMax) {
      result = std::max(*result, v);
    }
    Used(names, o, merge);
  }
  return result;
}

// logMaxSize: a number of MB, or a string with a unit ("10 MB", "512KB").
std::optional<int64_t> Merger::TakeSize(std::initializer_list<const char*> names, int64_t lo,
                                        int64_t hi, Merge merge) {
  std::optional<int64_t> result;
  for (const Occurrence& o : Take(names)) {
    int64_t bytes = 0;
    if (o.value.is_number()) {
      const double mb = o.value.get<double>();
      bytes = mb <= 0 ? 0 : static_cast<int64_t>(std::min(mb, 1e12) * kMiB);
    } else if (!o.value.is_string() || !ParseSize(o.value.get<std::string>(), &bytes)) {
      Warn("{}: expected a size like 10 or \"10 MB\", got {}; ignored", Where(o), o.value.dump());
      continue;
    }
    bytes = Clamp(o, bytes, lo, hi, " bytes");
    result = Combine(result, bytes, merge);
    Used(names, o, merge);
  }
  return result;
}

// Leftovers are keys nobody took: unknown, with the nearest known key.
void Merger::WarnUnknown() {
  for (const auto& [canonical, occurrences] : seen_)
    for (const Occurrence& o : occurrences)
      Warn("{}: unknown key; ignored{}", Where(o), DidYouMean(o.key, known_));
  seen_.clear();
}

std::vector<Occurrence> Merger::TakeRaw(const char* name) { return Take({name}); }

std::vector<Occurrence> Merger::Take(std::initializer_list<const char*> names) {
  // Occurrences of all aliases, back in file order (aliases can mix).
  std::vector<Occurrence> out;
  for (const char* name : names) {
    known_.emplace_back(name);
    auto it = seen_.find(CanonicalKey(name));
    if (it == seen_.end()) continue;
    for (Occurrence& o : it->second) out.push_back(std::move(o));
    seen_.erase(it);
  }
  std::stable_sort(out.begin(), out.end(), [this](const Occurrence& a, const Occurrence& b) {
    return FileRank(a.file) < FileRank(b.file);
  });
  return out;
}

std::optional<int64_t> Merger::AsInt(const Occurrence& o) {
  if (o.value.is_number_integer()) return o.value.get<int64_t>();
  if (o.value.is_boolean()) return o.value.get<bool>() ? 1 : 0;
  if (o.value.is_number_float()) {
    const double d = o.value.get<double>();
    if (std::isfinite(d)) {
      Warn("{}: {} is not a whole number; using {}", Where(o), o.value.dump(),
           static_cast<int64_t>(d));
      return static_cast<int64_t>(std::clamp(d, -9e18, 9e18));
    }
  }
  if (o.value.is_string()) {
    const std::string s = o.value.get<std::string>();
    int64_t v = 0;
    size_t used = 0;
    try {
      v = std::stoll(s, &used);
    } catch (...) {
      used = 0;
    }
    if (used > 0 && used == s.size()) return v;
  }
  Warn("{}: expected a number, got {}; ignored", Where(o), o.value.dump());
  return std::nullopt;
}

std::optional<bool> Merger::AsBool(const Occurrence& o) {
  if (o.value.is_boolean()) return o.value.get<bool>();
  if (o.value.is_number_integer()) {
    const int64_t v = o.value.get<int64_t>();
    if (v == 0 || v == 1) return v == 1;
  }
  if (o.value.is_string()) {
    const std::string s = CanonicalKey(o.value.get<std::string>());
    if (s == "true" || s == "yes" || s == "1" || s == "on") return true;
    if (s == "false" || s == "no" || s == "0" || s == "off") return false;
  }
  Warn("{}: expected true/false (or 1/0), got {}; ignored", Where(o), o.value.dump());
  return std::nullopt;
}

int64_t Merger::Clamp(const Occurrence& o, int64_t v, int64_t lo, int64_t hi, const char* unit) {
  if (v < lo) {
    Warn("{}: {}{} is below the minimum {}; using {}", Where(o), v, unit, lo, lo);
    return lo;
  }
  if (v > hi) {
    Warn("{}: {}{} is above the maximum {}; using {}", Where(o), v, unit, hi, hi);
    return hi;
  }
  return v;
}

// Records that `o` gave the setting named first in `names` its value:
// the last file for settings merged by "last", every file otherwise.
void Merger::Used(std::initializer_list<const char*> names, const Occurrence& o, Merge merge) {
  std::vector<std::string>& files = (*sources_)[*names.begin()];
  if (merge == Merge::kLast) files.clear();
  if (std::find(files.begin(), files.end(), o.file) == files.end()) files.push_back(o.file);
}

size_t Merger::FileRank(const std::string& file) const {
  auto it = std::find(file_order.begin(), file_order.end(), file);
  return static_cast<size_t>(it - file_order.begin());
}

}  // namespace recorder::config
