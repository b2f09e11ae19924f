#include "source/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "source/audit_line.h"

namespace recorder {

struct LineReader::Gz {
  gzFile file = nullptr;
  ~Gz() {
    if (file) gzclose(file);
  }
};

// Twice the longest accepted line, so any line that fits is whole.
constexpr size_t kBufferBytes = 2 * kMaxLineBytes + size_t{64} * 1024;

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  int fd = path == "-" ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, fmt::format("cannot open {}", path));
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return Status::Errorf(StatusCode::kInvalid, "cannot read {}: is a directory", path);
  }
  std::unique_ptr<LineReader> reader(new LineReader());
  reader->path_ = path;
  reader->file_size_ = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  reader->gz_ = std::make_unique<Gz>();
  reader->gz_->file = gzdopen(fd, "rb");
  if (reader->gz_->file == nullptr) {
    close(fd);
    return Status::Errorf(StatusCode::kUnavailable, "cannot read {}: out of memory", path);
  }
  // zlib reads a plain (not gzip) file straight into our buffer when a
  // request is at least twice its own buffer; with 64 KiB that holds for
  // our ~190 KiB refills, saving a copy of every byte.
  gzbuffer(reader->gz_->file, 64 * 1024);
  reader->capacity_ = kBufferBytes;
  reader->buffer_ = std::make_unique<char[]>(kBufferBytes);
  return reader;
}

LineReader::~LineReader() = default;

uint64_t LineReader::file_offset() const {
  z_off_t offset = gzoffset(gz_->file);
  return offset < 0 ? 0 : static_cast<uint64_t>(offset);
}

bool LineReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < capacity_ && !eof_) {
    int n = gzread(gz_->file, buffer_.get() + end_, static_cast<unsigned>(capacity_ - end_));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(gz_->file, &code);
      error_ = code == Z_ERRNO ? std::strerror(errno) : message;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<size_t>(n);
    // One read is enough when it brought a newline.
    if (std::memchr(buffer_.get() + end_ - n, '\n', static_cast<size_t>(n))) break;
  }
  return true;
}

Result<std::string_view> LineReader::Peek(size_t count) {
  count = std::min(count, capacity_);
  while (end_ - begin_ < count && !eof_) {
    const size_t before = end_ - begin_;
    if (!Fill()) return Status::Errorf(StatusCode::kIo, "cannot read {}: {}", path_, error_);
    if (end_ - begin_ == before && end_ == capacity_) break;  // full: nothing more fits
  }
  return std::string_view(buffer_.get() + begin_, std::min(count, end_ - begin_));
}

Result<std::string> LineReader::ReadRest(size_t max_bytes) {
  std::string rest(buffer_.get() + begin_, end_ - begin_);
  begin_ = end_;
  constexpr size_t kStep = size_t{1} << 20;
  while (!eof_ && rest.size() <= max_bytes) {
    const size_t at = rest.size();
    rest.resize(at + kStep);
    const int n = gzread(gz_->file, rest.data() + at, static_cast<unsigned>(kStep));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(gz_->file, &code);
      return Status::Errorf(code == Z_ERRNO ? StatusCode::kIo : StatusCode::kCorrupt,
                            "cannot read {}: {}", path_,
                            code == Z_ERRNO ? std::strerror(errno) : message);
    }
    rest.resize(at + static_cast<size_t>(n));
    bytes_read_ += static_cast<size_t>(n);
    eof_ = n == 0;
  }
  if (rest.size() > max_bytes)
    return Status::Errorf(StatusCode::kInvalid, "{}: larger than {} MiB: not read", path_,
                          max_bytes >> 20);
  return rest;
}

LineReader::Next LineReader::ReadLine(std::string_view* line) {
  for (;;) {
    char* start = buffer_.get() + begin_;
    size_t available = end_ - begin_;
    if (void* newline = std::memchr(start, '\n', available)) {
      size_t length = static_cast<size_t>(static_cast<char*>(newline) - start);
      *line = std::string_view(start, length);
      begin_ += length + 1;
      ++line_number_;
      if (length > kMaxLineBytes) return Next::kTooLong;
      return Next::kLine;
    }
    if (eof_) {
      if (available == 0) return Next::kEnd;
      *line = std::string_view(start, available);  // last line without newline
      begin_ = end_;
      ++line_number_;
      return available > kMaxLineBytes ? Next::kTooLong : Next::kLine;
    }
    if (available == capacity_) {
      // No newline in a full buffer: skip to the next newline.
      long_line_head_.assign(start, 256);
      *line = long_line_head_;
      ++line_number_;
      begin_ = end_;
      bool found = false;
      while (!found && !eof_) {
        begin_ = end_ = 0;
        if (!Fill()) return Next::kError;
        if (void* nl = std::memchr(buffer_.get(), '\n', end_)) {
          begin_ = static_cast<size_t>(static_cast<char*>(nl) - buffer_.get()) + 1;
          found = true;
        }
      }
      if (!found) begin_ = end_;
      return Next::kTooLong;
    }
    if (!Fill()) return Next::kError;
  }
}

}  // namespace recorder
