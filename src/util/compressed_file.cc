#include "util/compressed_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace recorder {
namespace {

bool IsGzipName(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
}

// Reads up to `limit` bytes into `out`; `*more` says whether the file goes
// on after them. gzopen reads a file that is not gzip as it is, so a plain
// file named .gz is still read.
Status ReadUpTo(const std::string& path, size_t limit, std::string* out, bool* more) {
  gzFile in = gzopen(path.c_str(), "rb");
  if (in == nullptr) {
    const int error = errno;
    return Status::Errorf(StatusCodeFromErrno(error), "{}: cannot open: {}", path,
                          std::strerror(error));
  }
  constexpr size_t kStep = size_t{1} << 20;
  out->clear();
  *more = false;
  while (true) {
    const size_t at = out->size();
    // One byte past the limit tells a file of exactly `limit` bytes from a
    // longer one.
    const size_t want = std::min(kStep, limit + 1 - at);
    out->resize(at + want);
    const int got = gzread(in, out->data() + at, static_cast<unsigned>(want));
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(in, &code);
      gzclose(in);
      return Status::Errorf(code == Z_ERRNO ? StatusCode::kIo : StatusCode::kCorrupt,
                            "{}: cannot read: {}", path, message);
    }
    out->resize(at + static_cast<size_t>(got));
    if (got == 0) break;
    if (out->size() > limit) {
      out->resize(limit);
      *more = true;
      break;
    }
  }
  gzclose(in);
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFileHead(const std::string& path, size_t count) {
  std::string bytes;
  bool more = false;
  Status status = ReadUpTo(path, count, &bytes, &more);
  if (!status.ok()) return status;
  return bytes;
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  std::string bytes;
  bool more = false;
  Status status = ReadUpTo(path, max_bytes, &bytes, &more);
  if (!status.ok()) return status;
  if (more) {
    return Status::Errorf(StatusCode::kInvalid, "{}: larger than {} MiB{}: not read", path,
                          max_bytes >> 20, IsGzipName(path) ? " once decompressed" : "");
  }
  return bytes;
}

}  // namespace recorder
