// Windows event logs (.evtx) in: every record of a file with its event
// id, time, provider, computer and named fields, through Debian's libevtx.
//
// Records of intact chunks are decoded by our own reader (binxml.h), which
// is several times faster than libevtx; libevtx reads the rest: files with
// a damaged chunk, the records our reader leaves to it, and the records
// recovered from chunks' slack space.
//
// libevtx gives a record's values by position; their names are in the
// record's XML (<Data Name="...">), which is costly to render. The names
// depend only on the event's template, so the XML is rendered and parsed
// (expat) once per (provider, event id, number of values) and the names
// are reused for every later record of that shape.
//
// Damage is reported, never fatal: a record libevtx cannot read, records
// recovered from damaged chunks, and a file cut short (fewer chunks than
// its header names) each become an EvtxProblem, and reading goes on.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "evtx/binxml.h"
#include "util/status.h"

namespace recorder::evtx {

struct EvtxField {
  std::string_view name;
  std::string_view value;
};

// One record; the views point into the reader and live until the
// callback returns.
struct EvtxRecord {
  uint64_t record_id = 0;  // EventRecordID
  uint32_t event_id = 0;
  int64_t written_ms = 0;  // Unix milliseconds, from the record's FILETIME
  bool recovered = false;  // read back from a damaged chunk
  std::string_view provider;
  std::string_view computer;
  std::vector<EvtxField> fields;

  // The value of the field called `name`, or "" when there is none.
  std::string_view Field(std::string_view name) const;
};

// `where` is the record index (or "header"); `reason` says what is wrong.
struct EvtxProblem {
  std::string where;
  std::string reason;
};

struct EvtxReadStats {
  uint64_t records = 0;      // handed to the callback, recovered ones included
  uint64_t recovered = 0;    // of those, from damaged chunks
  uint64_t unreadable = 0;   // records libevtx could not read
  uint64_t name_misses = 0;  // records whose values outnumber their template's names
  uint64_t by_libevtx = 0;   // records of intact chunks our reader left to libevtx
  bool own_decoder = false;  // the file's chunks were intact: our reader ran
};

// True when `head` (the file's first bytes) starts with the EVTX signature.
bool LooksLikeEvtx(std::string_view head);

// The header's claim about the file against its size: a problem when the
// header names more chunks than the file holds (a file cut short).
// `header` is the file's first 4096 bytes or fewer.
std::vector<EvtxProblem> CheckHeader(std::string_view header, uint64_t file_size);

// FILETIME (100 ns ticks since 1601-01-01 UTC) to Unix milliseconds.
int64_t FileTimeToUnixMs(uint64_t filetime);

// The <Data Name="..."> names of a record's XML, in order (EventData or
// UserData); an error when the XML does not parse.
Result<std::vector<std::string>> DataNamesFromXml(std::string_view xml);

class EvtxReader;

// `path` opened as EVTX when its content (decompressed, for a name ending
// in .gz) starts with the EVTX signature; a null reader when it does not,
// so the caller reads it as audit text. "-" (stdin) is never taken as
// EVTX: its first bytes cannot be given back to the text reader.
Result<std::unique_ptr<EvtxReader>> OpenIfEvtx(const std::string& path);

// One record as a JSON object: record_id, event_id, time (ISO-8601 UTC),
// provider, computer, recovered, and its values under "data" by name
// (unnamed values as "value<N>").
std::string RecordJson(const EvtxRecord& record);

class EvtxReader {
 public:
  using RecordCallback = std::function<void(const EvtxRecord&)>;
  using ProblemCallback = std::function<void(const EvtxProblem&)>;

  // A file on disk, read in place.
  static Result<std::unique_ptr<EvtxReader>> OpenFile(const std::string& path);
  // A file already in memory (stdin, a decompressed .gz); `name` is for
  // messages.
  static Result<std::unique_ptr<EvtxReader>> OpenBytes(std::string bytes, std::string name);

  ~EvtxReader();
  EvtxReader(const EvtxReader&) = delete;
  EvtxReader& operator=(const EvtxReader&) = delete;

  // Every record in file order, then the recovered ones; a problem for
  // each record that cannot be read. Stops early when `keep_going`
  // returns false (Ctrl-C).
  void ReadAll(const RecordCallback& on_record, const ProblemCallback& on_problem,
               const std::function<bool()>& keep_going = nullptr);

  const EvtxReadStats& stats() const { return stats_; }
  // Off: libevtx reads every record (the parity test's reference).
  void set_own_decoder(bool on) { own_decoder_ = on; }
  const std::string& name() const { return name_; }

 private:
  struct Handles;
  EvtxReader(std::string name, std::unique_ptr<Handles> handles);
  // Reads one record into record_ (and the buffers it points into).
  Status Load(void* libevtx_record, bool recovered);
  const std::vector<std::string>* NamesFor(void* libevtx_record, int values);
  // The records of intact chunks, where each starts, when every chunk of
  // the file is intact or unused and they are as many as libevtx counts;
  // false otherwise (libevtx reads the file).
  bool PlanOwnDecoding(int libevtx_records);
  // The normal records through our reader; false when stopped early.
  bool ReadOwn(const RecordCallback& on_record, const ProblemCallback& on_problem,
               const std::function<bool()>& keep_going);
  // Record `index` through libevtx into record_; false after reporting why not.
  bool ReadWithLibevtx(int index, bool recovered, const ProblemCallback& on_problem);

  std::string name_;
  std::unique_ptr<Handles> handles_;
  EvtxReadStats stats_;
  std::vector<EvtxProblem> header_problems_;  // reported first by ReadAll
  // Names per template shape: (provider, event id, number of values).
  std::map<std::tuple<std::string, uint32_t, int>, std::vector<std::string>> names_;
  // The current record and the storage its views point into.
  EvtxRecord record_;
  std::string provider_;
  std::string computer_;
  std::vector<std::string> values_;
  std::string xml_;
  bool own_decoder_ = true;
  // For our reader: each chunk's offset in the file and its records' offsets.
  std::vector<std::pair<uint64_t, std::vector<uint32_t>>> chunk_plan_;
  std::unique_ptr<DecodedRecord> decoded_;
};

}  // namespace recorder::evtx
