// The filter model as read from filters.json, <product>_filters.json and
// watchlist.json (docs/filters.md), before compilation: event types,
// fields, operators, rules. Plain data; filter_parser.h fills it,
// compiled_filters.h turns it into matchers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/typed_event.h"

namespace recorder::filter {

// The event types a filter file has a section for. `registry` is accepted
// by the parser and reported as not applicable on Linux; it has no value.
// kRegistry: Windows registry changes, imported from Sysmon logs.
enum class EventType : uint8_t {
  kProcess,
  kFile,
  kNetwork,
  kSecurity,
  kModule,
  kImage,
  kDns,
  kRegistry
};
inline constexpr size_t kEventTypeCount = 8;
std::string_view EventTypeName(EventType type);

// Fields a rule can test. Which types allow which field, the names they
// are spelled with and the kind of value they hold are in filter_fields.cc.
enum class Field : uint8_t {
  kExe,            // subject executable
  kParentExe,      // the parent process's executable (process table)
  kCmdline,        // process: argv joined by spaces
  kUser,           // name of the subject's uid; security: the acting user
  kUid,            // subject uid
  kAuid,           // login uid
  kSuccess,        // the syscall succeeded
  kSyscall,        // syscall name ("openat")
  kPath,           // file / image path
  kNewPath,        // file: rename target, link target
  kOperation,      // file op, security kind, module load/unload
  kDirection,      // network: outbound / inbound / listen
  kProtocol,       // network: tcp / udp; dns: the transport
  kFamily,         // network: ipv4 / ipv6 / unix
  kLocalAddress,   // network
  kLocalPort,      // network
  kRemoteAddress,  // network; security: the remote host's address; dns: the server's
  kRemotePort,     // network; dns: the server's port
  kTargetUser,     // security: acct= / id=
  kResult,         // security: success / failed
  kRecordType,     // security: USER_AUTH, CRED_ACQ, ...
  kTerminal,       // security
  kHostname,       // security
  kModuleName,     // module
  kQuery,          // dns: the question's name
};
inline constexpr size_t kFieldCount = 25;

enum class FieldKind : uint8_t {
  kString,   // equals, contains, starts/ends with, glob, regex
  kPath,     // kString whose glob `*` stops at '/' (`**` crosses it)
  kInteger,  // a number or an inclusive range "lo-hi"
  kAddress,  // an IPv4/IPv6 address or CIDR block
  kEnum,     // one of a closed set of names (equals only)
  kBool,     // true / false
};

enum class Operator : uint8_t {
  kEquals,
  kContains,
  kStartsWith,
  kEndsWith,
  kGlob,
  kRegex,  // strings
  kRange,  // integers (equals is lo == hi)
  kCidr,   // addresses
};
std::string_view OperatorName(Operator op);

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network address, v4 in the first 4 bytes
  int prefix = 0;                   // 0..32 or 0..128
};

// One value a condition accepts.
struct Pattern {
  Operator op = Operator::kEquals;
  bool case_insensitive = false;  // ASCII letters only
  std::string text;               // strings and enums (enums lower-case)
  int64_t lo = 0, hi = 0;         // kRange
  Cidr cidr;                      // kCidr
  bool flag = false;              // kBool (op kEquals)
};

// A field and the values it may have: matches when any pattern does.
struct Condition {
  Field field = Field::kExe;
  std::vector<Pattern> patterns;
};

// Matches when every condition does.
struct Rule {
  std::string where;  // "filters.json: process.exclude[2]" for messages
  std::string name;   // the rule's "name", when given
  bool exclude = true;
  // Process exclusions: the excluded process's descendants go too
  // (default). Meaningless elsewhere.
  bool children = true;
  std::vector<Condition> conditions;
};

struct TypeRules {
  bool present = false;  // the file has a section for this type
  std::vector<Rule> include;
  std::vector<Rule> exclude;
};

// One filter file: filters.json (product "") or <product>_filters.json.
struct ProductFilters {
  std::string file;
  std::string product;
  std::array<TypeRules, kEventTypeCount> types;
};

// File operations, as bits, for the watchlist.
using OperationMask = uint16_t;
inline constexpr OperationMask kAllOperations = 0x7ff;
static_assert(kAllOperations == (1u << (static_cast<int>(FileOperation::kSetTimes) + 1)) - 1,
              "one bit per file operation: a new operation extends the mask");

struct WatchEntry {
  std::string where;
  std::string path;                  // absolute, no trailing '/': the file or subtree
  std::vector<std::string> exclude;  // paths (subtrees) or globs under it
  OperationMask operations = kAllOperations;
};

struct Watchlist {
  std::string file;
  std::vector<WatchEntry> entries;
  std::vector<std::string> exclude;  // for every entry
};

struct FilterConfig {
  std::vector<ProductFilters> products;  // filters.json first, then by product name
  std::optional<Watchlist> watchlist;
  // onlyWatchFileRoot (recorder*.json): false = file events only for
  // watchlist paths, when a watchlist exists.
  bool only_watch_file_root = true;
};

}  // namespace recorder::filter
