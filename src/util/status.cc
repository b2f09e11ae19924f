#include "util/status.h"

#include <cerrno>
#include <cstring>
#include <ostream>

#include "util/enum_text.h"

namespace recorder {

namespace {

constexpr EnumCode<StatusCode> kStatusCodeNames[] = {
    {StatusCode::kOk, "ok"},
    {StatusCode::kUnknown, "unknown"},
    {StatusCode::kInvalid, "invalid"},
    {StatusCode::kNotFound, "not found"},
    {StatusCode::kExists, "exists"},
    {StatusCode::kBusy, "busy"},
    {StatusCode::kCorrupt, "corrupt"},
    {StatusCode::kIo, "io"},
    {StatusCode::kNoSpace, "no space"},
    {StatusCode::kPermission, "permission"},
    {StatusCode::kUnavailable, "unavailable"},
};
static_assert(CodesAreDistinct(kStatusCodeNames) &&
              CodesCover(kStatusCodeNames, StatusCode::kOk, StatusCode::kUnavailable));

}  // namespace

std::string_view StatusCodeName(StatusCode code) { return CodeText(kStatusCodeNames, code); }

std::ostream& operator<<(std::ostream& out, StatusCode code) { return out << StatusCodeName(code); }

StatusCode StatusCodeFromErrno(int error) {
  switch (error < 0 ? -error : error) {
    case 0:
      return StatusCode::kUnknown;  // a caller read errno too late
    case ENOENT:
    case ENOTDIR:  // a path component is a file: the path names nothing
    case ESRCH:
      return StatusCode::kNotFound;
    case EEXIST:
      return StatusCode::kExists;
    case EBUSY:
    case EAGAIN:
    case ETXTBSY:
    case EADDRINUSE:
      return StatusCode::kBusy;
    case EPERM:
    case EACCES:
    case EROFS:
      return StatusCode::kPermission;
    case EINVAL:
    case EISDIR:
    case ENAMETOOLONG:
    case E2BIG:
    case ERANGE:
    case EBADF:
    case EMSGSIZE:
      return StatusCode::kInvalid;
    case EBADMSG:
    case EILSEQ:
      return StatusCode::kCorrupt;
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case ENOSYS:
    case EOPNOTSUPP:
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ENOMEM:
      return StatusCode::kUnavailable;
    case ENOSPC:
    case EDQUOT:
      return StatusCode::kNoSpace;
    default:
      return StatusCode::kIo;  // EIO, EPIPE, ...
  }
}

Status Status::FromErrno(int error, std::string_view context) {
  return Status(StatusCodeFromErrno(error),
                fmt::format("{}: {}", context, std::strerror(error < 0 ? -error : error)));
}

}  // namespace recorder
