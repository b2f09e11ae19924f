#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/normalizer_internal.h"
#include "parse/field_values.h"

namespace recorder {

// (uid_t)-1 in a record's decimal id fields means "unset".
int64_t ParseId(std::string_view text) {
  auto v = ParseInt<int64_t>(text);
  if (!v || *v < 0 || *v == 4294967295LL) return kUnsetId;
  return *v;
}

// Syscall arguments aN are register values in hex.
std::optional<uint64_t> HexArg(const AuditRecord& r, std::string_view name) {
  return ParseInt<uint64_t>(r.Value(name), 16);
}

// Text of a field whose "?" or "(none)" means absent. Written into *out
// (overwritten) so that an event's string keeps its capacity.
void OptionalText(const AuditField* f, std::string* out) {
  if (f == nullptr || f->spelling == ValueSpelling::kUnset || f->spelling == ValueSpelling::kNull) {
    out->clear();
    return;
  }
  out->assign(f->value);
}
void OptionalText(const AuditRecord& r, std::string_view name, std::string* out) {
  OptionalText(r.Find(name), out);
}

// Decodes into *out (overwritten) so a moved-into string is filled in place.
void DecodedText(const AuditField* f, std::string* out) {
  if (f == nullptr || f->spelling == ValueSpelling::kUnset || f->spelling == ValueSpelling::kNull) {
    out->clear();
    return;
  }
  DecodeUntrusted(*f, out);
}
void DecodedText(const AuditRecord& r, std::string_view name, std::string* out) {
  DecodedText(r.Find(name), out);
}

// key= is quoted for one key, hex with 0x01 between keys for several,
// or (null) when the rule had none.
void DecodeKey(const AuditField* f, std::string* out) {
  out->clear();
  if (f == nullptr || f->spelling == ValueSpelling::kNull || f->spelling == ValueSpelling::kUnset)
    return;
  if (f->spelling == ValueSpelling::kBare && AppendHexDecoded(f->value, out)) {
    std::replace(out->begin(), out->end(), '\x01', ',');
    return;
  }
  out->assign(f->value);
  if (*out == "(null)") out->clear();
}

// Lexical normalization of an absolute path: "." and empty components
// dropped, ".." removes the previous one (symlinks are not consulted: the
// log may come from another machine).
void LexicallyNormal(std::string_view path, std::string* out_text) {
  std::string& out = *out_text;  // never `path`'s own buffer
  out.clear();
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    i = end;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      size_t slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
      continue;
    }
    out.push_back('/');
    out.append(part);
  }
  if (out.empty()) out = "/";
}

// `name` made absolute against `base` (a directory) into *out; a relative
// name with no base is kept as logged. `joined` is scratch; none of the
// strings may share a buffer with another.
void ResolvePath(std::string_view name, std::string_view base, std::string* joined,
                 std::string* out) {
  if (!name.empty() && name[0] == '/') {
    LexicallyNormal(name, out);
    return;
  }
  if (base.empty() || base[0] != '/' || name.empty()) {
    out->assign(name);
    return;
  }
  joined->clear();
  joined->append(base).push_back('/');
  joined->append(name);
  LexicallyNormal(*joined, out);
}

void FillHeader(const AuditEvent& event, EventHeader* h) {
  h->node.assign(event.node());
  h->serial = event.serial();
  h->time_ms = event.time_ms();
}

// The acting user as a security event shows it: auditd's ENRICHED name
// when the log has one, else the number.
std::string ActingUser(const AuditRecord& r, int64_t uid) {
  if (const AuditField* f = r.FindInterpreted("UID"); f != nullptr && !f->value.empty())
    return std::string(f->value);
  return uid == kUnsetId ? std::string() : std::to_string(uid);
}

}  // namespace recorder
