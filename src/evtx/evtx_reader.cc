#include "evtx/evtx_reader.h"

#include <expat.h>
#include <fmt/format.h>
// libbfio first: libevtx declares its file-io-handle functions only when
// libbfio's types are known.
#include <fcntl.h>
#include <libbfio.h>
#include <libevtx.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "evtx/binxml_value.h"
#include "util/clock.h"
#include "util/compressed_file.h"

namespace recorder::evtx {
namespace {

constexpr std::string_view kSignature{"ElfFile\0", 8};
constexpr uint64_t kHeaderBlockBytes = 4096;
constexpr uint64_t kChunkBytes = kChunkSize;

// libevtx's error text, and the error freed.
std::string TakeError(libevtx_error_t** error) {
  if (error == nullptr || *error == nullptr) return "unknown error";
  char text[512] = {};
  libevtx_error_sprint(*error, text, sizeof(text));
  libevtx_error_free(error);
  std::string message(text);
  // libevtx stacks one line per frame; the first names the failing call.
  if (size_t end = message.find('\n'); end != std::string::npos) message.resize(end);
  return message;
}

// A UTF-8 string libevtx sizes first, then copies, with its trailing NUL.
template <typename SizeFn, typename CopyFn>
bool ReadUtf8(SizeFn size_fn, CopyFn copy_fn, std::string* out) {
  size_t size = 0;
  libevtx_error_t* error = nullptr;
  out->clear();
  const int sized = size_fn(&size, &error);
  if (sized != 1 || size == 0) {
    libevtx_error_free(&error);
    return sized == 0;  // 0: the record has no such value
  }
  out->resize(size);
  if (copy_fn(reinterpret_cast<uint8_t*>(out->data()), size, &error) != 1) {
    libevtx_error_free(&error);
    out->clear();
    return false;
  }
  if (!out->empty() && out->back() == '\0') out->pop_back();
  return true;
}

// A record's text value by its libevtx size and copy functions.
using RecordSizeFn = int (*)(libevtx_record_t*, size_t*, libevtx_error_t**);
using RecordCopyFn = int (*)(libevtx_record_t*, uint8_t*, size_t, libevtx_error_t**);
bool ReadRecordText(libevtx_record_t* record, RecordSizeFn size_fn, RecordCopyFn copy_fn,
                    std::string* out) {
  return ReadUtf8(
      [&](size_t* size, libevtx_error_t** error) { return size_fn(record, size, error); },
      [&](uint8_t* text, size_t size, libevtx_error_t** error) {
        return copy_fn(record, text, size, error);
      },
      out);
}

struct NameCollector {
  std::vector<std::string> names;
  int data_depth = 0;  // inside EventData or UserData
};

void OnStart(void* user, const XML_Char* element, const XML_Char** attributes) {
  auto* collector = static_cast<NameCollector*>(user);
  const std::string_view name(element);
  if (name == "EventData" || name == "UserData") {
    ++collector->data_depth;
    return;
  }
  if (collector->data_depth == 0 || name != "Data") return;
  std::string data_name;
  for (int i = 0; attributes[i] != nullptr; i += 2) {
    if (std::strcmp(attributes[i], "Name") == 0) data_name = attributes[i + 1];
  }
  collector->names.push_back(std::move(data_name));
}

void OnEnd(void* user, const XML_Char* element) {
  auto* collector = static_cast<NameCollector*>(user);
  const std::string_view name(element);
  if ((name == "EventData" || name == "UserData") && collector->data_depth > 0)
    --collector->data_depth;
}

}  // namespace

std::string_view EvtxRecord::Field(std::string_view name) const {
  for (const EvtxField& field : fields) {
    if (field.name == name) return field.value;
  }
  return {};
}

bool LooksLikeEvtx(std::string_view head) { return head.substr(0, 8) == kSignature; }

std::vector<EvtxProblem> CheckHeader(std::string_view header, uint64_t file_size) {
  std::vector<EvtxProblem> problems;
  if (header.size() < 128 || !LooksLikeEvtx(header)) {
    problems.push_back({"header", "not an EVTX file header (no ElfFile signature)"});
    return problems;
  }
  // A file is its header block and whole 64 KiB chunks. The header's chunk
  // count is only a lower bound (a log still open for writing, "dirty",
  // has more chunks than its header says), so a cut shows as a file that
  // ends inside a chunk or holds fewer chunks than the header names.
  const uint64_t chunks = Le16(header.data() + 42);
  const uint64_t body = file_size > kHeaderBlockBytes ? file_size - kHeaderBlockBytes : 0;
  const uint64_t whole = body / kChunkBytes;
  if (body % kChunkBytes != 0 || whole < chunks) {
    problems.push_back(
        {"header", fmt::format("file cut short: {} bytes hold {} whole chunks of 64 KiB{} (the "
                               "header names {}); records after the last whole chunk are lost",
                               file_size, whole,
                               body % kChunkBytes != 0
                                   ? fmt::format(" and {} bytes of another", body % kChunkBytes)
                                   : "",
                               chunks)});
  }
  return problems;
}

int64_t FileTimeToUnixMs(uint64_t filetime) {
  return static_cast<int64_t>(filetime / 10'000) - kFileTimeEpochSeconds * 1000;
}

Result<std::vector<std::string>> DataNamesFromXml(std::string_view xml) {
  NameCollector collector;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  if (parser == nullptr)
    return Status::Error(StatusCode::kUnavailable, "cannot create an XML parser");
  XML_SetUserData(parser, &collector);
  XML_SetElementHandler(parser, OnStart, OnEnd);
  const bool parsed =
      XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), /*isFinal=*/1) == XML_STATUS_OK;
  std::string error;
  if (!parsed) {
    error =
        fmt::format("record XML does not parse: {} at line {}",
                    XML_ErrorString(XML_GetErrorCode(parser)), XML_GetCurrentLineNumber(parser));
  }
  XML_ParserFree(parser);
  if (!parsed) return Status::Error(StatusCode::kCorrupt, error);
  return std::move(collector.names);
}

// The libevtx file and, for a file in memory, the libbfio handle over its
// bytes (which must outlive both).
struct EvtxReader::Handles {
  libevtx_file_t* file = nullptr;
  libbfio_handle_t* io = nullptr;
  std::string bytes;
  // For our own reader: the file, read a chunk at a time (not mapped: a
  // file cut shorter while it is read would end a mapping's reader with
  // SIGBUS), or `bytes` when it is in memory (fd -1).
  int fd = -1;
  uint64_t size = 0;
  std::string chunk;  // the chunk Read last gave, from the file

  // `length` bytes at `offset`, or an empty view when the file holds
  // fewer (cut since it was measured).
  std::string_view Read(uint64_t offset, size_t length) {
    if (fd < 0) {
      if (offset > bytes.size() || bytes.size() - offset < length) return {};
      return std::string_view(bytes).substr(offset, length);
    }
    chunk.resize(length);
    size_t got = 0;
    while (got < length) {
      const ssize_t n =
          pread(fd, chunk.data() + got, length - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return {};
      got += static_cast<size_t>(n);
    }
    return chunk;
  }

  ~Handles() {
    if (fd >= 0) close(fd);
    libevtx_error_t* error = nullptr;
    if (file != nullptr) {
      libevtx_file_close(file, &error);
      libevtx_error_free(&error);
      libevtx_file_free(&file, &error);
      libevtx_error_free(&error);
    }
    if (io != nullptr) {
      libbfio_error_t* io_error = nullptr;
      libbfio_handle_free(&io, &io_error);
      libbfio_error_free(&io_error);
    }
  }
};

EvtxReader::EvtxReader(std::string name, std::unique_ptr<Handles> handles)
    : name_(std::move(name)), handles_(std::move(handles)) {}

EvtxReader::~EvtxReader() = default;

Result<std::unique_ptr<EvtxReader>> EvtxReader::OpenFile(const std::string& path) {
  auto handles = std::make_unique<Handles>();
  libevtx_error_t* error = nullptr;
  if (libevtx_file_initialize(&handles->file, &error) != 1)
    return Status::Error(StatusCode::kUnavailable, path + ": " + TakeError(&error));
  if (libevtx_file_open(handles->file, path.c_str(), LIBEVTX_OPEN_READ, &error) != 1) {
    libevtx_file_free(&handles->file, nullptr);
    struct stat info {};
    const StatusCode code =
        stat(path.c_str(), &info) != 0 ? StatusCodeFromErrno(errno) : StatusCode::kCorrupt;
    return Status::Errorf(code, "{}: cannot open as an EVTX file: {}", path, TakeError(&error));
  }
  // Opened again for our own reader; where that fails, libevtx reads it all.
  handles->fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (struct stat info{}; handles->fd >= 0 && fstat(handles->fd, &info) == 0)
    handles->size = static_cast<uint64_t>(info.st_size);
  auto reader = std::unique_ptr<EvtxReader>(new EvtxReader(path, std::move(handles)));
  std::string header(kHeaderBlockBytes, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  header.resize(static_cast<size_t>(in.gcount()));
  struct stat info {};
  reader->header_problems_ =
      CheckHeader(header, stat(path.c_str(), &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0);
  return reader;
}

Result<std::unique_ptr<EvtxReader>> EvtxReader::OpenBytes(std::string bytes, std::string name) {
  // libevtx reads the header block whole; from memory shorter than that,
  // libbfio's memory range reads past its end (AddressSanitizer saw it).
  if (bytes.size() < kHeaderBlockBytes) {
    return Status::Errorf(StatusCode::kCorrupt,
                          "{}: cannot open as an EVTX file: {} bytes, shorter than its {}-byte "
                          "header block",
                          name, bytes.size(), kHeaderBlockBytes);
  }
  auto handles = std::make_unique<Handles>();
  handles->bytes = std::move(bytes);
  handles->size = handles->bytes.size();
  libbfio_error_t* io_error = nullptr;
  if (libbfio_memory_range_initialize(&handles->io, &io_error) != 1 ||
      libbfio_memory_range_set(handles->io, reinterpret_cast<uint8_t*>(handles->bytes.data()),
                               handles->bytes.size(), &io_error) != 1) {
    libbfio_error_free(&io_error);
    return Status::Error(StatusCode::kUnavailable, name + ": cannot read from memory");
  }
  libevtx_error_t* error = nullptr;
  if (libevtx_file_initialize(&handles->file, &error) != 1)
    return Status::Error(StatusCode::kUnavailable, name + ": " + TakeError(&error));
  if (libevtx_file_open_file_io_handle(handles->file, handles->io, LIBEVTX_OPEN_READ, &error) !=
      1) {
    libevtx_file_free(&handles->file, nullptr);
    return Status::Errorf(StatusCode::kCorrupt, "{}: cannot open as an EVTX file: {}", name,
                          TakeError(&error));
  }
  auto reader = std::unique_ptr<EvtxReader>(new EvtxReader(std::move(name), std::move(handles)));
  const std::string_view bytes_view = reader->handles_->bytes;
  reader->header_problems_ =
      CheckHeader(bytes_view.substr(0, kHeaderBlockBytes), bytes_view.size());
  return reader;
}

const std::vector<std::string>* EvtxReader::NamesFor(void* opaque, int values) {
  auto* record = static_cast<libevtx_record_t*>(opaque);
  auto key = std::make_tuple(provider_, record_.event_id, values);
  if (auto found = names_.find(key); found != names_.end()) return &found->second;
  const bool rendered = ReadRecordText(record, libevtx_record_get_utf8_xml_string_size,
                                       libevtx_record_get_utf8_xml_string, &xml_);
  Result<std::vector<std::string>> names =
      rendered ? DataNamesFromXml(xml_)
               : Result<std::vector<std::string>>(Status::Error(StatusCode::kCorrupt, "no XML"));
  // A template whose XML cannot be had keeps unnamed values rather than
  // failing every record of its shape.
  return &names_
              .emplace(std::move(key), names.ok() ? std::move(*names) : std::vector<std::string>{})
              .first->second;
}

Status EvtxReader::Load(void* opaque, bool recovered) {
  auto* record = static_cast<libevtx_record_t*>(opaque);
  libevtx_error_t* error = nullptr;
  record_.fields.clear();  // keeps its capacity: no allocation per record
  record_.recovered = recovered;
  record_.written_ms = 0;
  uint64_t identifier = 0;
  if (libevtx_record_get_identifier(record, &identifier, &error) != 1)
    return Status::Error(StatusCode::kCorrupt, "no record identifier: " + TakeError(&error));
  record_.record_id = identifier;
  uint32_t event_id = 0;
  if (libevtx_record_get_event_identifier(record, &event_id, &error) != 1)
    return Status::Error(StatusCode::kCorrupt, "no event identifier: " + TakeError(&error));
  record_.event_id = event_id & 0xffff;  // the qualifiers are in the high bits
  uint64_t filetime = 0;
  if (libevtx_record_get_written_time(record, &filetime, &error) == 1)
    record_.written_ms = FileTimeToUnixMs(filetime);
  libevtx_error_free(&error);

  ReadRecordText(record, libevtx_record_get_utf8_source_name_size,
                 libevtx_record_get_utf8_source_name, &provider_);
  ReadRecordText(record, libevtx_record_get_utf8_computer_name_size,
                 libevtx_record_get_utf8_computer_name, &computer_);

  int count = 0;
  if (libevtx_record_get_number_of_strings(record, &count, &error) != 1) {
    libevtx_error_free(&error);
    count = 0;
  }
  if (values_.size() < static_cast<size_t>(count)) values_.resize(count);
  for (int i = 0; i < count; ++i) {
    ReadUtf8(
        [&](size_t* size, libevtx_error_t** e) {
          return libevtx_record_get_utf8_string_size(record, i, size, e);
        },
        [&](uint8_t* out, size_t size, libevtx_error_t** e) {
          return libevtx_record_get_utf8_string(record, i, out, size, e);
        },
        &values_[i]);
  }
  const std::vector<std::string>* names = NamesFor(record, count);
  if (names->size() < static_cast<size_t>(count)) ++stats_.name_misses;
  record_.provider = provider_;
  record_.computer = computer_;
  record_.fields.reserve(count);
  for (int i = 0; i < count; ++i) {
    const std::string_view name =
        static_cast<size_t>(i) < names->size() ? std::string_view((*names)[i]) : std::string_view();
    record_.fields.push_back({name, values_[i]});
  }
  return Status::Ok();
}

Result<std::unique_ptr<EvtxReader>> OpenIfEvtx(const std::string& path) {
  if (path == "-") return std::unique_ptr<EvtxReader>();
  const bool gzipped = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (!gzipped) {
    char head[8] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(head, sizeof(head));
    if (!LooksLikeEvtx(std::string_view(head, static_cast<size_t>(in.gcount()))))
      return std::unique_ptr<EvtxReader>();
    return EvtxReader::OpenFile(path);
  }
  Result<std::string> head = ReadFileHead(path, 8);
  if (!head.ok() || !LooksLikeEvtx(*head))
    return std::unique_ptr<EvtxReader>();  // the text reader says why
  Result<std::string> bytes = ReadWholeFile(path, size_t{4} << 30);
  if (!bytes.ok()) return bytes.status();
  return EvtxReader::OpenBytes(std::move(bytes).value(), path);
}

std::string RecordJson(const EvtxRecord& record) {
  nlohmann::json data = nlohmann::json::object();
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const EvtxField& field = record.fields[i];
    data[field.name.empty() ? fmt::format("value{}", i) : std::string(field.name)] =
        std::string(field.value);
  }
  nlohmann::json out = {{"record_id", record.record_id},
                        {"event_id", record.event_id},
                        {"time", IsoUtcMs(record.written_ms)},
                        {"provider", std::string(record.provider)},
                        {"computer", std::string(record.computer)},
                        {"recovered", record.recovered},
                        {"data", std::move(data)}};
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool EvtxReader::PlanOwnDecoding(int libevtx_records) {
  chunk_plan_.clear();
  if (!own_decoder_ || (handles_->fd < 0 && handles_->io == nullptr)) return false;
  const std::string_view header = handles_->Read(0, 128);
  if (header.empty()) return false;
  // libevtx's normal records are those of the chunks the header counts,
  // or of every chunk when the file is dirty (still open for writing);
  // the records of other chunks it calls recovered.
  const size_t header_chunks = Le16(header.data() + 42);
  const bool dirty = (static_cast<uint8_t>(header[120]) & 1) != 0;
  size_t records = 0;
  std::vector<uint32_t> offsets;
  for (uint64_t at = kHeaderBlockBytes, index = 0; at + kChunkSize <= handles_->size;
       at += kChunkSize, ++index) {
    if (index >= header_chunks && !dirty) break;
    // A damaged chunk is libevtx's to read (and recover from); whether its
    // records count as normal ones is settled below.
    if (!IntactChunk(handles_->Read(at, kChunkSize), &offsets)) continue;
    records += offsets.size();
    chunk_plan_.emplace_back(at, offsets);
  }
  // Both must see the same records in the same order: our record i is
  // libevtx's record i, which reads the ones our reader leaves. Having
  // read a subset of its records, the same count means the same records.
  if (records != static_cast<size_t>(libevtx_records)) {
    chunk_plan_.clear();
    return false;
  }
  return true;
}

bool EvtxReader::ReadWithLibevtx(int index, bool recovered, const ProblemCallback& on_problem) {
  libevtx_error_t* error = nullptr;
  libevtx_record_t* record = nullptr;
  const std::string where = fmt::format("{}record {}", recovered ? "recovered " : "", index);
  const int got =
      recovered ? libevtx_file_get_recovered_record_by_index(handles_->file, index, &record, &error)
                : libevtx_file_get_record_by_index(handles_->file, index, &record, &error);
  if (got != 1) {
    ++stats_.unreadable;
    on_problem({where, TakeError(&error)});
    return false;
  }
  const Status loaded = Load(record, recovered);
  libevtx_record_free(&record, &error);
  libevtx_error_free(&error);
  if (!loaded.ok()) {
    ++stats_.unreadable;
    on_problem({where, loaded.message()});
    return false;
  }
  return true;
}

bool EvtxReader::ReadOwn(const RecordCallback& on_record, const ProblemCallback& on_problem,
                         const std::function<bool()>& keep_going) {
  stats_.own_decoder = true;
  if (!decoded_) decoded_ = std::make_unique<DecodedRecord>();
  DecodedRecord& decoded = *decoded_;
  std::string why;
  int index = 0;
  for (const auto& [chunk_at, offsets] : chunk_plan_) {
    // Read again: the file may have changed since the plan, which the
    // decoder's bounds checks make harmless (a record it cannot read is
    // libevtx's).
    ChunkDecoder chunk(handles_->Read(chunk_at, kChunkSize));
    for (const uint32_t offset : offsets) {
      const int this_index = index++;
      if (keep_going && !keep_going()) return false;
      if (!chunk.Decode(offset, &decoded, &why)) {
        ++stats_.by_libevtx;
        if (!ReadWithLibevtx(this_index, /*recovered=*/false, on_problem)) continue;
      } else {
        record_.record_id = decoded.record_id;
        record_.event_id = decoded.event_id & 0xffff;  // as libevtx's path does
        record_.written_ms = FileTimeToUnixMs(decoded.written_filetime);
        record_.recovered = false;
        record_.provider = decoded.provider;
        record_.computer = decoded.computer;
        record_.fields.clear();
        bool unnamed = false;
        for (size_t i = 0; i < decoded.count; ++i) {
          record_.fields.push_back({decoded.names[i], decoded.values[i]});
          unnamed = unnamed || decoded.names[i].empty();
        }
        if (unnamed) ++stats_.name_misses;
      }
      ++stats_.records;
      on_record(record_);
    }
  }
  return true;
}

void EvtxReader::ReadAll(const RecordCallback& on_record, const ProblemCallback& on_problem,
                         const std::function<bool()>& keep_going) {
  for (const EvtxProblem& problem : header_problems_) on_problem(problem);
  libevtx_error_t* error = nullptr;
  struct Pass {
    bool recovered;
    int (*count)(libevtx_file_t*, int*, libevtx_error_t**);
  };
  const Pass passes[] = {
      {false, libevtx_file_get_number_of_records},
      {true, libevtx_file_get_number_of_recovered_records},
  };
  for (const Pass& pass : passes) {
    int count = 0;
    if (pass.count(handles_->file, &count, &error) != 1) {
      on_problem({"file", TakeError(&error)});
      continue;
    }
    if (!pass.recovered && PlanOwnDecoding(count)) {
      if (!ReadOwn(on_record, on_problem, keep_going)) return;
      continue;
    }
    for (int i = 0; i < count; ++i) {
      if (keep_going && !keep_going()) return;
      if (!ReadWithLibevtx(i, pass.recovered, on_problem)) continue;
      ++stats_.records;
      if (pass.recovered) ++stats_.recovered;
      on_record(record_);
    }
  }
}

}  // namespace recorder::evtx
