// Syscall numbers -> names and the normalizer's handling class, per
// audit architecture.
//
// Numbers differ between architectures (execve is 59 on x86_64, 11 on
// i386, 221 on aarch64) and logs from other machines are replayed here,
// so the normalizer never branches on a number: libaudit's tables give
// the name and the name gives the class. libaudit's lookups are linear
// string tables, so each (arch, number) is resolved once and cached.
// Not thread-safe: one owner (the normalizer) uses it.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace recorder {

// What the normalizer does with a syscall. Grouped by the typed event it
// produces; variants that differ only in where their arguments sit are
// kept apart so the handler knows which aN to read.
enum class SyscallClass : uint8_t {
  kOther,  // nothing to store
  kExecve,
  kExit,
  // Files.
  kOpen,     // flags in a1
  kOpenat,   // flags in a2
  kOpenat2,  // flags behind a pointer: CREATE item or "write"
  kCreat,
  kUnlink,
  kUnlinkat,  // AT_REMOVEDIR in a2 makes it an rmdir
  kRename,
  kMkdir,
  kRmdir,
  kChmod,    // mode in a1 (chmod, fchmod)
  kChmodAt,  // mode in a2 (fchmodat, fchmodat2)
  kChown,    // owner a1, group a2 (chown, fchown, lchown)
  kChownAt,  // owner a2, group a3 (fchownat)
  kTruncate,
  kLink,     // link, linkat: a hard link to an existing file
  kSymlink,  // symlink, symlinkat: the target string is not audited
  kMknod,
  kUtimes,     // utime, utimes: the path in a0
  kUtimensat,  // utimensat, futimesat: dirfd a0, path a1 (NULL: the fd itself)
  // Network.
  kSocket,
  kConnect,
  kAccept,
  kBind,
  kListen,
  kSocketcall,  // i386 multiplexer: a0 says which call, SOCKETCALL has the args
  // Privilege changes.
  kSetuid,     // one id in a0
  kSetreuid,   // real a0, effective a1
  kSetresuid,  // real a0, effective a1, saved a2
  kSetgid,
  kSetregid,
  kSetresgid,
  kSetfsuid,
  kSetfsgid,
  // Kernel modules.
  kModuleLoad,
  kModuleUnload,
};

struct SyscallInfo {
  std::string_view name;  // libaudit's name; empty when unknown
  SyscallClass klass = SyscallClass::kOther;
};

// The class for a syscall name ("openat" -> kOpenat); kOther for names
// the normalizer has nothing to store for.
SyscallClass ClassifySyscall(std::string_view name);

class SyscallTable {
 public:
  // `arch` is the SYSCALL record's arch= value (an AUDIT_ARCH_* ELF
  // machine code such as 0xc000003e).
  const SyscallInfo& Lookup(uint32_t arch, int32_t number);
  // "x86_64", "i386", "aarch64"; empty when libaudit does not know it.
  std::string_view ArchName(uint32_t arch);

 private:
  // A log can name any (arch, number), so the caches stop growing here;
  // past it lookups still work, uncached.
  static constexpr size_t kMaxCached = 4096;

  std::unordered_map<uint64_t, SyscallInfo> syscalls_;
  std::unordered_map<uint32_t, std::string_view> arches_;
  SyscallInfo uncached_;
};

}  // namespace recorder
