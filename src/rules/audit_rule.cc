#include "rules/audit_rule.h"

#include <fmt/format.h>
#include <libaudit.h>
#include <linux/audit.h>

#include <cstring>
#include <mutex>

// libaudit's rule builder keeps per-rule parse state in process globals
// (auditctl resets them between rules). They are exported but not in the
// public header; we reset them the same way, under a mutex.
extern "C" {
extern int _audit_permadded;
extern int _audit_archadded;
extern int _audit_syscalladded;
extern int _audit_exeadded;
extern int _audit_filterfsadded;
extern unsigned int _audit_elf;
}

namespace recorder::rules {
namespace {

std::mutex g_builder_mutex;

void ResetBuilderGlobals() {
  _audit_permadded = 0;
  _audit_archadded = 0;
  _audit_syscalladded = 0;
  _audit_exeadded = 0;
  _audit_filterfsadded = 0;
  _audit_elf = 0;
}

// Fields whose value lives in buf (values[i] is then the string length);
// the same set as the kernel's audit_krule_to_data().
bool IsStringField(uint32_t field) {
  return (field >= AUDIT_SUBJ_USER && field <= AUDIT_OBJ_LEV_HIGH) || field == AUDIT_WATCH ||
         field == AUDIT_DIR || field == AUDIT_FILTERKEY || field == AUDIT_EXE;
}

const audit_rule_data* View(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < sizeof(audit_rule_data)) return nullptr;
  return reinterpret_cast<const audit_rule_data*>(bytes.data());
}

int ListNumber(std::string_view list) {
  if (list == "exit") return AUDIT_FILTER_EXIT;
  if (list == "user") return AUDIT_FILTER_USER;
  if (list == "exclude") return AUDIT_FILTER_EXCLUDE;
  if (list == "filesystem") return AUDIT_FILTER_FS;
  if (list == "task") return AUDIT_FILTER_TASK;
  return -1;
}

int ActionNumber(std::string_view action) {
  if (action == "always") return AUDIT_ALWAYS;
  if (action == "never") return AUDIT_NEVER;
  return -1;
}

}  // namespace

std::string RuleSpec::ToAuditctl() const {
  std::string out = fmt::format("-a {},{}", action, list);
  if (!arch.empty()) out += fmt::format(" -F arch={}", arch);
  for (const std::string& name : syscalls) out += fmt::format(" -S {}", name);
  for (const std::string& field : fields) out += fmt::format(" -F {}", field);
  if (!key.empty()) out += fmt::format(" -k {}", key);
  return out;
}

uint32_t KernelRule::list() const {
  const audit_rule_data* data = View(bytes_);
  return data == nullptr ? 0 : (data->flags & ~AUDIT_FILTER_PREPEND);
}

uint32_t KernelRule::action() const {
  const audit_rule_data* data = View(bytes_);
  return data == nullptr ? 0 : data->action;
}

std::vector<std::string> KernelRule::Keys() const {
  std::vector<std::string> keys;
  const audit_rule_data* data = View(bytes_);
  if (data == nullptr) return keys;
  const size_t buf_size = bytes_.size() - sizeof(audit_rule_data);
  size_t offset = 0;
  for (uint32_t i = 0; i < data->field_count && i < AUDIT_MAX_FIELDS; ++i) {
    if (!IsStringField(data->fields[i])) continue;
    const size_t length = data->values[i];
    if (offset + length > buf_size) break;  // malformed: stop, never read past
    if (data->fields[i] == AUDIT_FILTERKEY) {
      std::string_view all(data->buf + offset, length);
      // Several keys are joined with AUDIT_KEY_SEPARATOR (\x01).
      size_t start = 0;
      while (start <= all.size()) {
        size_t end = all.find('\x01', start);
        if (end == std::string_view::npos) end = all.size();
        if (end > start) keys.emplace_back(all.substr(start, end - start));
        start = end + 1;
      }
    }
    offset += length;
  }
  return keys;
}

bool KernelRule::HasKey(std::string_view key) const {
  for (const std::string& k : Keys())
    if (k == key) return true;
  return false;
}

bool KernelRule::SameRule(const KernelRule& other) const {
  const audit_rule_data* a = View(bytes_);
  const audit_rule_data* b = View(other.bytes_);
  if (a == nullptr || b == nullptr) return false;
  if (list() != other.list() || a->action != b->action || a->field_count != b->field_count ||
      a->buflen != b->buflen || a->field_count > AUDIT_MAX_FIELDS)
    return false;
  // The last mask word holds the syscall-class bits, which the kernel
  // expands and clears; no real syscall number reaches it.
  for (int i = 0; i < AUDIT_BITMASK_SIZE - 1; ++i)
    if (a->mask[i] != b->mask[i]) return false;
  for (uint32_t i = 0; i < a->field_count; ++i) {
    if (a->fields[i] != b->fields[i] || a->values[i] != b->values[i] ||
        a->fieldflags[i] != b->fieldflags[i])
      return false;
  }
  if (bytes_.size() < sizeof(audit_rule_data) + a->buflen ||
      other.bytes_.size() < sizeof(audit_rule_data) + b->buflen)
    return false;
  return std::memcmp(a->buf, b->buf, a->buflen) == 0;
}

bool SyscallExists(std::string_view arch, std::string_view name) {
  int machine = -1;
  if (arch.empty()) {
    machine = audit_detect_machine();
  } else {
    machine = audit_determine_machine(std::string(arch).c_str());
  }
  if (machine < 0) return false;
  return audit_name_to_syscall(std::string(name).c_str(), machine) >= 0;
}

Result<KernelRule> BuildKernelRule(const RuleSpec& spec) {
  const int list = ListNumber(spec.list);
  const int action = ActionNumber(spec.action);
  if (list < 0)
    return Status::Errorf(StatusCode::kInvalid, "unknown audit filter list '{}'", spec.list);
  if (action < 0)
    return Status::Errorf(StatusCode::kInvalid, "unknown audit rule action '{}'", spec.action);

  std::lock_guard<std::mutex> lock(g_builder_mutex);
  ResetBuilderGlobals();
  audit_rule_data* rule = audit_rule_create_data();
  if (rule == nullptr)
    return Status::Error(StatusCode::kUnavailable, "out of memory building an audit rule");
  Status status;
  auto add_pair = [&](const std::string& pair) {
    if (!status.ok()) return;
    // libaudit writes a NUL over the operator: give it a scratch copy.
    std::string scratch = pair;
    const int rc = audit_rule_fieldpair_data(&rule, scratch.data(), list);
    if (rc < 0) {
      const char* why = audit_errno_to_name(-rc);
      status = Status::Errorf(StatusCode::kInvalid,
                              "audit rule field '{}' rejected by libaudit (error {}{}{}) in: {}",
                              pair, rc, why ? " " : "", why ? why : "", spec.ToAuditctl());
    }
  };
  if (!spec.arch.empty()) add_pair("arch=" + spec.arch);
  for (const std::string& name : spec.syscalls) {
    if (!status.ok()) break;
    if (audit_rule_syscallbyname_data(rule, name.c_str()) < 0)
      status = Status::Errorf(StatusCode::kInvalid, "syscall '{}' unknown for arch '{}' in: {}",
                              name, spec.arch.empty() ? "native" : spec.arch, spec.ToAuditctl());
  }
  // What auditctl does after -S: unlocks -F key and the exit-only fields.
  if (!spec.syscalls.empty()) _audit_syscalladded = 1;
  for (const std::string& field : spec.fields) add_pair(field);
  if (!spec.key.empty()) add_pair("key=" + spec.key);

  KernelRule result;
  if (status.ok()) {
    rule->flags = static_cast<uint32_t>(list);
    rule->action = static_cast<uint32_t>(action);
    const size_t size = sizeof(audit_rule_data) + rule->buflen;
    const auto* begin = reinterpret_cast<const uint8_t*>(rule);
    result = KernelRule(std::vector<uint8_t>(begin, begin + size));
  }
  audit_rule_free_data(rule);
  ResetBuilderGlobals();
  if (!status.ok()) return status;
  return result;
}

}  // namespace recorder::rules
