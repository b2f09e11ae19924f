// One audit rule in two forms: RuleSpec, the readable auditctl form the
// recorder derives from its configuration (and writes to rules.d), and
// KernelRule, the binary struct audit_rule_data the kernel stores and
// lists. BuildKernelRule() turns the first into the second with libaudit,
// so what we add and what we later find in the kernel compare exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace recorder::rules {

struct RuleSpec {
  std::string list = "exit";          // filter list: exit (all our rules)
  std::string action = "always";      // always | never
  std::string arch;                   // "b64", "b32" or empty
  std::vector<std::string> syscalls;  // libaudit names, or {"all"}
  std::vector<std::string> fields;    // auditctl -F pairs in order, e.g. "success=1", "a2&0x243"
  std::string key;                    // -k; every recorder rule has one

  // "-a always,exit -F arch=b64 -S execve -S execveat -F key=recorder":
  // the line auditctl and augenrules accept (and what `auditctl -l` prints
  // back, modulo syscall grouping).
  std::string ToAuditctl() const;
  bool operator==(const RuleSpec&) const = default;
};

// A serialized struct audit_rule_data (fixed part followed by buflen bytes
// of string values), as sent to and listed by the kernel.
class KernelRule {
 public:
  KernelRule() = default;
  explicit KernelRule(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  // The filter list (AUDIT_FILTER_EXIT, ...) and action (AUDIT_ALWAYS, ...).
  uint32_t list() const;
  uint32_t action() const;
  // Keys of the rule (a rule may carry several, joined by \x01 in the kernel).
  std::vector<std::string> Keys() const;
  bool HasKey(std::string_view key) const;
  // Same rule as the kernel sees it: list, action, fields, values, string
  // values and the syscall mask (the syscall-class bits the kernel
  // rewrites are ignored, so "-S all" compares equal after a round trip).
  bool SameRule(const KernelRule& other) const;

 private:
  std::vector<uint8_t> bytes_;
};

// Builds the kernel form with libaudit. Syscall names unknown for the
// rule's arch are an error naming them (callers filter per arch first with
// SyscallExists). Thread-safe: libaudit's rule-builder globals are
// guarded.
Result<KernelRule> BuildKernelRule(const RuleSpec& spec);

// Whether libaudit knows `name` for "b64"/"b32" on this machine's family.
bool SyscallExists(std::string_view arch, std::string_view name);

}  // namespace recorder::rules
