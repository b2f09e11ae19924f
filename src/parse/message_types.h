// Audit message type names <-> numbers, from libaudit's own table so that
// new kernel types are known as soon as the distribution's libaudit knows
// them. Lookups allocate nothing.
#pragma once

#include <string_view>

namespace recorder {

// Message type numbers the pipeline branches on (linux/audit.h values,
// repeated here so the core does not need the kernel header everywhere).
namespace audit_type {
inline constexpr int kUser = 1005;
inline constexpr int kLogin = 1006;
inline constexpr int kFirstUserMsg = 1100;
inline constexpr int kLastUserMsg = 1199;
inline constexpr int kFirstDaemon = 1200;
inline constexpr int kLastDaemon = 1299;
inline constexpr int kSyscall = 1300;
inline constexpr int kPath = 1302;
inline constexpr int kIpc = 1303;
inline constexpr int kSocketcall = 1304;
inline constexpr int kConfigChange = 1305;
inline constexpr int kSockaddr = 1306;
inline constexpr int kCwd = 1307;
inline constexpr int kExecve = 1309;
inline constexpr int kEoe = 1320;
inline constexpr int kProctitle = 1327;
inline constexpr int kKernModule = 1330;
inline constexpr int kAnomAbend = 1701;
inline constexpr int kFirstUserMsg2 = 2100;
inline constexpr int kLastUserMsg2 = 2999;
}  // namespace audit_type

// Returns the number for a type name ("SYSCALL", "1300", "UNKNOWN[1329]"),
// or 0 when the name is not known.
int MessageTypeFromName(std::string_view name);

// Returns libaudit's name for a type number, or an empty view.
std::string_view MessageTypeName(int type);

// True for types that make up a whole event on their own (user-space
// messages, daemon messages, and ANOM_ABEND, which the kernel writes for a
// dying task with nothing after it): the assembler closes them without
// waiting. Kernel records emitted inside a syscall (KERN_MODULE, and LOGIN,
// which this kernel follows with SYSCALL and PROCTITLE) are not here.
inline bool IsSingleRecordType(int type) {
  using namespace audit_type;
  return type == kUser || (type >= kFirstUserMsg && type <= kLastDaemon) ||
         (type >= kFirstUserMsg2 && type <= kLastUserMsg2) || type == kAnomAbend;
}

}  // namespace recorder
