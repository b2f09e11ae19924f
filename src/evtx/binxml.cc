#include "evtx/binxml.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "evtx/binxml_value.h"
#include "util/clock.h"

namespace recorder::evtx {
namespace {

constexpr std::string_view kChunkSignature{"ElfChnk\0", 8};
constexpr std::string_view kRecordSignature{"**\0\0", 4};
constexpr uint32_t kChunkHeaderSize = 512;
constexpr uint32_t kRecordHeaderSize = 24;  // signature, size, identifier, time
// Deeper than any event template; a bound for damaged or hostile input.
constexpr int kMaxDepth = 64;

// Token types ([MS-EVEN6] 3.1.4.1); 0x40 is the "more data" flag.
enum Token : uint8_t {
  kEndOfFile = 0x00,
  kOpenStartElement = 0x01,
  kCloseStartElement = 0x02,
  kCloseEmptyElement = 0x03,
  kEndElement = 0x04,
  kValue = 0x05,
  kAttribute = 0x06,
  kCdata = 0x07,
  kCharRef = 0x08,
  kEntityRef = 0x09,
  kPiTarget = 0x0a,
  kPiData = 0x0b,
  kTemplateInstance = 0x0c,
  kNormalSubstitution = 0x0d,
  kOptionalSubstitution = 0x0e,
  kFragmentHeader = 0x0f,
};
constexpr uint8_t kMoreFlag = 0x40;

uint32_t Crc32(std::string_view bytes, uint32_t crc = 0) {
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Reads forward inside [begin, end) of the chunk; any read past `end`
// sets failed() and yields zeros, so parsing code checks once per step.
class Cursor {
 public:
  Cursor(std::string_view chunk, size_t at, size_t end)
      : chunk_(chunk), at_(at), end_(std::min(end, chunk.size())) {}

  size_t at() const { return at_; }
  bool failed() const { return failed_; }
  bool Has(size_t n) const { return !failed_ && at_ <= end_ && end_ - at_ >= n; }
  uint8_t Peek() {
    if (!Has(1)) return Fail(), 0;
    return static_cast<uint8_t>(chunk_[at_]);
  }
  uint8_t U8() {
    if (!Has(1)) return Fail(), 0;
    return static_cast<uint8_t>(chunk_[at_++]);
  }
  uint16_t U16() {
    if (!Has(2)) return Fail(), 0;
    at_ += 2;
    return Le16(chunk_.data() + at_ - 2);
  }
  uint32_t U32() {
    if (!Has(4)) return Fail(), 0;
    at_ += 4;
    return Le32(chunk_.data() + at_ - 4);
  }
  void Skip(size_t n) {
    if (!Has(n)) return Fail();
    at_ += n;
  }
  // `units` UTF-16 code units as UTF-8.
  bool Utf16(size_t units, std::string* out) {
    if (!Has(2 * units)) return Fail(), false;
    const bool ok = AppendUtf16(chunk_.data() + at_, units, out);
    at_ += 2 * units;
    if (!ok) Fail();
    return ok;
  }
  void Fail() { failed_ = true; }

 private:
  std::string_view chunk_;
  size_t at_;
  size_t end_;
  bool failed_ = false;
};

// A name (element, attribute, entity) at `offset`: 4 bytes of next-name
// offset, a 2-byte hash, a 2-byte count and that many UTF-16 units.
bool ReadName(std::string_view chunk, uint32_t offset, std::string* out) {
  Cursor at(chunk, offset, chunk.size());
  at.Skip(6);
  const uint16_t units = at.U16();
  return at.Utf16(units, out) && !at.failed();
}

// A name's offset; a name stored right there (the first use in the chunk)
// is stepped over.
bool NameAt(Cursor& c, std::string_view chunk, std::string* out) {
  const uint32_t offset = c.U32();
  if (c.failed()) return false;
  if (offset == c.at()) {
    c.Skip(6);
    const uint16_t units = c.U16();
    c.Skip(2 * size_t{units} + 2);  // the name and its NUL
  }
  return !c.failed() && ReadName(chunk, offset, out);
}

}  // namespace

// A piece of an element's content or an attribute's value: text of the
// template, or a substitution of the record's values.
struct Piece {
  bool substitution = false;
  bool optional = false;
  uint8_t type = 0;
  uint16_t index = 0;
  std::string text;
};

struct Attribute {
  std::string name;
  std::vector<Piece> value;
};

// One substitution value of a record.
struct ChunkDecoder::Value {
  uint8_t type = kNull;
  std::string_view bytes;
};

struct ChunkDecoder::Element {
  std::string name;
  std::vector<Attribute> attributes;
  std::vector<Piece> content;
  std::vector<Element> children;
};

namespace {

using Element = ChunkDecoder::Element;
using Value = ChunkDecoder::Value;

bool ParsePiece(Cursor& c, std::string_view chunk, std::vector<Piece>* pieces) {
  const uint8_t token = c.U8() & ~kMoreFlag;
  Piece piece;
  switch (token) {
    case kValue: {
      if (c.U8() != kString) return false;  // text in a template is UTF-16
      const uint16_t units = c.U16();
      if (!c.Utf16(units, &piece.text)) return false;
      break;
    }
    case kCdata: {
      const uint16_t units = c.U16();
      if (!c.Utf16(units, &piece.text)) return false;
      break;
    }
    case kNormalSubstitution:
    case kOptionalSubstitution:
      piece.substitution = true;
      piece.optional = token == kOptionalSubstitution;
      piece.index = c.U16();
      piece.type = c.U8();
      break;
    case kCharRef:
      AppendUtf8(c.U16(), &piece.text);
      break;
    case kEntityRef: {
      std::string name;
      if (!NameAt(c, chunk, &name)) return false;
      static constexpr std::pair<std::string_view, char> kEntities[] = {
          {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
      const auto* found = std::find_if(std::begin(kEntities), std::end(kEntities),
                                       [&](const auto& entity) { return entity.first == name; });
      if (found == std::end(kEntities)) return false;
      piece.text.assign(1, found->second);
      break;
    }
    default:
      return false;
  }
  if (c.failed()) return false;
  pieces->push_back(std::move(piece));
  return true;
}

bool IsPieceToken(uint8_t token) {
  switch (token & ~kMoreFlag) {
    case kValue:
    case kCdata:
    case kCharRef:
    case kEntityRef:
    case kNormalSubstitution:
    case kOptionalSubstitution:
      return true;
    default:
      return false;
  }
}

bool ParseElement(Cursor& c, std::string_view chunk, int depth, Element* element) {
  if (depth > kMaxDepth) return false;
  const uint8_t token = c.U8();
  if ((token & ~kMoreFlag) != kOpenStartElement) return false;
  c.Skip(2);  // dependency identifier
  c.Skip(4);  // data size
  if (!NameAt(c, chunk, &element->name)) return false;
  if (token & kMoreFlag) {
    c.Skip(4);  // attribute list size
    while (!c.failed() && (c.Peek() & ~kMoreFlag) == kAttribute) {
      c.U8();
      Attribute& attribute = element->attributes.emplace_back();
      if (!NameAt(c, chunk, &attribute.name)) return false;
      while (!c.failed() && IsPieceToken(c.Peek()))
        if (!ParsePiece(c, chunk, &attribute.value)) return false;
    }
  }
  const uint8_t close = c.U8();
  if (close == kCloseEmptyElement) return !c.failed();
  if (close != kCloseStartElement) return false;
  while (!c.failed()) {
    const uint8_t next = c.Peek();
    if (c.failed()) return false;
    if (next == kEndElement) {
      c.U8();
      return true;
    }
    if ((next & ~kMoreFlag) == kOpenStartElement) {
      if (!ParseElement(c, chunk, depth + 1, &element->children.emplace_back())) return false;
    } else if (IsPieceToken(next)) {
      if (!ParsePiece(c, chunk, &element->content)) return false;
    } else if (next == kPiTarget) {
      c.U8();
      std::string ignored;
      if (!NameAt(c, chunk, &ignored)) return false;
    } else if (next == kPiData) {
      c.U8();
      c.Skip(2 * size_t{c.U16()});
    } else {
      return false;
    }
  }
  return false;
}

// A template definition at `offset`: next-template offset, GUID, data
// size, then a fragment holding one element.
std::unique_ptr<Element> ParseTemplate(std::string_view chunk, uint32_t offset) {
  Cursor c(chunk, offset, chunk.size());
  c.Skip(4 + 16);
  const uint32_t size = c.U32();
  Cursor body(chunk, c.at(), c.at() + size);
  if (c.failed() || body.U8() != kFragmentHeader) return nullptr;
  body.Skip(3);
  auto root = std::make_unique<Element>();
  if (!ParseElement(body, chunk, 0, root.get()) || body.failed()) return nullptr;
  return root;
}

const Element* Child(const Element& element, std::string_view name) {
  for (const Element& child : element.children)
    if (child.name == name) return &child;
  return nullptr;
}

const Attribute* AttributeNamed(const Element& element, std::string_view name) {
  for (const Attribute& attribute : element.attributes)
    if (attribute.name == name) return &attribute;
  return nullptr;
}

// The text of a content or attribute value; false when it holds what only
// libevtx renders. `substituted` says whether a (non-NULL) substitution
// gave it, which is what makes a leaf one of the record's strings.
bool RenderPieces(const std::vector<Piece>& pieces, const std::vector<Value>& values,
                  std::string* out, bool* substituted) {
  out->clear();
  *substituted = false;
  bool literal = false;
  for (const Piece& piece : pieces) {
    if (!piece.substitution) {
      out->append(piece.text);
      literal = true;
      continue;
    }
    if (piece.index >= values.size()) return false;
    const Value& value = values[piece.index];
    if (value.type == kNull) continue;
    if (value.type != piece.type &&
        !((piece.type & 0x7f) == kSizeT &&
          ((value.type & 0x7f) == kHexInt32 || (value.type & 0x7f) == kHexInt64)))
      return false;  // libevtx refuses such a record; let it say why
    if (!RenderValue(value.type, value.bytes, out)) return false;
    *substituted = true;
  }
  // Text and a substitution in one value: libevtx keeps them as separate
  // value parts; not worth guessing how it joins them.
  return !(literal && *substituted);
}

bool IsBinXml(const Piece& piece, const std::vector<Value>& values) {
  return piece.substitution && piece.index < values.size() && values[piece.index].type == kBinXml;
}

}  // namespace

bool IntactChunk(std::string_view chunk, std::vector<uint32_t>* record_offsets) {
  record_offsets->clear();
  if (chunk.size() != kChunkSize || chunk.substr(0, 8) != kChunkSignature) return false;
  const char* p = chunk.data();
  const uint64_t first_number = Le64(p + 8);
  const uint64_t last_number = Le64(p + 16);
  const uint32_t last_record = Le32(p + 44);
  const uint32_t free_space = Le32(p + 48);
  if (Crc32(chunk.substr(128, kChunkHeaderSize - 128), Crc32(chunk.substr(0, 120))) !=
      Le32(p + 124))
    return false;
  if (free_space < kChunkHeaderSize || free_space > kChunkSize) return false;
  if (Crc32(chunk.substr(kChunkHeaderSize, free_space - kChunkHeaderSize)) != Le32(p + 52))
    return false;
  for (uint32_t at = kChunkHeaderSize; at <= last_record;) {
    if (size_t{at} + kRecordHeaderSize + 4 > kChunkSize) return false;
    if (chunk.substr(at, 4) != kRecordSignature) return false;
    const uint32_t size = Le32(p + at + 4);
    if (size < kRecordHeaderSize + 4 || size_t{at} + size > kChunkSize) return false;
    if (Le32(p + at + size - 4) != size) return false;
    record_offsets->push_back(at);
    at += size;
  }
  return first_number <= last_number && record_offsets->size() == last_number - first_number + 1;
}

ChunkDecoder::ChunkDecoder(std::string_view chunk) : chunk_(chunk) {}
ChunkDecoder::~ChunkDecoder() = default;

bool ChunkDecoder::Instance(size_t begin, size_t end, const Element** root,
                            std::vector<Value>* values, std::string* why) {
  Cursor c(chunk_, begin, end);
  if (c.Peek() == kFragmentHeader) c.Skip(4);
  if (c.U8() != kTemplateInstance) return *why = "no template instance", false;
  c.Skip(1 + 4);  // unknown, template identifier
  const uint32_t definition = c.U32();
  if (c.failed()) return *why = "template instance cut short", false;
  if (definition == c.at()) {  // defined here, its first use in the chunk
    c.Skip(4 + 16);
    c.Skip(c.U32());
  }
  auto found = templates_.find(definition);
  if (found == templates_.end())
    found = templates_.emplace(definition, ParseTemplate(chunk_, definition)).first;
  if (found->second == nullptr) return *why = "template not understood", false;
  *root = found->second.get();

  // The substitution values: a count, then (size, type, 0) each, then the
  // values one after another.
  const uint32_t count = c.U32();
  if (c.failed() || !c.Has(size_t{count} * 4)) return *why = "substitution table cut short", false;
  values->resize(count);
  const size_t table = c.at();
  c.Skip(size_t{count} * 4);
  for (size_t i = 0; i < count; ++i) {
    const uint16_t size = Le16(chunk_.data() + table + 4 * i);
    (*values)[i].type = static_cast<uint8_t>(chunk_[table + 4 * i + 2]);
    if (!c.Has(size)) return *why = "substitution values cut short", false;
    (*values)[i].bytes = chunk_.substr(c.at(), size);
    c.Skip(size);
  }
  return true;
}

std::vector<ChunkDecoder::Value>* ChunkDecoder::NestedValues() {
  if (nested_used_ == nested_.size()) nested_.push_back(std::make_unique<std::vector<Value>>());
  return nested_[nested_used_++].get();
}

bool ChunkDecoder::Children(const Scope& scope, std::vector<Scope>* kids, std::string* why) {
  kids->clear();
  for (const Element& child : scope.element->children) kids->push_back({&child, scope.values});
  for (const Piece& piece : scope.element->content) {
    if (!IsBinXml(piece, *scope.values)) continue;
    const std::string_view bytes = (*scope.values)[piece.index].bytes;
    const size_t begin = static_cast<size_t>(bytes.data() - chunk_.data());
    const Element* root = nullptr;
    std::vector<Value>* values = NestedValues();
    if (!Instance(begin, begin + bytes.size(), &root, values, why)) return false;
    kids->push_back({root, values});
  }
  return true;
}

void ChunkDecoder::NextString(DecodedRecord* out) {
  if (out->values.size() <= out->count) {
    out->values.emplace_back();
    out->names.emplace_back();
  }
  out->names[out->count].clear();
  out->values[out->count++].swap(scratch_);
}

// An array of strings in a leaf repeats the element once per string, as
// libevtx does: one string each, under the element's name. The strings
// end with a NUL each (the last may not).
bool ChunkDecoder::CollectStringArray(const Element& element, const Value& value,
                                      DecodedRecord* out) {
  if (value.type == kNull) return true;
  if (value.type != (kArrayFlag | kString) || value.bytes.empty() || value.bytes.size() % 2 != 0)
    return false;
  std::string name;
  if (element.name == "Data") {
    if (const Attribute* attribute = AttributeNamed(element, "Name")) {
      bool ignored = false;
      if (!RenderPieces(attribute->value, {}, &name, &ignored)) return false;
    }
  }
  const size_t units = value.bytes.size() / 2;
  for (size_t start = 0, i = 0; i <= units; ++i) {
    if (i < units && Le16(value.bytes.data() + 2 * i) != 0) continue;
    if (i == units && start == units) break;  // the last string had its NUL
    scratch_.clear();
    if (!AppendUtf16(value.bytes.data() + 2 * start, i - start, &scratch_)) return false;
    const size_t at = out->count;
    NextString(out);
    out->names[at] = name;
    start = i + 1;
  }
  return true;
}

// libevtx's order: an element's attributes, then the element itself when
// it has no children, else its children.
bool ChunkDecoder::Collect(const Scope& scope, DecodedRecord* out, int depth) {
  if (depth > kMaxDepth) return false;
  const Element& element = *scope.element;
  const std::vector<Value>& values = *scope.values;
  bool substituted = false;
  for (const Attribute& attribute : element.attributes) {
    if (!RenderPieces(attribute.value, values, &scratch_, &substituted)) return false;
    if (substituted) NextString(out);
  }
  // Binary XML in the content adds children (Children below).
  const bool binxml = std::any_of(element.content.begin(), element.content.end(),
                                  [&](const Piece& p) { return IsBinXml(p, values); });
  if (element.children.empty() && !binxml) {
    if (element.content.size() == 1 && element.content[0].substitution)
      if (const Piece& piece = element.content[0]; piece.type == (kArrayFlag | kString)) {
        return piece.index < values.size() && CollectStringArray(element, values[piece.index], out);
      }
    if (!RenderPieces(element.content, values, &scratch_, &substituted)) return false;
    if (!substituted) return true;
    const size_t at = out->count;
    NextString(out);
    if (element.name == "Data") {
      if (const Attribute* name = AttributeNamed(element, "Name")) {
        bool ignored = false;
        if (!RenderPieces(name->value, values, &out->names[at], &ignored)) return false;
      }
    }
    return true;
  }
  // The template's own children (every event's EventData): no list to
  // build. Where both the template and binary XML give children, their
  // order would need the content's order, which the parsed template drops.
  if (!binxml) {
    for (const Element& child : element.children)
      if (!Collect({&child, &values}, out, depth + 1)) return false;
    return true;
  }
  if (!element.children.empty()) return false;
  std::vector<Scope> kids;
  std::string why;
  if (!Children(scope, &kids, &why)) return false;
  for (const Scope& kid : kids)
    if (!Collect(kid, out, depth + 1)) return false;
  return true;
}

bool ChunkDecoder::Decode(uint32_t offset, DecodedRecord* out, std::string* why) {
  out->count = 0;
  out->provider.clear();
  out->computer.clear();
  out->event_id = 0;
  if (size_t{offset} + kRecordHeaderSize + 4 > chunk_.size())
    return *why = "record past the chunk's end", false;
  const char* p = chunk_.data() + offset;
  const uint32_t size = Le32(p + 4);
  if (size < kRecordHeaderSize + 4 || size_t{offset} + size > chunk_.size())
    return *why = "record size out of the chunk", false;
  out->record_id = Le64(p + 8);
  out->written_filetime = Le64(p + 16);
  if (static_cast<uint8_t>(p[kRecordHeaderSize]) != kFragmentHeader)
    return *why = "no fragment header", false;
  const Element* root = nullptr;
  if (!Instance(offset + kRecordHeaderSize, size_t{offset} + size - 4, &root, &values_, why))
    return false;

  bool substituted = false;
  std::string& event_id = event_id_text_;
  event_id.clear();
  if (const Element* system = Child(*root, "System")) {
    if (const Element* provider = Child(*system, "Provider")) {
      const Attribute* name = AttributeNamed(*provider, "EventSourceName");
      if (name == nullptr) name = AttributeNamed(*provider, "Name");
      if (name != nullptr && !RenderPieces(name->value, values_, &out->provider, &substituted))
        return *why = "provider name", false;
    }
    if (const Element* id = Child(*system, "EventID")) {
      if (!RenderPieces(id->content, values_, &event_id, &substituted))
        return *why = "event id", false;
    }
    if (const Element* computer = Child(*system, "Computer")) {
      if (!RenderPieces(computer->content, values_, &out->computer, &substituted))
        return *why = "computer name", false;
    }
  }
  uint64_t id = 0;
  if (event_id.empty() || event_id.size() > 10) return *why = "no event id", false;
  for (char digit : event_id) {
    if (digit < '0' || digit > '9') return *why = "event id not a number", false;
    id = id * 10 + static_cast<uint64_t>(digit - '0');
  }
  out->event_id = static_cast<uint32_t>(id);

  // The event data: an element of the template, or (Security and others)
  // binary XML in a substitution of Event's content, whose root element is
  // then Event's child; the same for UserData's one child.
  nested_used_ = 0;
  std::vector<Scope>& kids = event_kids_;
  if (!Children({root, &values_}, &kids, why)) return false;
  const Scope* data = nullptr;
  for (std::string_view name : {"EventData", "ProcessingErrorData"}) {
    for (const Scope& kid : kids)
      if (data == nullptr && kid.element->name == name) data = &kid;
  }
  std::vector<Scope>& user_kids = user_data_kids_;
  user_kids.clear();
  if (data == nullptr) {
    for (const Scope& kid : kids) {
      if (kid.element->name != "UserData") continue;
      if (!Children(kid, &user_kids, why)) return false;
      if (user_kids.size() == 1) data = &user_kids[0];
      break;
    }
  }
  if (data == nullptr) return true;
  if (!Collect(*data, out, 0)) return *why = "a value this reader leaves to libevtx", false;
  return true;
}

}  // namespace recorder::evtx
