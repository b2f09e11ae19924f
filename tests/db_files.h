// Test helpers for whole database files: a real one made by the
// EventStore, one damaged as a torn write or a bad disk would, and a gzip
// archive read back as a responder would with gunzip.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "store/event_store.h"
#include "store/sqlite_db.h"

namespace recorder {

// A real recorder database with `rows` runs (begun from
// 2025-12-05T12:00:00Z, a millisecond apart), closed cleanly.
inline void MakeDatabase(const std::string& path, int rows) {
  constexpr int64_t kNoon = 1764936000000;
  auto store = store::EventStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  for (int i = 0; i < rows; ++i) ASSERT_TRUE((*store)->BeginRun("test", kNoon + i).ok());
  ASSERT_TRUE((*store)->Flush().ok());
}

// Overwrites the run table's root page (its b-tree header and cell
// pointers) with garbage; the file's header stays an SQLite header.
inline void DamageRunTable(const std::string& path) {
  int64_t root = 0, page_size = 0;
  {
    auto opened = store::Database::Open(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(opened.ok());
    auto r = (*opened)->QueryInt("SELECT rootpage FROM sqlite_schema WHERE name = 'run_data'");
    auto p = (*opened)->QueryInt("PRAGMA page_size");
    ASSERT_TRUE(r.ok() && p.ok());
    root = *r;
    page_size = *p;
  }
  ASSERT_GT(root, 1);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((root - 1) * page_size);
  const std::string garbage(static_cast<size_t>(page_size), '\xa5');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

// The unpacked bytes of gzip file `archive`; one that does not open is a
// test failure.
inline std::string Gunzip(const std::string& archive) {
  std::string out;
  gzFile in = gzopen(archive.c_str(), "rb");
  EXPECT_NE(in, nullptr) << archive;
  if (in == nullptr) return out;
  char buffer[65536];
  int n;
  while ((n = gzread(in, buffer, sizeof buffer)) > 0) out.append(buffer, n);
  gzclose(in);
  return out;
}

// Unpacks gzip file `archive` into file `out`.
inline void Gunzip(const std::string& archive, const std::string& out) {
  std::ofstream(out, std::ios::binary | std::ios::trunc) << Gunzip(archive);
}

}  // namespace recorder
