// How the values one setting has in several configuration files become
// one (recorder.json and every *_recorder.json; the manual's "Managing
// configurations across modules"). Each file's keys are added; then each
// setting is taken by its names (aliases), with its bounds and merge rule.
// A value of the wrong kind is warned about and skipped, one out of
// bounds is clamped with a warning, and the keys nobody took are warned
// about as unknown, with the nearest known name. Used by LoadConfig.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace recorder::config {

// How values for one key from several files become one value (the
// manual's table; kLast for the rest).
enum class Merge { kLast, kMax, kMin, kAllTrue };

// One key as found in one file.
struct Occurrence {
  std::string file;
  std::string key;  // as spelled in the file, for messages
  nlohmann::json value;
};

// "file: key", the start of every message about an occurrence.
std::string Where(const Occurrence& o);

class Merger {
 public:
  // Warnings are appended to `warnings`. `sources`: for each setting (by
  // its first name), the files whose values it took; see
  // LoadedConfig::sources.
  Merger(std::vector<std::string>* warnings,
         std::map<std::string, std::vector<std::string>>* sources);

  // One file's key, under its canonical spelling (CanonicalKey).
  void Add(std::string canonical, Occurrence occurrence);

  // Each Take* consumes the occurrences of one setting (so whatever is
  // left at the end is unknown) and returns the merged value, or nothing
  // when no file set a usable value.
  std::optional<int64_t> TakeInt(std::initializer_list<const char*> names, int64_t lo, int64_t hi,
                                 Merge merge);
  std::optional<bool> TakeBool(std::initializer_list<const char*> names, Merge merge);
  std::optional<std::string> TakeString(std::initializer_list<const char*> names);
  // Absolute paths: one, or a list.
  std::optional<std::vector<std::string>> TakeStringList(std::initializer_list<const char*> names);
  // A fraction (0.25), a percent string ("25%") or, with a warning, a
  // number above 1 read as a percent.
  std::optional<double> TakeFraction(std::initializer_list<const char*> names, double lo, double hi,
                                     Merge merge);
  // Bytes: a number of MB, or a string with a unit ("10 MB", "512KB").
  std::optional<int64_t> TakeSize(std::initializer_list<const char*> names, int64_t lo, int64_t hi,
                                  Merge merge);
  // The occurrences of one key, whatever their values.
  std::vector<Occurrence> TakeRaw(const char* name);

  // Leftovers are keys nobody took: unknown, with the nearest known key.
  void WarnUnknown();

  template <typename... Args>
  void Warn(fmt::format_string<Args...> format, Args&&... args) {
    warnings_->push_back(fmt::format(format, std::forward<Args>(args)...));
  }

  // The files in the order their values apply (the last one wins a kLast
  // setting).
  std::vector<std::string> file_order;

 private:
  // The occurrences of all of `names` (aliases can mix), in file order.
  std::vector<Occurrence> Take(std::initializer_list<const char*> names);
  size_t FileRank(const std::string& file) const;
  std::optional<int64_t> AsInt(const Occurrence& o);
  std::optional<bool> AsBool(const Occurrence& o);
  int64_t Clamp(const Occurrence& o, int64_t v, int64_t lo, int64_t hi, const char* unit = "");
  // Records that `o` gave the setting named first in `names` its value:
  // the last file for settings merged by "last", every file otherwise.
  void Used(std::initializer_list<const char*> names, const Occurrence& o, Merge merge);

  std::vector<std::string>* warnings_;
  std::map<std::string, std::vector<std::string>>* sources_;
  std::map<std::string, std::vector<Occurrence>> seen_;
  std::vector<std::string> known_;  // every name a Take* asked for
};

}  // namespace recorder::config
