#include "parse/record_parser.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <charconv>
#include <random>
#include <string>
#include <vector>

#include "parse/field_values.h"
#include "parse/message_types.h"

namespace recorder {
namespace {

std::string Fields(const AuditRecord& r) {
  std::string out;
  for (const AuditField& f : r.fields) {
    if (!out.empty()) out += ' ';
    out += f.interpreted ? "*" : "";
    out += std::string(f.name) + "=" + std::string(f.value);
  }
  return out;
}

TEST(RecordParser, PlainSyscallLine) {
  AuditRecord r;
  std::string line =
      "type=SYSCALL msg=audit(1700000000.123:4567): arch=c000003e syscall=59 success=yes "
      "exit=0 ppid=1 pid=42 comm=\"ls\" exe=\"/usr/bin/ls\" key=(null)";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(r.type_name, "SYSCALL");
  EXPECT_EQ(r.type, audit_type::kSyscall);
  EXPECT_EQ(r.time_sec, 1700000000);
  EXPECT_EQ(r.time_msec, 123);
  EXPECT_EQ(r.time_ms(), 1700000000123);
  EXPECT_EQ(r.serial, 4567u);
  EXPECT_TRUE(r.node.empty());
  EXPECT_EQ(Fields(r),
            "arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 comm=ls "
            "exe=/usr/bin/ls key=(null)");
  EXPECT_EQ(r.Find("comm")->spelling, ValueSpelling::kQuoted);
  EXPECT_EQ(r.Find("key")->spelling, ValueSpelling::kNull);
  EXPECT_EQ(r.Find("arch")->spelling, ValueSpelling::kBare);
  EXPECT_FALSE(r.truncated);
}

TEST(RecordParser, NodePrefixAndEnrichedFields) {
  AuditRecord r;
  std::string line =
      "node=web1 type=SYSCALL msg=audit(1.001:2): uid=0 auid=4294967295 key=\"k\"\x1d"
      "ARCH=x86_64 UID=\"root\" AUID=\"unset\"";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(r.node, "web1");
  EXPECT_EQ(Fields(r), "uid=0 auid=4294967295 key=k *ARCH=x86_64 *UID=root *AUID=unset");
  EXPECT_EQ(r.Value("uid"), "0");
  ASSERT_NE(r.FindInterpreted("UID"), nullptr);
  EXPECT_EQ(r.FindInterpreted("UID")->value, "root");
  EXPECT_EQ(r.Find("UID"), nullptr);  // Find() is raw fields only
}

TEST(RecordParser, EnrichedSeparatorRightAfterBareValue) {
  AuditRecord r;
  std::string line = "type=CWD msg=audit(1.000:2): cwd=2F746D70\x1dUID=\"root\"";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(Fields(r), "cwd=2F746D70 *UID=root");
}

TEST(RecordParser, MalformedEnrichedWithSpaceInsteadOfSeparator) {
  AuditRecord r;
  std::string line = "type=SYSCALL msg=audit(1.000:2): uid=0 key=(null) ARCH=x86_64 UID=\"root\"";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(r.Value("uid"), "0");
  EXPECT_TRUE(r.fields[2].interpreted);
  EXPECT_EQ(r.FindInterpreted("UID")->value, "root");
}

TEST(RecordParser, UnknownTypeNumberAndNumericType) {
  AuditRecord r;
  ASSERT_EQ(ParseRecordLine("type=UNKNOWN[1329] msg=audit(1.000:9): a=b", &r), ParseError::kNone);
  EXPECT_EQ(r.type, 1329);
  ASSERT_EQ(ParseRecordLine("type=1300 audit(1.000:9): a=b", &r), ParseError::kNone);
  EXPECT_EQ(r.type, 1300);
  ASSERT_EQ(ParseRecordLine("type=NOT_A_TYPE msg=audit(1.000:9): a=b", &r), ParseError::kNone);
  EXPECT_EQ(r.type, 0);
  EXPECT_EQ(r.type_name, "NOT_A_TYPE");
}

TEST(RecordParser, SyslogPrefix) {
  AuditRecord r;
  ASSERT_EQ(
      ParseRecordLine("Nov 25 10:00:00 host audispd: node=h1 type=EOE msg=audit(5.5:7): ", &r),
      ParseError::kBadTimestamp);  // msec must have three digits
  ASSERT_EQ(
      ParseRecordLine("Nov 25 10:00:00 host audispd: node=h1 type=EOE msg=audit(5.500:7): ", &r),
      ParseError::kNone);
  EXPECT_EQ(r.node, "h1");
  EXPECT_EQ(r.type, audit_type::kEoe);
  ASSERT_EQ(ParseRecordLine("[ 12.3] audit: type=1327 audit(1700000000.001:3): proctitle=6C73", &r),
            ParseError::kNone);
  EXPECT_EQ(r.type, audit_type::kProctitle);
  EXPECT_EQ(r.Value("proctitle"), "6C73");
}

TEST(RecordParser, UserSpaceMessageIsFlattened) {
  AuditRecord r;
  std::string line =
      "type=USER_AUTH msg=audit(1700000000.500:77): pid=900 uid=0 auid=1000 ses=3 "
      "subj=unconfined msg='op=PAM:authentication grantors=pam_rootok acct=\"root\" "
      "exe=\"/usr/bin/su\" hostname=? addr=? terminal=pts/0 res=success'\x1dUID=\"root\"";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(r.type_name, "USER_AUTH");
  EXPECT_EQ(Fields(r),
            "pid=900 uid=0 auid=1000 ses=3 subj=unconfined op=PAM:authentication "
            "grantors=pam_rootok acct=root exe=/usr/bin/su hostname=? addr=? terminal=pts/0 "
            "res=success *UID=root");
  EXPECT_EQ(r.Find("hostname")->spelling, ValueSpelling::kUnset);
  EXPECT_EQ(r.Find("msg"), nullptr);
}

TEST(RecordParser, WordsWithoutValueAreSkipped) {
  AuditRecord r;
  std::string line =
      "type=AVC msg=audit(1.000:1): avc:  denied  { read } for  pid=5 comm=\"cat\" tclass=file";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(Fields(r), "pid=5 comm=cat tclass=file");
}

TEST(RecordParser, TruncatedQuoteKeepsWhatParsed) {
  AuditRecord r;
  ASSERT_EQ(ParseRecordLine("type=SYSCALL msg=audit(1.000:1): pid=5 comm=\"ca", &r),
            ParseError::kNone);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(Fields(r), "pid=5 comm=ca");
}

TEST(RecordParser, MalformedLines) {
  AuditRecord r;
  EXPECT_EQ(ParseRecordLine("", &r), ParseError::kEmptyLine);
  EXPECT_EQ(ParseRecordLine("\n", &r), ParseError::kEmptyLine);
  EXPECT_EQ(ParseRecordLine("hello world", &r), ParseError::kNoType);
  EXPECT_EQ(ParseRecordLine("type= msg=audit(1.000:1): a=b", &r), ParseError::kEmptyType);
  EXPECT_EQ(ParseRecordLine("type=SYSCALL msg=1.000:1 a=b", &r), ParseError::kNoTimestamp);
  EXPECT_EQ(ParseRecordLine("type=SYSCALL msg=audit(1.000): a=b", &r), ParseError::kNoSerial);
  EXPECT_EQ(ParseRecordLine("type=SYSCALL msg=audit(1.000:): a=b", &r), ParseError::kNoSerial);
  EXPECT_EQ(ParseRecordLine("type=SYSCALL msg=audit(x.000:1): a=b", &r), ParseError::kBadTimestamp);
  EXPECT_EQ(ParseRecordLine("type=SYSCALL msg=audit(1", &r), ParseError::kBadTimestamp);
  EXPECT_EQ(ParseRecordLine(std::string(kMaxLineBytes + 1, 'a'), &r), ParseError::kTooLong);
  std::string garbage("\x00\xff\x01type=\x80\x90", 9);
  EXPECT_NE(ParseRecordLine(garbage, &r), ParseError::kNone);
}

TEST(RecordParser, NetlinkBody) {
  AuditRecord r;
  // A netlink body may end in a NUL: it is not part of the record.
  const std::string body = std::string("audit(1700000000.010:12): cwd=\"/root\"") + '\0';
  ASSERT_EQ(ParseRecordBodyHeader(audit_type::kCwd, body, &r), ParseError::kNone);
  EXPECT_EQ(r.type_name, "CWD");
  EXPECT_EQ(r.serial, 12u);
  EXPECT_TRUE(r.body.ends_with("cwd=\"/root\"")) << r.body;
  EXPECT_TRUE(r.fields.empty());  // the header only
  ParseRecordFields(&r);
  EXPECT_EQ(r.Value("cwd"), "/root");
  EXPECT_EQ(ParseRecordBodyHeader(audit_type::kCwd, "cwd=\"/root\"", &r), ParseError::kNoTimestamp);
}

TEST(RecordParser, FieldVectorIsReused) {
  AuditRecord r;
  std::string line = "type=SYSCALL msg=audit(1.000:1): a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8";
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  const AuditField* data = r.fields.data();
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  EXPECT_EQ(r.fields.data(), data);  // no reallocation for a same-size record
}

TEST(FieldValues, DecodeUntrusted) {
  AuditRecord r;
  ASSERT_EQ(ParseRecordLine("type=PATH msg=audit(1.000:1): name=2F746D702F6120622E747874 "
                            "nametype=CREATE other=\"x y\" n=(null) odd=ABC",
                            &r),
            ParseError::kNone);
  EXPECT_EQ(DecodeUntrusted(*r.Find("name")), "/tmp/a b.txt");
  EXPECT_EQ(DecodeUntrusted(*r.Find("other")), "x y");
  EXPECT_EQ(DecodeUntrusted(*r.Find("n")), "(null)");
  EXPECT_EQ(DecodeUntrusted(*r.Find("odd")), "ABC");  // odd length: not hex
  EXPECT_EQ(ParseInt<int64_t>("-115"), -115);
  EXPECT_EQ(ParseInt<uint32_t>("c000003e", 16), 0xc000003eu);
  EXPECT_FALSE(ParseInt<int>("12x").has_value());
}

// ParseInt's hand-written decimal path must say exactly what from_chars
// says, for every integer type the recorder parses with it.
template <typename Int>
std::optional<Int> FromChars(std::string_view text, int base = 10) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

template <typename Int>
void ExpectParseIntAgrees(const std::vector<std::string>& inputs, int base = 10) {
  for (const std::string& text : inputs)
    EXPECT_EQ(ParseInt<Int>(text, base), FromChars<Int>(text, base)) << text << " base " << base;
}

TEST(FieldValues, ParseIntAgreesWithFromChars) {
  std::vector<std::string> inputs = {"",
                                     "-",
                                     "0",
                                     "-0",
                                     "00",
                                     "7",
                                     "-7",
                                     "+7",
                                     " 7",
                                     "7 ",
                                     "1x",
                                     "x1",
                                     "--1",
                                     "127",
                                     "128",
                                     "-128",
                                     "-129",
                                     "255",
                                     "256",
                                     "32767",
                                     "32768",
                                     "-32768",
                                     "-32769",
                                     "65535",
                                     "65536",
                                     "2147483647",
                                     "2147483648",
                                     "-2147483648",
                                     "-2147483649",
                                     "4294967295",
                                     "4294967296",
                                     "999999999999999999",
                                     "-999999999999999999",
                                     "1000000000000000000",
                                     "9223372036854775807",
                                     "9223372036854775808",
                                     "-9223372036854775808",
                                     "-9223372036854775809",
                                     "18446744073709551615",
                                     "18446744073709551616",
                                     "000000000000000000001",
                                     "12345678901234567890123"};
  std::mt19937_64 random(42);
  for (int i = 0; i < 2000; ++i) {
    std::string text = std::to_string(static_cast<int64_t>(random()) >> (random() % 64));
    if (random() % 5 == 0) text[random() % text.size()] = "0-9a:/ "[random() % 7];
    inputs.push_back(text);
  }
  ExpectParseIntAgrees<int32_t>(inputs);
  ExpectParseIntAgrees<uint32_t>(inputs);
  ExpectParseIntAgrees<int64_t>(inputs);
  ExpectParseIntAgrees<uint64_t>(inputs);
  ExpectParseIntAgrees<int16_t>(inputs);
  ExpectParseIntAgrees<uint8_t>(inputs);
}

// ... and its hex path too (arch=, a0..a3).
TEST(FieldValues, ParseHexAgreesWithFromChars) {
  std::vector<std::string> inputs = {"",
                                     "-",
                                     "0",
                                     "-1",
                                     "+1",
                                     " 1",
                                     "1 ",
                                     "0x1",
                                     "c000003e",
                                     "C000003E",
                                     "cAfE",
                                     "g",
                                     "fg",
                                     "ff",
                                     "100",
                                     "ffff",
                                     "10000",
                                     "ffffffff",
                                     "100000000",
                                     "7fffffffffffffff",
                                     "fffffffffffffff",
                                     "ffffffffffffffff",
                                     "10000000000000000",
                                     "000000000000000001",
                                     "@",
                                     "`",
                                     "G",
                                     "/",
                                     ":",
                                     "\x80",
                                     "a\xff",
                                     "\xe1"};
  std::mt19937_64 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::string text = fmt::format("{:x}", random() >> (random() % 64));
    if (random() % 3 == 0)
      for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (random() % 5 == 0) text[random() % text.size()] = "0-9aF:/ gG@`"[random() % 12];
    inputs.push_back(text);
  }
  ExpectParseIntAgrees<uint8_t>(inputs, 16);
  ExpectParseIntAgrees<uint32_t>(inputs, 16);
  ExpectParseIntAgrees<uint64_t>(inputs, 16);
  ExpectParseIntAgrees<int64_t>(inputs, 16);  // signed: from_chars all the way
}

// audit(SEC.MSEC:SERIAL), parsed by hand: the numbers at their limits
// (Digits reads up to 18 digits; a longer serial goes to from_chars), and
// every way a stamp can be broken.
TEST(RecordParser, StampsOfEveryShape) {
  struct Case {
    const char* stamp;
    ParseError error;
    int64_t sec;
    int32_t msec;
    uint64_t serial;
  };
  const Case cases[] = {
      {"audit(1700000000.123:42):", ParseError::kNone, 1700000000, 123, 42},
      {"audit(1700000000.123:42)", ParseError::kNone, 1700000000, 123, 42},
      {"audit(0.000:0):", ParseError::kNone, 0, 0, 0},
      // No signs: a negative time is no kernel's, and "-12" is three bytes.
      {"audit(-5.000:1):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(1.-12:1):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(+5.000:1):", ParseError::kBadTimestamp, 0, 0, 0},
      // The largest second time_ms() can hold (INT64_MAX / 1000, less
      // one for the milliseconds), and the next.
      {"audit(9223372036854774.999:1):", ParseError::kNone, 9223372036854774, 999, 1},
      {"audit(9223372036854775.000:1):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(123456789012345678.000:1):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(1234567890123456789.999:1):", ParseError::kBadTimestamp, 0, 0, 0},
      // Serials: 18 digits by hand, 19 and 20 by from_chars, 2^64 refused.
      {"audit(1.000:123456789012345678):", ParseError::kNone, 1, 0, 123456789012345678u},
      {"audit(1.000:1234567890123456789):", ParseError::kNone, 1, 0, 1234567890123456789u},
      {"audit(1.000:18446744073709551615):", ParseError::kNone, 1, 0, 18446744073709551615u},
      {"audit(1.000:18446744073709551616):", ParseError::kNoSerial, 0, 0, 0},
      {"audit(1.000:-1):", ParseError::kNoSerial, 0, 0, 0},
      {"audit(1.12:1):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(1.1234:1):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(1.123):", ParseError::kNoSerial, 0, 0, 0},
      {"audit(1.123:):", ParseError::kNoSerial, 0, 0, 0},
      {"audit(1.123:5", ParseError::kNoSerial, 0, 0, 0},
      {"audit(1.123:5x):", ParseError::kNoSerial, 0, 0, 0},
      {"audit(.123:5):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(x.123:5):", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(1", ParseError::kBadTimestamp, 0, 0, 0},
      {"audit(", ParseError::kBadTimestamp, 0, 0, 0},
      {"audi(1.123:5):", ParseError::kNoTimestamp, 0, 0, 0},
  };
  for (const Case& c : cases) {
    AuditRecord r;
    std::string line = std::string("type=SYSCALL msg=") + c.stamp + " a=1";
    EXPECT_EQ(ParseRecordLine(line, &r), c.error) << c.stamp;
    if (c.error != ParseError::kNone) continue;
    EXPECT_EQ(r.time_sec, c.sec) << c.stamp;
    EXPECT_EQ(r.time_msec, c.msec) << c.stamp;
    EXPECT_EQ(r.serial, c.serial) << c.stamp;
    EXPECT_EQ(r.Value("a"), "1") << c.stamp;
  }
}

// The field splitter scans words at a time; this is the same grammar a
// byte at a time, the way it reads in the parser's header comment. Random
// lines over the bytes that matter (separators, quotes, '=', other control
// and high bytes) must split the same both ways.
struct RefField {
  std::string name, value;
  ValueSpelling spelling;
  bool interpreted;
  bool operator==(const RefField&) const = default;
};
void PrintTo(const RefField& f, std::ostream* os) {
  *os << "{" << ::testing::PrintToString(f.name) << "=" << ::testing::PrintToString(f.value)
      << " spelling " << static_cast<int>(f.spelling) << (f.interpreted ? " interpreted" : "")
      << "}";
}

void RefSplit(std::string_view text, bool nested, std::vector<RefField>* out, bool* truncated) {
  auto ends_value = [](char c) { return c == ' ' || c == '\x1d'; };
  auto is_upper_name = [](std::string_view n) {
    if (n.empty() || !(n[0] >= 'A' && n[0] <= 'Z')) return false;
    for (char c : n)
      if (!((c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9'))) return false;
    return true;
  };
  size_t i = 0;
  bool interpreted = false;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    if (text[i] == '\x1d') {
      interpreted = true;
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && !ends_value(text[i]) && text[i] != '=') ++i;
    if (i == text.size() || text[i] != '=') continue;
    std::string name(text.substr(start, i - start));
    ++i;
    RefField f{name, "", ValueSpelling::kBare, interpreted || is_upper_name(name)};
    if (i < text.size() && (text[i] == '"' || (text[i] == '\'' && !nested))) {
      char quote = text[i];
      size_t close = text.find(quote, i + 1);
      if (close == std::string_view::npos) {
        *truncated = true;
        close = text.size();
      }
      std::string_view value = text.substr(i + 1, close - i - 1);
      i = close == text.size() ? close : close + 1;
      if (quote == '\'' && name == "msg") {
        RefSplit(value, true, out, truncated);
        continue;
      }
      f.value = std::string(value);
      f.spelling = ValueSpelling::kQuoted;
    } else {
      size_t e = i;
      while (e < text.size() && !ends_value(text[e])) ++e;
      f.value = std::string(text.substr(i, e - i));
      f.spelling = f.value == "(null)"                       ? ValueSpelling::kNull
                   : (f.value == "?" || f.value == "(none)") ? ValueSpelling::kUnset
                                                             : ValueSpelling::kBare;
      i = e;
    }
    out->push_back(f);
  }
}

TEST(RecordParser, FieldsSplitAsTheBytewiseGrammarSays) {
  // (No '\n' or '\r': a line ends there.)
  const std::string alphabet = std::string(
      "  ==\"'\x1d\t\x01"
      "\x00"
      "aZ0_()?\x80\xff",
      19);
  std::mt19937_64 random(1234);
  AuditRecord r;
  for (int n = 0; n < 20000; ++n) {
    std::string body;
    const size_t length = random() % 48;
    for (size_t i = 0; i < length; ++i) {
      if (random() % 4 == 0) {
        body += "msg='";  // now and then a user record's nested fields
        continue;
      }
      body += alphabet[random() % alphabet.size()];
    }
    const std::string line = "type=USER_AUTH msg=audit(1.000:1): " + body;
    ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
    std::vector<RefField> want;
    bool want_truncated = false;
    RefSplit(body, false, &want, &want_truncated);
    std::vector<RefField> got;
    for (const AuditField& f : r.fields)
      got.push_back({std::string(f.name), std::string(f.value), f.spelling, f.interpreted});
    ASSERT_EQ(got, want) << "body: " << body;
    ASSERT_EQ(r.truncated, want_truncated) << "body: " << body;
  }
}

TEST(MessageTypes, LibauditTable) {
  EXPECT_EQ(MessageTypeFromName("EXECVE"), audit_type::kExecve);
  EXPECT_EQ(MessageTypeName(audit_type::kSockaddr), "SOCKADDR");
  EXPECT_EQ(MessageTypeFromName("USER_AUTH"), 1100);
  EXPECT_TRUE(IsSingleRecordType(1100));
  EXPECT_TRUE(IsSingleRecordType(2100));  // ANOM_LOGIN_FAILURES
  EXPECT_FALSE(IsSingleRecordType(audit_type::kSyscall));
  EXPECT_FALSE(IsSingleRecordType(audit_type::kKernModule));
  EXPECT_EQ(MessageTypeFromName("KERN_MODULE"), audit_type::kKernModule);
  EXPECT_EQ(MessageTypeFromName("ANOM_ABEND"), audit_type::kAnomAbend);
  EXPECT_TRUE(IsSingleRecordType(audit_type::kAnomAbend));
  EXPECT_FALSE(IsSingleRecordType(audit_type::kLogin));
}

}  // namespace
}  // namespace recorder
