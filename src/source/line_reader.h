// Reads lines from a file, a .gz file or stdin through one reused buffer
// (ninja's LineReader shape): the returned view is valid until the next
// call. Lines longer than the buffer are reported, not split.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder {

class LineReader {
 public:
  // "-" reads stdin. Gzip input is recognised by its magic bytes, not its
  // name; plain files pass through zlib unchanged.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);
  ~LineReader();

  enum class Next { kLine, kTooLong, kEnd, kError };
  // kLine: *line holds one line without its newline. kTooLong: a line over
  // the buffer size was skipped (*line holds its first bytes). kError:
  // see error().
  Next ReadLine(std::string_view* line);

  // The next `count` bytes, not consumed (fewer at the end of the input):
  // the first bytes of a stream (stdin) tell its format before a reader
  // is chosen.
  Result<std::string_view> Peek(size_t count);
  // All that is left, raw, for a reader that needs the whole input (an
  // EVTX file or a BSM trail on stdin). Refused (kInvalid) past
  // `max_bytes`, so a hostile .gz cannot fill the memory.
  Result<std::string> ReadRest(size_t max_bytes);

  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }
  uint64_t line_number() const { return line_number_; }
  // Bytes of (decompressed) input consumed so far, and the compressed
  // offset in the file, for progress against the file size.
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t file_offset() const;
  // Size of the file on disk, 0 for stdin and pipes.
  uint64_t file_size() const { return file_size_; }

 private:
  LineReader() = default;
  bool Fill();

  struct Gz;
  std::unique_ptr<Gz> gz_;
  std::string path_;
  std::string error_;
  std::string long_line_head_;  // first bytes of a skipped over-long line
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // start of unread data
  size_t end_ = 0;    // end of valid data
  bool eof_ = false;
  uint64_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t file_size_ = 0;
};

}  // namespace recorder
