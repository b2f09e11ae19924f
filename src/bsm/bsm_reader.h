// macOS / FreeBSD audit trails (OpenBSM, audit.log(5)) in: each record's
// event, time, subject and the tokens a responder needs (paths, exec
// arguments, file attributes, sockets, return value, exit status, text).
//
// Debian packages no library that reads BSM, so this is a small reader of
// its own: a record is a header token (which carries the record's size), a
// run of tokens, and a trailer repeating the size. All integers are
// big-endian; ports and addresses are in network order.
//
// Bounds: every read is checked against the record's end, which is checked
// against the buffer's. A token this reader does not know has no length to
// skip by, so the rest of its record is skipped (the record is still
// handed over with what came before, marked incomplete, and reported). A
// record whose header or trailer is damaged is reported and reading resumes
// at the next position where a whole, consistent record starts (a header
// whose size leads to a trailer that repeats it).
//
// Thread safety: none needed; ParseTrail holds no state between calls.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace recorder::bsm {

// Address kinds as BSM encodes them: the length of the address in bytes.
inline constexpr uint32_t kAuIPv4 = 4;
inline constexpr uint32_t kAuIPv6 = 16;

struct BsmAddress {
  uint32_t type = 0;  // 0 (none), kAuIPv4 or kAuIPv6
  std::array<uint8_t, 16> bytes{};
  // Dotted or colon notation; "" when there is none.
  std::string ToString() const;
};

// A subject token (who did it) or a process token (whom it was done to):
// the same layout, 32- or 64-bit terminal ids, with or without an
// extended (IPv6-capable) terminal address.
struct BsmSubject {
  bool present = false;
  uint32_t auid = 0;  // audit (login) user id; 0xffffffff: not set
  uint32_t euid = 0;
  uint32_t egid = 0;
  uint32_t ruid = 0;
  uint32_t rgid = 0;
  uint32_t pid = 0;
  uint32_t sid = 0;  // audit session id
  uint64_t terminal_port = 0;
  BsmAddress terminal;
};

struct BsmAttr {
  bool present = false;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t fsid = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
};

// sockinet32/128 (one address: the one the call named), socket_ex and
// socket (both ends), socket-unix (a path).
struct BsmSocket {
  bool present = false;
  uint16_t family = 0;      // as the token says (AF_* of the recording system, or a BSM code)
  uint16_t type = 0;        // SOCK_STREAM 1, SOCK_DGRAM 2 (socket and socket_ex tokens only)
  uint16_t local_port = 0;  // host order
  uint16_t remote_port = 0;
  BsmAddress local;
  BsmAddress remote;
  std::string_view unix_path;
};

struct BsmArg {
  uint8_t number = 0;
  uint64_t value = 0;
  std::string_view text;
};

// One record. The string views point into the buffer given to ParseTrail
// and live as long as it does.
struct BsmRecord {
  uint64_t offset = 0;  // of the header in the trail
  uint32_t size = 0;    // bytes, header to trailer, as the header says
  uint8_t version = 0;
  uint16_t event_type = 0;
  uint16_t event_modifier = 0;
  int64_t time_ms = 0;  // Unix milliseconds
  BsmAddress host;      // the recording host, from an extended header
  BsmSubject subject;
  BsmSubject process;
  bool has_return = false;
  uint8_t return_error = 0;  // 0 on success, else the error number
  int64_t return_value = 0;
  bool has_exit = false;
  int32_t exit_status = 0;
  int32_t exit_return = 0;
  std::vector<std::string_view> paths;  // path tokens in order
  std::vector<std::string_view> exec_args;
  uint32_t exec_env_count = 0;  // environment strings are counted, not kept
  std::vector<BsmArg> args;
  std::vector<std::string_view> texts;
  std::string_view zonename;
  BsmAttr attr;
  BsmSocket socket;
  uint32_t other_tokens = 0;  // known tokens with nothing kept (ipc, opaque, groups, ...)
  // An unknown or damaged token cut the record short: what follows it in
  // the record was not read (a BsmProblem says what).
  bool incomplete = false;

  bool succeeded() const { return !has_return || return_error == 0; }
};

struct BsmProblem {
  uint64_t offset = 0;  // where in the trail
  std::string reason;
};

struct BsmReadStats {
  uint64_t records = 0;        // handed to the callback, incomplete ones included
  uint64_t incomplete = 0;     // of those, cut short by an unknown or damaged token
  uint64_t skipped_bytes = 0;  // damaged stretches no record could be read from
};

// True when `head` (a trail's first bytes) starts like a BSM trail: a file
// token, or a header token whose version is one BSM writers use.
bool LooksLikeBsm(std::string_view head);

// Reads every record of `trail` in order. Stops early when `keep_going`
// returns false.
BsmReadStats ParseTrail(std::string_view trail,
                        const std::function<void(const BsmRecord&)>& on_record,
                        const std::function<void(const BsmProblem&)>& on_problem,
                        const std::function<bool()>& keep_going = nullptr);

// The event's name as audit_event(5) spells it ("AUE_EXECVE", "AUE_login"),
// for the events this project maps; "" for the others.
std::string_view EventName(uint16_t event_type);

// One record as a JSON object (the `recorder parse` line): offset, event
// (number and name), time (ISO-8601 UTC), subject, return, and each token
// kind present.
std::string RecordJson(const BsmRecord& record);

// `path` read as a BSM trail when its content (decompressed, for a name
// ending in .gz) looks like one; an empty string with `*is_bsm` false
// when it does not, so the caller reads it as something else.
Result<std::string> ReadIfBsm(const std::string& path, bool* is_bsm);

}  // namespace recorder::bsm
