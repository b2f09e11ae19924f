// LineReader's Peek and ReadRest: how replay tells the format of stdin by
// its first bytes, then reads it as lines or whole.
#include "source/line_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "run_command.h"
#include "temp_dir.h"

namespace recorder {
namespace {

std::unique_ptr<LineReader> Open(const std::string& path) {
  Result<std::unique_ptr<LineReader>> reader = LineReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  return reader.ok() ? std::move(reader).value() : nullptr;
}

TEST(LineReaderTest, PeekConsumesNothing) {
  TempDir dir;
  std::unique_ptr<LineReader> reader = Open(dir.Write("a.log", "first line\nsecond\n"));
  ASSERT_NE(reader, nullptr);
  Result<std::string_view> head = reader->Peek(5);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, "first");
  EXPECT_EQ(*reader->Peek(100), "first line\nsecond\n");  // fewer at the end
  std::string_view line;
  ASSERT_EQ(reader->ReadLine(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "first line");
  EXPECT_EQ(*reader->Peek(3), "sec");
  ASSERT_EQ(reader->ReadLine(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "second");
  EXPECT_EQ(*reader->Peek(3), "");
}

// Peek sees the decompressed bytes of gzip input: its format, not gzip's.
TEST(LineReaderTest, PeekAndReadRestDecompress) {
  TempDir dir;
  const std::string plain = dir.Write("b", std::string(300000, 'x') + "end");
  ASSERT_EQ(RunCommand("gzip -k " + ShellQuote(plain)).exit_code, 0);
  std::unique_ptr<LineReader> reader = Open(plain + ".gz");
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(*reader->Peek(4), "xxxx");
  Result<std::string> rest = reader->ReadRest(size_t{1} << 20);
  ASSERT_TRUE(rest.ok()) << rest.status().message();
  EXPECT_EQ(rest->size(), 300003u);
  EXPECT_EQ(rest->substr(rest->size() - 4), "xend");
  std::string_view line;
  EXPECT_EQ(reader->ReadLine(&line), LineReader::Next::kEnd);
}

TEST(LineReaderTest, ReadRestRefusesMoreThanItsLimit) {
  TempDir dir;
  std::unique_ptr<LineReader> reader = Open(dir.Write("c", std::string(3u << 20, 'y')));
  ASSERT_NE(reader, nullptr);
  Result<std::string> rest = reader->ReadRest(size_t{2} << 20);
  ASSERT_FALSE(rest.ok());
  EXPECT_EQ(rest.status().code(), StatusCode::kInvalid);
  EXPECT_NE(rest.status().message().find("larger than 2 MiB"), std::string::npos)
      << rest.status().message();
}

}  // namespace
}  // namespace recorder
