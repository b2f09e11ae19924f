// Test helper: a small EVTX writer, for the Sysmon event ids the public
// samples lack. One file header, one chunk, and per record an inline
// template (System with Provider, EventID, TimeCreated, EventRecordID,
// Channel, Computer; EventData with one <Data Name=...> per value) and its
// substitution values. Names are stored inline at each use. Files it
// writes are checked against `evtxexport` (tests/evtx_writer_test.cc):
// the issue allows such a writer only if libevtx's own tool reads them.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace recorder::evtx_test {

struct WrittenRecord {
  uint16_t event_id = 0;
  uint64_t filetime = 0;  // 100 ns ticks since 1601
  std::string computer = "WIN-HOST";
  std::string provider = "Microsoft-Windows-Sysmon";
  std::string channel = "Microsoft-Windows-Sysmon/Operational";
  std::vector<std::pair<std::string, std::string>> data;  // ASCII names and values
};

// Unix milliseconds as FILETIME.
inline uint64_t FileTimeOf(int64_t unix_ms) {
  return static_cast<uint64_t>(unix_ms + 11'644'473'600'000) * 10'000;
}

class EvtxWriter {
 public:
  // The whole file: header block and one 64 KiB chunk. Throws when the
  // records do not fit in one chunk.
  static std::string Write(const std::vector<WrittenRecord>& records) {
    EvtxWriter writer;
    std::string chunk(512, '\0');
    writer.out_ = &chunk;
    uint64_t last_record_offset = 512;
    for (size_t i = 0; i < records.size(); ++i) {
      last_record_offset = chunk.size();
      writer.Record(records[i], i + 1);
    }
    if (chunk.size() > 65536) throw std::length_error("records over one chunk");
    const uint32_t free_space = static_cast<uint32_t>(chunk.size());
    chunk.resize(65536, '\0');
    std::memcpy(chunk.data(), "ElfChnk\0", 8);
    Put64(&chunk, 8, 1);                // first record number
    Put64(&chunk, 16, records.size());  // last record number
    Put64(&chunk, 24, 1);               // first record id
    Put64(&chunk, 32, records.size());  // last record id
    Put32(&chunk, 40, 128);             // header size
    Put32(&chunk, 44, static_cast<uint32_t>(last_record_offset));
    Put32(&chunk, 48, free_space);
    Put32(&chunk, 52, Crc(chunk.data() + 512, free_space - 512));
    Put32(&chunk, 124,
          static_cast<uint32_t>(crc32(Crc(chunk.data(), 120),
                                      reinterpret_cast<const Bytef*>(chunk.data()) + 128,
                                      512 - 128)));
    std::string header(4096, '\0');
    std::memcpy(header.data(), "ElfFile\0", 8);
    Put64(&header, 8, 0);                    // first chunk
    Put64(&header, 16, 0);                   // last chunk
    Put64(&header, 24, records.size() + 1);  // next record id
    Put32(&header, 32, 128);
    Put16(&header, 36, 1);  // minor version
    Put16(&header, 38, 3);  // major version
    Put16(&header, 40, 4096);
    Put16(&header, 42, 1);  // chunks
    Put32(&header, 124, Crc(header.data(), 120));
    return header + chunk;
  }

 private:
  static uint32_t Crc(const char* data, size_t size) {
    return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data), size));
  }
  static void Put16(std::string* s, size_t at, uint16_t v) { std::memcpy(s->data() + at, &v, 2); }
  static void Put32(std::string* s, size_t at, uint32_t v) { std::memcpy(s->data() + at, &v, 4); }
  static void Put64(std::string* s, size_t at, uint64_t v) { std::memcpy(s->data() + at, &v, 8); }

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { out_->append(reinterpret_cast<const char*>(&v), 2); }
  void U32(uint32_t v) { out_->append(reinterpret_cast<const char*>(&v), 4); }
  void U64(uint64_t v) { out_->append(reinterpret_cast<const char*>(&v), 8); }
  void Utf16(const std::string& ascii) {
    for (char c : ascii) U16(static_cast<uint8_t>(c));
  }
  uint32_t Here() const { return static_cast<uint32_t>(out_->size()); }

  // A name stored where its offset points: right after the offset.
  void InlineName(const std::string& name) {
    U32(Here() + 4);
    U32(0);  // next name
    uint32_t hash = 0;
    for (char c : name) hash = hash * 65599 + static_cast<uint8_t>(c);
    U16(static_cast<uint16_t>(hash));
    U16(static_cast<uint16_t>(name.size()));
    Utf16(name);
    U16(0);
  }

  void ValueText(const std::string& text) {
    U8(0x05);
    U8(0x01);
    U16(static_cast<uint16_t>(text.size()));
    Utf16(text);
  }

  // <name attributes...> then `content` (which writes content tokens), or
  // an empty element when `content` is null.
  template <typename Content>
  void Element(const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& attributes, Content content,
               bool empty = false) {
    U8(attributes.empty() ? 0x01 : 0x41);
    U16(0xffff);  // dependency identifier: none
    const size_t size_at = out_->size();
    U32(0);  // data size, filled below
    const size_t data_start = out_->size();
    InlineName(name);
    if (!attributes.empty()) {
      const size_t list_at = out_->size();
      U32(0);
      const size_t list_start = out_->size();
      for (size_t i = 0; i < attributes.size(); ++i) {
        U8(i + 1 < attributes.size() ? 0x46 : 0x06);
        InlineName(attributes[i].first);
        ValueText(attributes[i].second);
      }
      Put32(out_, list_at, static_cast<uint32_t>(out_->size() - list_start));
    }
    if (empty) {
      U8(0x03);
    } else {
      U8(0x02);
      content();
      U8(0x04);
    }
    Put32(out_, size_at, static_cast<uint32_t>(out_->size() - data_start));
  }

  void Substitution(uint16_t index, uint8_t type) {
    U8(0x0d);
    U16(index);
    U8(type);
  }

  void Record(const WrittenRecord& record, uint64_t record_id) {
    const size_t start = out_->size();
    out_->append("**\0\0", 4);
    U32(0);  // size, filled below
    U64(record_id);
    U64(record.filetime);
    U8(0x0f);  // fragment header 1.1
    U8(1);
    U8(1);
    U8(0);
    U8(0x0c);  // template instance
    U8(1);
    U32(static_cast<uint32_t>(record_id));  // template id
    U32(Here() + 4);                        // definition offset: right here
    U32(0);                                 // next template
    for (int i = 0; i < 16; ++i) U8(static_cast<uint8_t>(record_id + i));  // GUID
    const size_t def_size_at = out_->size();
    U32(0);
    const size_t def_start = out_->size();
    U8(0x0f);
    U8(1);
    U8(1);
    U8(0);
    // Values: 0 EventID (uint16), 1 SystemTime (FILETIME), 2 EventRecordID
    // (uint64), 3 Computer (string), 4.. the data.
    Element("Event", {}, [&] {
      Element("System", {}, [&] {
        Element(
            "Provider", {{"Name", record.provider}}, [] {}, /*empty=*/true);
        Element("EventID", {}, [&] { Substitution(0, 0x06); });
        Element("TimeCreated", {}, [&] { Substitution(1, 0x11); });
        Element("EventRecordID", {}, [&] { Substitution(2, 0x0a); });
        Element("Channel", {}, [&] { ValueText(record.channel); });
        Element("Computer", {}, [&] { Substitution(3, 0x01); });
      });
      Element("EventData", {}, [&] {
        for (size_t i = 0; i < record.data.size(); ++i)
          Element("Data", {{"Name", record.data[i].first}},
                  [&] { Substitution(static_cast<uint16_t>(4 + i), 0x01); });
      });
    });
    U8(0x00);  // end of the template's fragment
    Put32(out_, def_size_at, static_cast<uint32_t>(out_->size() - def_start));
    // The instance's values: sizes and types, then the bytes.
    std::vector<std::pair<uint8_t, std::string>> values;
    auto bytes = [](const void* p, size_t n) {
      return std::string(static_cast<const char*>(p), n);
    };
    auto utf16 = [](const std::string& ascii) {
      std::string out;
      for (char c : ascii) {
        out.push_back(c);
        out.push_back('\0');
      }
      return out;
    };
    values.emplace_back(0x06, bytes(&record.event_id, 2));
    values.emplace_back(0x11, bytes(&record.filetime, 8));
    values.emplace_back(0x0a, bytes(&record_id, 8));
    values.emplace_back(0x01, utf16(record.computer));
    for (const auto& [name, value] : record.data) values.emplace_back(0x01, utf16(value));
    U32(static_cast<uint32_t>(values.size()));
    for (const auto& [type, data] : values) {
      U16(static_cast<uint16_t>(data.size()));
      U8(type);
      U8(0);
    }
    for (const auto& [type, data] : values) out_->append(data);
    U8(0x00);  // end of the record's document
    while ((out_->size() - start + 4) % 8 != 0) U8(0);
    U32(0);  // size copy, filled below
    const uint32_t size = static_cast<uint32_t>(out_->size() - start);
    Put32(out_, start + 4, size);
    Put32(out_, out_->size() - 4, size);
  }

  std::string* out_ = nullptr;
};

}  // namespace recorder::evtx_test
