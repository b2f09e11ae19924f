#include "normalize/typed_event.h"

#include <iterator>

namespace recorder {

std::string_view FileOperationName(FileOperation op) {
  switch (op) {
    case FileOperation::kCreate:
      return "create";
    case FileOperation::kWrite:
      return "write";
    case FileOperation::kRename:
      return "rename";
    case FileOperation::kDelete:
      return "delete";
    case FileOperation::kChmod:
      return "chmod";
    case FileOperation::kChown:
      return "chown";
    case FileOperation::kMkdir:
      return "mkdir";
    case FileOperation::kRmdir:
      return "rmdir";
    case FileOperation::kLink:
      return "link";
    case FileOperation::kTruncate:
      return "truncate";
    case FileOperation::kSetTimes:
      return "set_times";
  }
  return "unknown";
}

std::string_view EventKindName(size_t body_index) {
  static constexpr std::string_view kNames[] = {"process_start", "process_end", "file", "network",
                                                "security",      "module",      "image"};
  static_assert(std::size(kNames) == std::variant_size_v<EventBody>);
  return body_index < std::size(kNames) ? kNames[body_index] : "unknown";
}

std::string_view NetworkDirectionName(NetworkDirection direction) {
  switch (direction) {
    case NetworkDirection::kOutbound:
      return "outbound";
    case NetworkDirection::kInbound:
      return "inbound";
    case NetworkDirection::kListen:
      return "listen";
  }
  return "unknown";
}

std::string_view SecurityKindName(SecurityKind kind) {
  switch (kind) {
    case SecurityKind::kAuthentication:
      return "authentication";
    case SecurityKind::kAccount:
      return "account";
    case SecurityKind::kLogin:
      return "login";
    case SecurityKind::kLogout:
      return "logout";
    case SecurityKind::kSessionStart:
      return "session_start";
    case SecurityKind::kSessionEnd:
      return "session_end";
    case SecurityKind::kCredential:
      return "credential";
    case SecurityKind::kCommand:
      return "command";
    case SecurityKind::kAccountChange:
      return "account_change";
    case SecurityKind::kPrivilegeChange:
      return "privilege_change";
  }
  return "unknown";
}

}  // namespace recorder
