#include "bsm/bsm_reader.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/clock.h"
#include "util/compressed_file.h"

namespace recorder::bsm {
namespace {

// Token ids (audit.log(5), OpenBSM's bsm/audit_record.h).
enum Token : uint8_t {
  kOtherFile32 = 0x11,
  kTrailer = 0x13,
  kHeader32 = 0x14,
  kHeader32Ex = 0x15,
  kData = 0x21,
  kIpc = 0x22,
  kPath = 0x23,
  kSubject32 = 0x24,
  kProcess32 = 0x26,
  kReturn32 = 0x27,
  kText = 0x28,
  kOpaque = 0x29,
  kInAddr = 0x2a,
  kIp = 0x2b,
  kIport = 0x2c,
  kArg32 = 0x2d,
  kSocket = 0x2e,
  kSeq = 0x2f,
  kIpcPerm = 0x32,
  kNewGroups = 0x3b,
  kExecArgs = 0x3c,
  kExecEnv = 0x3d,
  kAttr32 = 0x3e,
  kExit = 0x52,
  kZonename = 0x60,
  kArg64 = 0x71,
  kReturn64 = 0x72,
  kAttr64 = 0x73,
  kHeader64 = 0x74,
  kSubject64 = 0x75,
  kProcess64 = 0x77,
  kHeader64Ex = 0x79,
  kSubject32Ex = 0x7a,
  kProcess32Ex = 0x7b,
  kSubject64Ex = 0x7c,
  kProcess64Ex = 0x7d,
  kInAddrEx = 0x7e,
  kSocketEx = 0x7f,
  kSockInet32 = 0x80,
  kSockInet128 = 0x81,
  kSockUnix = 0x82,
};
constexpr uint16_t kTrailerMagic = 0xb105;
constexpr size_t kTrailerBytes = 7;  // id, magic, size
// The smallest header (32-bit) plus the trailer.
constexpr uint32_t kSmallestRecord = 18 + kTrailerBytes;
// Far more than any record a kernel writes (exec arguments are capped).
constexpr uint32_t kLargestRecord = 64u << 20;
// A sockaddr_un path.
constexpr size_t kUnixPathMax = 104;

bool IsHeader(uint8_t id) {
  return id == kHeader32 || id == kHeader32Ex || id == kHeader64 || id == kHeader64Ex;
}

// Bounds-checked big-endian reads over one record; the first failed read
// sets `failed` and every later one returns zero.
class Cursor {
 public:
  Cursor(std::string_view bytes, size_t at) : bytes_(bytes), at_(at) {}
  size_t at() const { return at_; }
  bool failed() const { return failed_; }
  size_t left() const { return failed_ ? 0 : bytes_.size() - at_; }

  uint64_t Uint(size_t width) {
    if (!Have(width)) return 0;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) value = (value << 8) | static_cast<uint8_t>(bytes_[at_ + i]);
    at_ += width;
    return value;
  }
  uint8_t U8() { return static_cast<uint8_t>(Uint(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Uint(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Uint(4)); }
  uint64_t U64() { return Uint(8); }
  std::string_view Bytes(size_t count) {
    if (!Have(count)) return {};
    std::string_view out = bytes_.substr(at_, count);
    at_ += count;
    return out;
  }
  void Skip(size_t count) { Bytes(count); }
  // A counted string: the count includes the terminating NUL, which is
  // not part of the value.
  std::string_view CountedString() {
    std::string_view text = Bytes(U16());
    if (!text.empty() && text.back() == '\0') text.remove_suffix(1);
    return text;
  }
  // A NUL-terminated string (exec arguments). With `max`, a string that
  // has no NUL within `max` bytes is those bytes (a socket path fills its
  // sockaddr_un without one).
  std::string_view CString(size_t max = std::string_view::npos) {
    if (failed_) return {};
    const size_t span = std::min(max, bytes_.size() - at_);
    const size_t end = bytes_.substr(at_, span).find('\0');
    if (end == std::string_view::npos) {
      if (max == std::string_view::npos) {
        failed_ = true;
        return {};
      }
      return Bytes(span);
    }
    std::string_view out = bytes_.substr(at_, end);
    at_ += end + 1;
    return out;
  }
  void Address(uint32_t type, BsmAddress* out) {
    if (type != kAuIPv4 && type != kAuIPv6) {
      failed_ = true;
      return;
    }
    out->type = type;
    std::string_view raw = Bytes(type);
    for (size_t i = 0; i < raw.size(); ++i) out->bytes[i] = static_cast<uint8_t>(raw[i]);
  }

 private:
  bool Have(size_t count) {
    if (failed_ || bytes_.size() - at_ < count) {
      failed_ = true;
      return false;
    }
    return true;
  }
  std::string_view bytes_;
  size_t at_;
  bool failed_ = false;
};

void ReadSubject(Cursor* in, bool wide_port, bool extended, BsmSubject* out) {
  out->present = true;
  out->auid = in->U32();
  out->euid = in->U32();
  out->egid = in->U32();
  out->ruid = in->U32();
  out->rgid = in->U32();
  out->pid = in->U32();
  out->sid = in->U32();
  out->terminal_port = wide_port ? in->U64() : in->U32();
  in->Address(extended ? in->U32() : kAuIPv4, &out->terminal);
}

// One token at the cursor into `record`. False for a token id this reader
// does not know (its length is unknown, so the record cannot go on).
bool ReadToken(uint8_t id, Cursor* in, BsmRecord* record) {
  switch (id) {
    case kSubject32:
    case kSubject64:
    case kSubject32Ex:
    case kSubject64Ex:
      ReadSubject(in, id == kSubject64 || id == kSubject64Ex,
                  id == kSubject32Ex || id == kSubject64Ex, &record->subject);
      return true;
    case kProcess32:
    case kProcess64:
    case kProcess32Ex:
    case kProcess64Ex:
      ReadSubject(in, id == kProcess64 || id == kProcess64Ex,
                  id == kProcess32Ex || id == kProcess64Ex, &record->process);
      return true;
    case kReturn32:
    case kReturn64:
      record->has_return = true;
      record->return_error = in->U8();
      record->return_value =
          id == kReturn32 ? static_cast<int32_t>(in->U32()) : static_cast<int64_t>(in->U64());
      return true;
    case kPath:
      record->paths.push_back(in->CountedString());
      return true;
    case kText:
      record->texts.push_back(in->CountedString());
      return true;
    case kZonename:
      record->zonename = in->CountedString();
      return true;
    case kArg32:
    case kArg64: {
      BsmArg arg;
      arg.number = in->U8();
      arg.value = id == kArg32 ? in->U32() : in->U64();
      arg.text = in->CountedString();
      record->args.push_back(arg);
      return true;
    }
    case kExecArgs: {
      const uint32_t count = in->U32();
      for (uint32_t i = 0; i < count && !in->failed(); ++i)
        record->exec_args.push_back(in->CString());
      return true;
    }
    case kExecEnv: {
      const uint32_t count = in->U32();
      for (uint32_t i = 0; i < count && !in->failed(); ++i) in->CString();
      record->exec_env_count = count;
      return true;
    }
    case kAttr32:
    case kAttr64:
      record->attr.present = true;
      record->attr.mode = in->U32();
      record->attr.uid = in->U32();
      record->attr.gid = in->U32();
      record->attr.fsid = in->U32();
      record->attr.inode = in->U64();
      record->attr.device = id == kAttr32 ? in->U32() : in->U64();
      return true;
    case kExit:
      record->has_exit = true;
      record->exit_status = static_cast<int32_t>(in->U32());
      record->exit_return = static_cast<int32_t>(in->U32());
      return true;
    case kSockInet32:
    case kSockInet128:
      record->socket.present = true;
      record->socket.family = in->U16();
      record->socket.remote_port = in->U16();
      in->Address(id == kSockInet32 ? kAuIPv4 : kAuIPv6, &record->socket.remote);
      return true;
    case kSockUnix:
      record->socket.present = true;
      record->socket.family = in->U16();
      record->socket.unix_path = in->CString(kUnixPathMax);
      return true;
    case kSocket:
      record->socket.present = true;
      record->socket.type = in->U16();
      record->socket.local_port = in->U16();
      in->Address(kAuIPv4, &record->socket.local);
      record->socket.remote_port = in->U16();
      in->Address(kAuIPv4, &record->socket.remote);
      return true;
    case kSocketEx: {
      record->socket.present = true;
      record->socket.family = in->U16();  // domain
      record->socket.type = in->U16();
      const uint32_t address_type = in->U16();
      record->socket.local_port = in->U16();
      in->Address(address_type, &record->socket.local);
      record->socket.remote_port = in->U16();
      in->Address(address_type, &record->socket.remote);
      return true;
    }
    // Known tokens whose content is not kept: skipped by their layout.
    case kInAddr:
      in->Skip(4);
      break;
    case kInAddrEx: {
      BsmAddress ignored;
      in->Address(in->U32(), &ignored);
      break;
    }
    case kIport:
      in->Skip(2);
      break;
    case kSeq:
      in->Skip(4);
      break;
    case kIp:
      in->Skip(20);
      break;
    case kIpc:
      in->Skip(5);
      break;
    case kIpcPerm:
      in->Skip(28);
      break;
    case kOpaque:
      in->Skip(in->U16());
      break;
    case kNewGroups:
      in->Skip(size_t{in->U16()} * 4);
      break;
    case kData: {
      in->U8();  // how to print
      const uint8_t unit = in->U8();
      const uint8_t count = in->U8();
      static constexpr size_t kUnitBytes[] = {1, 2, 4, 8};
      if (unit >= 4) return false;
      in->Skip(kUnitBytes[unit] * count);
      break;
    }
    default:
      return false;
  }
  ++record->other_tokens;
  return true;
}

// The record that starts at `at`, when a whole one does: its header's size
// stays inside the trail and ends on a trailer that repeats it.
bool WholeRecordAt(std::string_view trail, size_t at, uint32_t* size) {
  Cursor in(trail, at);
  if (!IsHeader(in.U8())) return false;
  const uint32_t claimed = in.U32();
  if (in.failed() || claimed < kSmallestRecord || claimed > kLargestRecord ||
      claimed > trail.size() - at)
    return false;
  Cursor trailer(trail, at + claimed - kTrailerBytes);
  if (trailer.U8() != kTrailer || trailer.U16() != kTrailerMagic || trailer.U32() != claimed)
    return false;
  *size = claimed;
  return true;
}

void ReadHeader(uint8_t id, Cursor* in, BsmRecord* record) {
  record->size = in->U32();
  record->version = in->U8();
  record->event_type = in->U16();
  record->event_modifier = in->U16();
  if (id == kHeader32Ex || id == kHeader64Ex) in->Address(in->U32(), &record->host);
  const bool wide = id == kHeader64 || id == kHeader64Ex;
  const uint64_t seconds = wide ? in->U64() : in->U32();
  const uint64_t millis = wide ? in->U64() : in->U32();
  // A damaged 64-bit header may hold any number: past the year 9999 the
  // time is unknown (0) rather than an overflow.
  constexpr uint64_t kYear10000Seconds = 253'402'300'800;
  record->time_ms = seconds < kYear10000Seconds
                        ? static_cast<int64_t>(seconds) * 1000 + static_cast<int64_t>(millis % 1000)
                        : 0;
}

}  // namespace

std::string BsmAddress::ToString() const {
  if (type != kAuIPv4 && type != kAuIPv6) return "";
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(type == kAuIPv4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text));
  return text;
}

bool LooksLikeBsm(std::string_view head) {
  if (head.size() < 12) return false;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(head[i]); };
  if (byte(0) == kOtherFile32) return true;
  if (!IsHeader(byte(0))) return false;
  const uint32_t size =
      (uint32_t{byte(1)} << 24) | (uint32_t{byte(2)} << 16) | (uint32_t{byte(3)} << 8) | byte(4);
  const uint8_t version = byte(5);
  // Solaris writes 2, OpenBSM 11 (and 1 and 10 in older trails).
  return size >= kSmallestRecord && size <= kLargestRecord &&
         (version == 1 || version == 2 || version == 10 || version == 11);
}

BsmReadStats ParseTrail(std::string_view trail,
                        const std::function<void(const BsmRecord&)>& on_record,
                        const std::function<void(const BsmProblem&)>& on_problem,
                        const std::function<bool()>& keep_going) {
  BsmReadStats stats;
  size_t at = 0;
  BsmRecord record;
  while (at < trail.size()) {
    if (keep_going && !keep_going()) break;
    const auto id = static_cast<uint8_t>(trail[at]);
    if (id == kOtherFile32) {
      // Opens and closes a trail file: seconds, milliseconds, a name.
      Cursor in(trail, at + 1);
      in.Skip(8);
      in.CountedString();
      if (!in.failed()) {
        at = in.at();
        continue;
      }
    }
    uint32_t size = 0;
    if (!WholeRecordAt(trail, at, &size)) {
      // Damage: resynchronise on the next whole record.
      size_t next = at + 1;
      while (next < trail.size() && !WholeRecordAt(trail, next, &size)) ++next;
      on_problem({at, next < trail.size()
                          ? fmt::format("no whole record here: {} bytes skipped", next - at)
                          : fmt::format("no whole record in the last {} bytes", next - at)});
      stats.skipped_bytes += next - at;
      at = next;
      continue;
    }
    record = BsmRecord{};
    record.offset = at;
    // Tokens between the header and the trailer, nothing beyond them.
    Cursor in(trail.substr(0, at + size - kTrailerBytes), at + 1);
    ReadHeader(id, &in, &record);
    while (!in.failed() && in.left() > 0) {
      const size_t token_at = in.at();
      const uint8_t token = in.U8();
      if (!ReadToken(token, &in, &record)) {
        record.incomplete = true;
        on_problem({token_at, fmt::format("unknown token 0x{:02x} in the record at {}: the "
                                          "rest of the record ({} bytes) is skipped",
                                          token, at, in.left())});
        break;
      }
      if (in.failed()) {
        record.incomplete = true;
        on_problem({token_at, fmt::format("token 0x{:02x} runs past the end of the record at {}",
                                          token, at)});
      }
    }
    ++stats.records;
    if (record.incomplete) ++stats.incomplete;
    on_record(record);
    at += size;
  }
  return stats;
}

std::string_view EventName(uint16_t event_type) {
  switch (event_type) {
    case 1:
      return "AUE_EXIT";
    case 2:
      return "AUE_FORK";
    case 4:
      return "AUE_CREAT";
    case 5:
      return "AUE_LINK";
    case 6:
      return "AUE_UNLINK";
    case 7:
      return "AUE_EXEC";
    case 10:
      return "AUE_CHMOD";
    case 11:
      return "AUE_CHOWN";
    case 21:
      return "AUE_SYMLINK";
    case 23:
      return "AUE_EXECVE";
    case 25:
      return "AUE_VFORK";
    case 32:
      return "AUE_CONNECT";
    case 33:
      return "AUE_ACCEPT";
    case 34:
      return "AUE_BIND";
    case 42:
      return "AUE_RENAME";
    case 43:
      return "AUE_TRUNCATE";
    case 47:
      return "AUE_MKDIR";
    case 48:
      return "AUE_RMDIR";
    case 72:
      return "AUE_OPEN_R";
    case 73:
      return "AUE_OPEN_RC";
    case 74:
      return "AUE_OPEN_RT";
    case 75:
      return "AUE_OPEN_RTC";
    case 76:
      return "AUE_OPEN_W";
    case 77:
      return "AUE_OPEN_WC";
    case 78:
      return "AUE_OPEN_WT";
    case 79:
      return "AUE_OPEN_WTC";
    case 80:
      return "AUE_OPEN_RW";
    case 81:
      return "AUE_OPEN_RWC";
    case 82:
      return "AUE_OPEN_RWT";
    case 83:
      return "AUE_OPEN_RWTC";
    case 112:
      return "AUE_CLOSE";
    case 200:
      return "AUE_SETUID";
    case 282:
      return "AUE_RENAMEAT";
    case 286:
      return "AUE_UNLINKAT";
    case 6152:
      return "AUE_login";
    case 6153:
      return "AUE_logout";
    case 6159:
      return "AUE_su";
    case 6172:
      return "AUE_ssh";
    case 32800:
      return "AUE_openssh";
    case 43131:
      return "AUE_MAC_EXECVE";
    case 43190:
      return "AUE_POSIX_SPAWN";
    case 45021:
      return "AUE_lw_login";
    case 45023:
      return "AUE_auth_user";
    case 45028:
      return "AUE_sudo";
    default:
      // The open*at variants, 270..281, in the order of the open ones.
      if (event_type >= 270 && event_type <= 281) {
        static constexpr std::string_view kOpenAt[] = {
            "AUE_OPENAT_R",  "AUE_OPENAT_RC",  "AUE_OPENAT_RT",  "AUE_OPENAT_RTC",
            "AUE_OPENAT_W",  "AUE_OPENAT_WC",  "AUE_OPENAT_WT",  "AUE_OPENAT_WTC",
            "AUE_OPENAT_RW", "AUE_OPENAT_RWC", "AUE_OPENAT_RWT", "AUE_OPENAT_RWTC"};
        return kOpenAt[event_type - 270];
      }
      return "";
  }
}

namespace {

nlohmann::json SubjectJson(const BsmSubject& subject) {
  return {{"auid", subject.auid},
          {"euid", subject.euid},
          {"egid", subject.egid},
          {"ruid", subject.ruid},
          {"rgid", subject.rgid},
          {"pid", subject.pid},
          {"sid", subject.sid},
          {"terminal_port", subject.terminal_port},
          {"terminal", subject.terminal.ToString()}};
}

std::vector<std::string> Strings(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

}  // namespace

std::string RecordJson(const BsmRecord& record) {
  nlohmann::json out = {{"offset", record.offset},
                        {"event", record.event_type},
                        {"event_name", std::string(EventName(record.event_type))},
                        {"modifier", record.event_modifier},
                        {"time", IsoUtcMs(record.time_ms)}};
  if (record.host.type != 0) out["host"] = record.host.ToString();
  if (record.subject.present) out["subject"] = SubjectJson(record.subject);
  if (record.process.present) out["process"] = SubjectJson(record.process);
  if (record.has_return)
    out["return"] = {{"error", record.return_error}, {"value", record.return_value}};
  if (record.has_exit)
    out["exit"] = {{"status", record.exit_status}, {"return", record.exit_return}};
  if (!record.paths.empty()) out["paths"] = Strings(record.paths);
  if (!record.exec_args.empty()) out["exec_args"] = Strings(record.exec_args);
  if (record.exec_env_count > 0) out["exec_env_count"] = record.exec_env_count;
  if (!record.texts.empty()) out["texts"] = Strings(record.texts);
  if (!record.zonename.empty()) out["zonename"] = std::string(record.zonename);
  for (const BsmArg& arg : record.args)
    out["args"].push_back(
        {{"number", arg.number}, {"value", arg.value}, {"text", std::string(arg.text)}});
  if (record.attr.present) {
    out["attr"] = {{"mode", record.attr.mode},
                   {"uid", record.attr.uid},
                   {"gid", record.attr.gid},
                   {"inode", record.attr.inode},
                   {"device", record.attr.device}};
  }
  if (record.socket.present) {
    nlohmann::json socket = {{"family", record.socket.family}};
    if (record.socket.type != 0) socket["type"] = record.socket.type;
    if (record.socket.local.type != 0) {
      socket["local"] = record.socket.local.ToString();
      socket["local_port"] = record.socket.local_port;
    }
    if (record.socket.remote.type != 0) {
      socket["remote"] = record.socket.remote.ToString();
      socket["remote_port"] = record.socket.remote_port;
    }
    if (!record.socket.unix_path.empty()) socket["path"] = std::string(record.socket.unix_path);
    out["socket"] = std::move(socket);
  }
  if (record.incomplete) out["incomplete"] = true;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> ReadIfBsm(const std::string& path, bool* is_bsm) {
  *is_bsm = false;
  if (path == "-") return std::string();
  Result<std::string> head = ReadFileHead(path, 16);
  if (!head.ok() || !LooksLikeBsm(*head)) return std::string();  // the text reader says why
  *is_bsm = true;
  return ReadWholeFile(path, size_t{4} << 30);
}

}  // namespace recorder::bsm
