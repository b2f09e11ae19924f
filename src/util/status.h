// Errors as values at module borders (see STYLE.md): a fallible call returns
// Status, or Result<T> when it also produces a value. A successful Status
// holds no string, so returning Ok costs nothing.
//
// A failed Status carries a code as well as a message: callers that react
// to a kind of failure (the rule is already there, the database is locked
// or not a database, the file is missing) branch on code(); the message is
// for people and may be reworded at will.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace recorder {

enum class StatusCode : uint8_t {
  kOk = 0,
  kUnknown,      // not classified: what Error(message) gives
  kInvalid,      // bad input or arguments: a malformed setting, SQL, rule or request
  kNotFound,     // the file, rule, process or row is not there (ENOENT)
  kExists,       // it is already there (EEXIST, a UNIQUE constraint)
  kBusy,         // held by someone else for now: a locked database, a taken audit pid
  kCorrupt,      // the data is damaged or of another kind: not a database, a bad gzip stream
  kIo,           // reading or writing failed: EIO, a broken pipe
  kNoSpace,      // the file system is full: ENOSPC, EDQUOT, SQLITE_FULL
  kPermission,   // not allowed: EPERM, EACCES, a read-only database, an immutable audit config
  kUnavailable,  // the facility is missing or did not answer: no audit in the kernel, a timeout
};

// "not found", "busy"...: for logs and test failure messages.
std::string_view StatusCodeName(StatusCode code);
// The name, so test failures print "busy" rather than a number.
std::ostream& operator<<(std::ostream& out, StatusCode code);
// The code for an errno value (either sign: libaudit returns -errno).
// Errnos without a closer match are kIo: they come from the system.
StatusCode StatusCodeFromErrno(int error);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) {
    return Status(StatusCode::kUnknown, std::move(message));
  }
  static Status Error(StatusCode code, std::string message) {
    return Status(code, std::move(message));
  }
  template <typename... Args>
  static Status Errorf(fmt::format_string<Args...> format, Args&&... args) {
    return Status(StatusCode::kUnknown, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  static Status Errorf(StatusCode code, fmt::format_string<Args...> format, Args&&... args) {
    return Status(code, fmt::format(format, std::forward<Args>(args)...));
  }
  // "<context>: <strerror(error)>", coded by StatusCodeFromErrno. `error`
  // may be negative (-errno); pass errno's value, read before any other
  // call can change it.
  static Status FromErrno(int error, std::string_view context);

  bool ok() const { return !message_.has_value(); }
  StatusCode code() const { return code_; }
  // Empty when ok().
  const std::string& message() const {
    static const std::string kEmpty;
    return message_ ? *message_ : kEmpty;
  }

 private:
  // An error needs a code other than kOk: ok() is decided by the message.
  Status(StatusCode code, std::string message)
      : code_(code == StatusCode::kOk ? StatusCode::kUnknown : code),
        message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::optional<std::string> message_;
};

// A value or the Status saying why there is none. g++ 12 has no
// std::expected; this is the small part of it we need.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: must be an error

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace recorder
