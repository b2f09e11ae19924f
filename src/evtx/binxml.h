// Our own reader of EVTX chunks and their binary XML, for speed: libevtx
// builds a tree of allocated tags for every record and renders each value
// through several libraries, which is most of the time `recorder parse`
// spends on a Windows log (BENCHMARKS "O"). Here a chunk's templates are
// parsed once, into names and pieces, and a record is its template plus
// its substitution values: only the values the recorder keeps (provider,
// event id, computer, the event data) are rendered.
//
// What it gives must be what libevtx gives, value for value (the parity
// test compares them on every record of the sample files), so it takes
// libevtx's choices: the strings of a record are the leaves of EventData
// (or ProcessingErrorData, or the one element under UserData) whose value
// is a substitution, attributes before elements, in document order; a
// NULL substitution is no string; binary XML in a substitution adds its
// root element where it stands (Security's EventData); an array of
// strings repeats its element; values are rendered as libfvalue does.
// Whatever it does not handle (binary XML next to a template's own
// elements, other arrays, floats, ANSI strings, a lone UTF-16 surrogate,
// a damaged template) is not guessed: Decode says so and the caller asks
// libevtx for that record.
//
// Format: "Windows XML Event Log (EVTX)" in libevtx's documentation and
// [MS-EVEN6]. Offsets in a chunk are from the chunk's start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace recorder::evtx {

inline constexpr size_t kChunkSize = 65536;

// A chunk whose header, records and checksums hold together, as libevtx
// judges them: the "ElfChnk" signature, the header's CRC-32 (bytes 0-120
// and 128-512), the records' CRC-32 (512 to the free space offset), every
// record header ("**\0\0", a size inside the chunk, the size repeated at
// its end) up to the last record offset, and as many records as the
// header's first and last record numbers say. `record_offsets` gets where
// each record starts. A chunk that is not intact is left to libevtx,
// which recovers what it can.
bool IntactChunk(std::string_view chunk, std::vector<uint32_t>* record_offsets);

// One record as libevtx would give it to EvtxReader.
struct DecodedRecord {
  uint64_t record_id = 0;
  uint64_t written_filetime = 0;
  uint32_t event_id = 0;
  std::string provider;
  std::string computer;
  // The strings and, for each, the Name attribute of its <Data> element
  // ("" for another leaf). Sized to `count`; longer vectors keep their
  // strings' capacity from record to record.
  size_t count = 0;
  std::vector<std::string> values;
  std::vector<std::string> names;
};

// The records of one intact chunk. Templates are parsed on first use and
// kept for the chunk's other records.
class ChunkDecoder {
 public:
  explicit ChunkDecoder(std::string_view chunk);
  ~ChunkDecoder();
  ChunkDecoder(const ChunkDecoder&) = delete;
  ChunkDecoder& operator=(const ChunkDecoder&) = delete;

  // The record at `offset`. False, with `why`, when this reader does not
  // handle it (see the top of this file): the caller asks libevtx.
  bool Decode(uint32_t offset, DecodedRecord* out, std::string* why);

  struct Element;  // a parsed template's element (binxml.cc)
  struct Value;    // a record's substitution value

 private:
  // The template instance in [begin, end) of the chunk (after an optional
  // fragment header): its template, parsed on first use, and its values.
  bool Instance(size_t begin, size_t end, const Element** root, std::vector<Value>* values,
                std::string* why);

  // An element with the values its substitutions take.
  struct Scope {
    const Element* element;
    const std::vector<Value>* values;
  };
  // An element's children: its template's, then the roots of the binary
  // XML in its content (whose values come from the Instance there).
  bool Children(const Scope& scope, std::vector<Scope>* kids, std::string* why);
  // Appends the record's strings under `scope` to `out` (see the top).
  bool Collect(const Scope& scope, DecodedRecord* out, int depth);
  bool CollectStringArray(const Element& element, const Value& value, DecodedRecord* out);
  void NextString(DecodedRecord* out);  // scratch_ as the next string
  std::vector<Value>* NestedValues();   // a values vector for this record

  std::string_view chunk_;
  // The current record's values, and those of binary XML inside it;
  // members so that their capacity outlives the record.
  std::vector<Value> values_;
  std::vector<std::unique_ptr<std::vector<Value>>> nested_;
  size_t nested_used_ = 0;
  std::string event_id_text_;
  // Event's children and UserData's, for the record being decoded.
  std::vector<Scope> event_kids_;
  std::vector<Scope> user_data_kids_;
  std::string scratch_;
  // Parsed templates by the offset of their definition.
  std::unordered_map<uint32_t, std::unique_ptr<Element>> templates_;
};

}  // namespace recorder::evtx
