#include "normalize/syscall_table.h"

#include <libaudit.h>

#include <array>
#include <utility>

namespace recorder {
namespace {

using C = SyscallClass;

// Names across x86_64, i386 and aarch64 (aarch64 has only the *at
// forms; i386 adds the 32-bit-id variants and socketcall).
constexpr std::pair<std::string_view, SyscallClass> kClasses[] = {
    {"execve", C::kExecve},
    {"execveat", C::kExecve},
    {"exit", C::kExit},
    {"exit_group", C::kExit},
    {"open", C::kOpen},
    {"openat", C::kOpenat},
    {"openat2", C::kOpenat2},
    {"creat", C::kCreat},
    {"unlink", C::kUnlink},
    {"unlinkat", C::kUnlinkat},
    {"rename", C::kRename},
    {"renameat", C::kRename},
    {"renameat2", C::kRename},
    {"mkdir", C::kMkdir},
    {"mkdirat", C::kMkdir},
    {"rmdir", C::kRmdir},
    {"chmod", C::kChmod},
    {"fchmod", C::kChmod},
    {"fchmodat", C::kChmodAt},
    {"fchmodat2", C::kChmodAt},
    {"chown", C::kChown},
    {"fchown", C::kChown},
    {"lchown", C::kChown},
    {"chown32", C::kChown},
    {"fchown32", C::kChown},
    {"lchown32", C::kChown},
    {"fchownat", C::kChownAt},
    {"truncate", C::kTruncate},
    {"ftruncate", C::kTruncate},
    {"truncate64", C::kTruncate},
    {"ftruncate64", C::kTruncate},
    {"link", C::kLink},
    {"linkat", C::kLink},
    {"symlink", C::kSymlink},
    {"symlinkat", C::kSymlink},
    {"mknod", C::kMknod},
    {"mknodat", C::kMknod},
    {"utime", C::kUtimes},
    {"utimes", C::kUtimes},
    {"utimensat", C::kUtimensat},
    {"futimesat", C::kUtimensat},
    {"socket", C::kSocket},
    {"connect", C::kConnect},
    {"accept", C::kAccept},
    {"accept4", C::kAccept},
    {"bind", C::kBind},
    {"listen", C::kListen},
    {"socketcall", C::kSocketcall},
    {"setuid", C::kSetuid},
    {"setuid32", C::kSetuid},
    {"setreuid", C::kSetreuid},
    {"setreuid32", C::kSetreuid},
    {"setresuid", C::kSetresuid},
    {"setresuid32", C::kSetresuid},
    {"setgid", C::kSetgid},
    {"setgid32", C::kSetgid},
    {"setregid", C::kSetregid},
    {"setregid32", C::kSetregid},
    {"setresgid", C::kSetresgid},
    {"setresgid32", C::kSetresgid},
    {"setfsuid", C::kSetfsuid},
    {"setfsuid32", C::kSetfsuid},
    {"setfsgid", C::kSetfsgid},
    {"setfsgid32", C::kSetfsgid},
    {"init_module", C::kModuleLoad},
    {"finit_module", C::kModuleLoad},
    {"delete_module", C::kModuleUnload},
};

}  // namespace

SyscallClass ClassifySyscall(std::string_view name) {
  for (const auto& [n, klass] : kClasses)
    if (n == name) return klass;
  return SyscallClass::kOther;
}

const SyscallInfo& SyscallTable::Lookup(uint32_t arch, int32_t number) {
  const uint64_t key = (static_cast<uint64_t>(arch) << 32) | static_cast<uint32_t>(number);
  if (auto it = syscalls_.find(key); it != syscalls_.end()) return it->second;
  SyscallInfo info;
  const int machine = audit_elf_to_machine(arch);
  if (machine >= 0) {
    // libaudit returns pointers into its static tables: valid for the
    // life of the process, so the view needs no copy.
    const char* name = audit_syscall_to_name(number, machine);
    if (name != nullptr) {
      info.name = name;
      info.klass = ClassifySyscall(info.name);
    }
  }
  if (syscalls_.size() >= kMaxCached) {
    uncached_ = info;
    return uncached_;
  }
  return syscalls_.emplace(key, info).first->second;
}

std::string_view SyscallTable::ArchName(uint32_t arch) {
  if (auto it = arches_.find(arch); it != arches_.end()) return it->second;
  std::string_view name;
  const int machine = audit_elf_to_machine(arch);
  if (machine >= 0) {
    const char* n = audit_machine_to_name(machine);
    if (n != nullptr) name = n;
  }
  if (arches_.size() < kMaxCached) arches_.emplace(arch, name);
  return name;
}

}  // namespace recorder
