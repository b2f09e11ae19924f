#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "normalize/normalizer_internal.h"
#include "parse/field_values.h"

// Process starts (execve with its argv), failed execs, and privilege
// changes (set*id calls, setuid execs).
namespace recorder {
namespace {

// Splits "a12", "a12_len", "a12[3]" into (index, chunk or -1, is_len).
struct ArgName {
  uint32_t index = 0;
  int32_t chunk = -1;
  bool is_len = false;
};
std::optional<ArgName> ParseArgName(std::string_view name) {
  if (name.size() < 2 || name[0] != 'a') return std::nullopt;
  size_t i = 1;
  uint64_t index = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    index = index * 10 + static_cast<uint64_t>(name[i] - '0');
    if (index > kMaxArgs) return std::nullopt;
    ++i;
  }
  if (i == 1) return std::nullopt;
  ArgName out;
  out.index = static_cast<uint32_t>(index);
  std::string_view rest = name.substr(i);
  if (rest.empty()) return out;
  if (rest == "_len") {
    out.is_len = true;
    return out;
  }
  if (rest.size() >= 3 && rest.front() == '[' && rest.back() == ']') {
    auto chunk = ParseInt<int32_t>(rest.substr(1, rest.size() - 2));
    if (!chunk || *chunk < 0) return std::nullopt;
    out.chunk = *chunk;
    return out;
  }
  return std::nullopt;
}

}  // namespace

void Normalizer::State::ProcessStartEvent(const AuditEvent& event, const AuditRecord& sys,
                                          EventBatch* out) {
  const size_t base_index = out->size() - 1;
  ProcessStart& p = ResetBody<ProcessStart>(&out->back().body);
  const AuditRecord* proctitle_record = nullptr;
  bool have_execve = false;
  int64_t argc = -1;
  whole_args.clear();
  arg_lens.clear();
  chunks.clear();
  uint32_t max_index_plus_one = 0;

  for (const AuditRecord& r : event.records()) {
    if (r.type == audit_type::kCwd) {
      if (p.cwd.empty()) DecodedText(r, "cwd", &p.cwd);
      continue;
    }
    if (r.type == audit_type::kProctitle) {
      proctitle_record = &r;
      continue;
    }
    if (r.type == audit_type::kPath) {
      if (want_exec_name && exec_name.empty()) {
        // The first item is the file execve was given (a script's
        // interpreter comes after it).
        const AuditField* name = r.Find("name");
        if (name != nullptr && name->spelling != ValueSpelling::kNull) {
          DecodeUntrusted(*name, &exec_path);
          exec_name = LastPathComponent(exec_path);
        }
      }
      continue;
    }
    if (r.type != audit_type::kExecve) continue;
    have_execve = true;
    // The kernel writes a0, a1, ... in order and splits long ones as
    // aN_len, aN[0], aN[1]...; records may be split anywhere between
    // fields. Index everything by number so order never depends on text.
    for (const AuditField& f : r.fields) {
      if (f.interpreted) continue;
      if (f.name == "argc") {
        if (argc < 0) argc = ParseInt<int64_t>(f.value).value_or(-1);
        continue;
      }
      auto an = ParseArgName(f.name);
      if (!an) continue;
      if (an->index + 1 > max_index_plus_one) max_index_plus_one = an->index + 1;
      if (whole_args.size() <= an->index) {
        whole_args.resize(an->index + 1, nullptr);
        arg_lens.resize(an->index + 1, -1);
      }
      if (an->is_len) {
        arg_lens[an->index] = ParseInt<int64_t>(f.value).value_or(-1);
      } else if (an->chunk >= 0) {
        chunks.push_back({an->index, an->chunk, &f});
      } else {
        whole_args[an->index] = &f;
      }
    }
  }

  if (proctitle_record != nullptr) {
    DecodedText(*proctitle_record, "proctitle", &p.proctitle);
  }

  if (have_execve) {
    std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) {
      return a.arg != b.arg ? a.arg < b.arg : a.chunk < b.chunk;
    });
    const size_t count =
        argc >= 0 ? static_cast<size_t>(std::min<int64_t>(argc, kMaxArgs)) : max_index_plus_one;
    if (argc < 0) p.argv_truncated = true;
    p.argc = argc >= 0 ? argc : static_cast<int64_t>(max_index_plus_one);
    if (argc > static_cast<int64_t>(kMaxArgs)) p.argv_truncated = true;
    p.argv.reserve(std::min(count, whole_args.size()));
    size_t next_chunk = 0;
    for (size_t i = 0; i < count; ++i) {
      if (i >= whole_args.size()) {
        p.argv_truncated = true;  // argc promised more than the records hold
        break;
      }
      while (next_chunk < chunks.size() && chunks[next_chunk].arg < i) ++next_chunk;
      if (next_chunk < chunks.size() && chunks[next_chunk].arg == i) {
        std::string joined;
        bool hex = true;
        int32_t expect = 0;
        for (; next_chunk < chunks.size() && chunks[next_chunk].arg == i; ++next_chunk) {
          const Chunk& c = chunks[next_chunk];
          if (c.chunk != expect) p.argv_truncated = true;  // a chunk is missing
          expect = c.chunk + 1;
          if (!(c.field->spelling == ValueSpelling::kBare && IsHexText(c.field->value)))
            hex = false;
          DecodeUntrusted(*c.field, &decoded);
          joined.append(decoded);
        }
        // aN_len counts the argument's bytes, or (for an argument the
        // kernel hex-encoded into a record's remaining room) its hex digits.
        const int64_t len = arg_lens[i];
        const auto size = static_cast<int64_t>(joined.size());
        if (len < 0 || !(len == size || (hex && len == 2 * size))) p.argv_truncated = true;
        p.argv.push_back(std::move(joined));
      } else if (whole_args[i] != nullptr) {
        p.argv.push_back(DecodeUntrusted(*whole_args[i]));
      } else {
        p.argv_truncated = true;  // a lost record: keep the rest in order
      }
    }
  } else if (!p.proctitle.empty()) {
    // No EXECVE record (it was lost, or filtered): PROCTITLE is read at
    // syscall exit, after the exec, so it is the new program's command
    // line, NUL-separated and cut at 128 bytes.
    std::string_view title = p.proctitle;
    const bool at_limit = title.size() >= kProctitleLimit;
    if (!title.empty() && title.back() == '\0') title.remove_suffix(1);
    size_t start = 0;
    while (start <= title.size()) {
      size_t nul = title.find('\0', start);
      if (nul == std::string_view::npos) nul = title.size();
      p.argv.emplace_back(title.substr(start, nul - start));
      start = nul + 1;
    }
    p.argv_truncated = at_limit;
    p.argc = static_cast<int64_t>(p.argv.size());
  } else {
    p.argv_truncated = true;  // neither record: argv is unknown
  }
  // The stored proctitle reads like a command line.
  while (!p.proctitle.empty() && p.proctitle.back() == '\0') p.proctitle.pop_back();
  std::replace(p.proctitle.begin(), p.proctitle.end(), '\0', ' ');

  const TypedEvent& exec = out->back();
  const bool setuid_exec = exec.subject.uid != kUnsetId && exec.subject.euid != kUnsetId &&
                           exec.subject.euid != exec.subject.uid;
  if (!setuid_exec) return;
  // A set-user-ID program ran: the exec itself raised (or changed) the
  // effective user. (Add() may move the batch: the exec is re-read by index.)
  TypedEvent& privilege = out->Add();
  privilege.header = (*out)[base_index].header;
  privilege.subject = (*out)[base_index].subject;
  SecurityEvent& s = ResetBody<SecurityEvent>(&privilege.body);
  s.kind = SecurityKind::kPrivilegeChange;
  s.record_type = SecurityRecordType::kSyscall;
  s.user = ActingUser(sys, privilege.subject.uid);
  s.target_user = std::to_string(privilege.subject.euid);
  s.result = SecurityResult::kSuccess;
  s.terminal = privilege.subject.tty;
  s.detail = fmt::format("setuid exec {}", privilege.subject.exe);
}

// The program is the file execve was given: its PATH item (the kernel
// writes one even when the lookup failed), made absolute against the cwd.
// A relative name given to execveat with a directory fd is resolved
// against the cwd too (audit does not log the fd's path).
void Normalizer::State::ExecFailureEvent(const AuditEvent& event, TypedEvent& base) {
  ExecFailure& f = ResetBody<ExecFailure>(&base.body);
  const int64_t exit = base.header.exit;
  f.error = exit < 0 && exit >= -4095 ? static_cast<int32_t>(-exit) : 0;
  const AuditField* item = nullptr;
  for (const AuditRecord& r : event.records()) {
    if (r.type == audit_type::kCwd) {
      if (f.cwd.empty()) DecodedText(r, "cwd", &f.cwd);
    } else if (r.type == audit_type::kPath && item == nullptr) {
      item = r.Find("name");
      if (item != nullptr && item->spelling == ValueSpelling::kNull) item = nullptr;
    }
  }
  if (item == nullptr) return;
  DecodeUntrusted(*item, &item_text);
  ResolvePath(item_text, f.cwd, &path_scratch, &f.path);
}

void Normalizer::State::PrivilegeEventFor(const AuditRecord& sys, SyscallClass klass,
                                          std::string_view name, const uint64_t* args,
                                          TypedEvent& base) {
  using C = SyscallClass;
  // The id the call moves to: the effective one where there are several
  // (setre*id: effective a1; setres*id: effective a1), falling back to
  // the others when it is left unchanged (-1).
  int count = 1;
  uint64_t target = args[0];
  switch (klass) {
    case C::kSetreuid:
    case C::kSetregid:
      count = 2;
      target = !IsUnchangedId(args[1]) ? args[1] : args[0];
      break;
    case C::kSetresuid:
    case C::kSetresgid:
      count = 3;
      target = !IsUnchangedId(args[1]) ? args[1] : !IsUnchangedId(args[0]) ? args[0] : args[2];
      break;
    default:
      break;
  }
  SecurityEvent& s = ResetBody<SecurityEvent>(&base.body);
  s.kind = SecurityKind::kPrivilegeChange;
  s.record_type = SecurityRecordType::kSyscall;
  s.user = ActingUser(sys, base.subject.uid);
  s.target_user = IsUnchangedId(target) ? std::string() : std::to_string(IntArg(target));
  s.result = base.header.success ? SecurityResult::kSuccess : SecurityResult::kFailed;
  s.terminal = base.subject.tty;
  std::string& detail = s.detail;
  detail.assign(name);
  detail.push_back('(');
  for (int i = 0; i < count; ++i) {
    if (i > 0) detail.push_back(',');
    fmt::format_to(std::back_inserter(detail), "{}", IntArg(args[i]));
  }
  detail.push_back(')');
}

}  // namespace recorder
