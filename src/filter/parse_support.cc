#include "filter/parse_support.h"

#include <re2/re2.h>

#include "util/json_text.h"

namespace recorder::filter::parse {

using nlohmann::json;

bool IsOneOf(const std::string& canonical, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (canonical == CanonicalKey(name)) return true;
  return false;
}

std::string Dump(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

bool ValidRegex(const std::string& pattern, bool case_insensitive, std::string* error) {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_case_sensitive(!case_insensitive);
  options.set_log_errors(false);
  RE2 re(pattern, options);
  if (!re.ok()) *error = re.error();
  return re.ok();
}

// One rule's value parsing. `where` is the rule's place for messages;
// errors say the field too.
}  // namespace recorder::filter::parse
