// The text of every closed set a typed event carries: one table per enum,
// value <-> text, and nowhere else. The JSON output, the counters and the
// SQL views (whose CASE expressions are generated from these tables, see
// store/schema.cc) all read them, so a value means the same everywhere.
//
// Stored values are the enums' integers. A table may gain rows; a row's
// value never changes meaning (databases keep it). A value with no row
// (an enum's kUnknown/kOther) has no text: empty here, NULL in the views.
#pragma once

#include <cstdint>
#include <string_view>

#include "normalize/typed_event.h"
#include "util/enum_text.h"

namespace recorder {

inline constexpr EnumCode<FileOperation> kFileOperationCodes[] = {
    {FileOperation::kCreate, "create"},      {FileOperation::kWrite, "write"},
    {FileOperation::kRename, "rename"},      {FileOperation::kDelete, "delete"},
    {FileOperation::kChmod, "chmod"},        {FileOperation::kChown, "chown"},
    {FileOperation::kMkdir, "mkdir"},        {FileOperation::kRmdir, "rmdir"},
    {FileOperation::kLink, "link"},          {FileOperation::kTruncate, "truncate"},
    {FileOperation::kSetTimes, "set_times"},
};

inline constexpr EnumCode<NetworkDirection> kNetworkDirectionCodes[] = {
    {NetworkDirection::kOutbound, "outbound"},
    {NetworkDirection::kInbound, "inbound"},
    {NetworkDirection::kListen, "listen"},
};

inline constexpr EnumCode<NetworkProtocol> kNetworkProtocolCodes[] = {
    {NetworkProtocol::kTcp, "tcp"},
    {NetworkProtocol::kUdp, "udp"},
};

inline constexpr EnumCode<AddressFamily> kAddressFamilyCodes[] = {
    {AddressFamily::kInet, "ipv4"},
    {AddressFamily::kInet6, "ipv6"},
    {AddressFamily::kUnix, "unix"},
};

inline constexpr EnumCode<SecurityKind> kSecurityKindCodes[] = {
    {SecurityKind::kAuthentication, "authentication"},
    {SecurityKind::kAccount, "account"},
    {SecurityKind::kLogin, "login"},
    {SecurityKind::kLogout, "logout"},
    {SecurityKind::kSessionStart, "session_start"},
    {SecurityKind::kSessionEnd, "session_end"},
    {SecurityKind::kCredential, "credential"},
    {SecurityKind::kCommand, "command"},
    {SecurityKind::kAccountChange, "account_change"},
    {SecurityKind::kPrivilegeChange, "privilege_change"},
};

inline constexpr EnumCode<SecurityResult> kSecurityResultCodes[] = {
    {SecurityResult::kFailed, "failed"},
    {SecurityResult::kSuccess, "success"},
};

// Audit's own names for the message types (libaudit's table).
inline constexpr EnumCode<SecurityRecordType> kSecurityRecordTypeCodes[] = {
    {SecurityRecordType::kUserAuth, "USER_AUTH"},
    {SecurityRecordType::kUserAcct, "USER_ACCT"},
    {SecurityRecordType::kUserMgmt, "USER_MGMT"},
    {SecurityRecordType::kCredAcq, "CRED_ACQ"},
    {SecurityRecordType::kCredDisp, "CRED_DISP"},
    {SecurityRecordType::kUserStart, "USER_START"},
    {SecurityRecordType::kUserEnd, "USER_END"},
    {SecurityRecordType::kUserChauthtok, "USER_CHAUTHTOK"},
    {SecurityRecordType::kUserErr, "USER_ERR"},
    {SecurityRecordType::kCredRefr, "CRED_REFR"},
    {SecurityRecordType::kUserLogin, "USER_LOGIN"},
    {SecurityRecordType::kUserLogout, "USER_LOGOUT"},
    {SecurityRecordType::kAddUser, "ADD_USER"},
    {SecurityRecordType::kDelUser, "DEL_USER"},
    {SecurityRecordType::kAddGroup, "ADD_GROUP"},
    {SecurityRecordType::kDelGroup, "DEL_GROUP"},
    {SecurityRecordType::kUserCmd, "USER_CMD"},
    {SecurityRecordType::kGrpMgmt, "GRP_MGMT"},
    {SecurityRecordType::kGrpChauthtok, "GRP_CHAUTHTOK"},
    {SecurityRecordType::kSyscall, "SYSCALL"},
    {SecurityRecordType::kAnomLoginFailures, "ANOM_LOGIN_FAILURES"},
    {SecurityRecordType::kAnomLoginTime, "ANOM_LOGIN_TIME"},
    {SecurityRecordType::kAnomLoginSessions, "ANOM_LOGIN_SESSIONS"},
    {SecurityRecordType::kAnomLoginAcct, "ANOM_LOGIN_ACCT"},
    {SecurityRecordType::kAnomLoginLocation, "ANOM_LOGIN_LOCATION"},
    {SecurityRecordType::kAnomLoginService, "ANOM_LOGIN_SERVICE"},
};

inline constexpr EnumCode<ModuleOperation> kModuleOperationCodes[] = {
    {ModuleOperation::kLoad, "load"},
    {ModuleOperation::kUnload, "unload"},
};

inline constexpr EnumCode<DnsAttribution> kDnsAttributionCodes[] = {
    {DnsAttribution::kNone, "none"},
    {DnsAttribution::kSocket, "socket"},
    {DnsAttribution::kLocalPort, "local_port"},
};

// The errors execve(2) documents, by their Linux numbers (the same on
// x86_64, i386 and aarch64). Another errno is stored as its number alone.
inline constexpr EnumCode<int32_t> kExecErrnoCodes[] = {
    {1, "EPERM"},         {2, "ENOENT"},  {5, "EIO"},      {7, "E2BIG"},   {8, "ENOEXEC"},
    {11, "EAGAIN"},       {12, "ENOMEM"}, {13, "EACCES"},  {14, "EFAULT"}, {20, "ENOTDIR"},
    {21, "EISDIR"},       {22, "EINVAL"}, {23, "ENFILE"},  {24, "EMFILE"}, {26, "ETXTBSY"},
    {36, "ENAMETOOLONG"}, {40, "ELOOP"},  {80, "ELIBBAD"},
};

inline constexpr int32_t kEnoent = 2;

inline std::string_view Name(FileOperation v) { return CodeText(kFileOperationCodes, v); }
inline std::string_view Name(NetworkDirection v) { return CodeText(kNetworkDirectionCodes, v); }
inline std::string_view Name(NetworkProtocol v) { return CodeText(kNetworkProtocolCodes, v); }
inline std::string_view Name(AddressFamily v) { return CodeText(kAddressFamilyCodes, v); }
inline std::string_view Name(SecurityKind v) { return CodeText(kSecurityKindCodes, v); }
inline std::string_view Name(SecurityResult v) { return CodeText(kSecurityResultCodes, v); }
inline std::string_view Name(SecurityRecordType v) { return CodeText(kSecurityRecordTypeCodes, v); }
inline std::string_view Name(ModuleOperation v) { return CodeText(kModuleOperationCodes, v); }
inline std::string_view Name(DnsAttribution v) { return CodeText(kDnsAttributionCodes, v); }
// "ENOENT"; empty for an errno outside kExecErrnoCodes.
inline std::string_view ErrnoName(int32_t error) { return CodeText(kExecErrnoCodes, error); }

static_assert(CodesAreDistinct(kFileOperationCodes) &&
              CodesCover(kFileOperationCodes, FileOperation::kCreate, FileOperation::kSetTimes));
static_assert(CodesAreDistinct(kNetworkDirectionCodes) &&
              CodesCover(kNetworkDirectionCodes, NetworkDirection::kOutbound,
                         NetworkDirection::kListen));
static_assert(CodesAreDistinct(kNetworkProtocolCodes) &&
              CodesCover(kNetworkProtocolCodes, NetworkProtocol::kTcp, NetworkProtocol::kUdp));
static_assert(CodesAreDistinct(kAddressFamilyCodes) &&
              CodesCover(kAddressFamilyCodes, AddressFamily::kInet, AddressFamily::kUnix));
static_assert(CodesAreDistinct(kSecurityKindCodes) &&
              CodesCover(kSecurityKindCodes, SecurityKind::kAuthentication,
                         SecurityKind::kPrivilegeChange));
static_assert(CodesAreDistinct(kSecurityResultCodes) &&
              CodesCover(kSecurityResultCodes, SecurityResult::kFailed, SecurityResult::kSuccess));
static_assert(CodesAreDistinct(kSecurityRecordTypeCodes));
static_assert(CodesAreDistinct(kModuleOperationCodes) &&
              CodesCover(kModuleOperationCodes, ModuleOperation::kLoad, ModuleOperation::kUnload));
static_assert(CodesAreDistinct(kDnsAttributionCodes) &&
              CodesCover(kDnsAttributionCodes, DnsAttribution::kNone, DnsAttribution::kLocalPort));
static_assert(CodesAreDistinct(kExecErrnoCodes));

}  // namespace recorder
