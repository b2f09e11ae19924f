// BSM records -> the TypedEvents Linux audit becomes, so a macOS trail
// fills the same views (processes with ancestry, files, network, logins).
//
// What maps to what (audit_event(5) names):
//   AUE_EXECVE, AUE_MAC_EXECVE, AUE_EXEC   -> ProcessStart (failed: ExecFailure)
//   AUE_POSIX_SPAWN                        -> ProcessStart of the child
//   AUE_FORK, AUE_VFORK                    -> nothing stored; the child's
//                                             parent is remembered
//   AUE_EXIT                               -> ProcessEnd
//   AUE_OPEN_*/AUE_OPENAT_* with C (O_CREAT) -> FileEvent create; with W
//                                             (writing) -> write; read-only
//                                             opens are not stored
//   AUE_CREAT, AUE_UNLINK(AT), AUE_RENAME(AT), AUE_MKDIR, AUE_RMDIR,
//   AUE_CHMOD, AUE_CHOWN, AUE_LINK, AUE_SYMLINK, AUE_TRUNCATE -> FileEvent
//   AUE_CONNECT, AUE_ACCEPT                -> NetworkEvent out / in
//   AUE_login/logout, AUE_openssh, AUE_ssh, AUE_lw_login, AUE_auth_user,
//   AUE_su, AUE_sudo                       -> SecurityEvent
// Other events are counted as unmapped, not errors.
//
// BSM subjects carry no parent pid and no executable: the mapper keeps,
// per pid, the parent a fork or spawn named and the program an exec ran,
// and fills them into every later event of that pid. State is per trail
// sequence (one host): use one mapper for the files of one host in order.
//
// Thread safety: none; one mapper per reading thread.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bsm/bsm_reader.h"
#include "normalize/typed_event.h"

namespace recorder::bsm {

struct BsmMappingStats {
  uint64_t mapped = 0;    // records that became an event
  uint64_t unmapped = 0;  // records of events this mapping does not store
  uint64_t forks = 0;     // fork records remembered for ancestry
};

class BsmMapper {
 public:
  // `node` names the host in every event (EventHeader::node); empty for
  // none.
  explicit BsmMapper(std::string node) : node_(std::move(node)) {}

  // Appends the events `record` becomes (none, or one) to `out`.
  void Map(const BsmRecord& record, std::vector<TypedEvent>* out);

  const BsmMappingStats& stats() const { return stats_; }

 private:
  struct Known {
    int32_t ppid = 0;
    std::string exe;
  };
  Subject SubjectOf(const BsmRecord& record);
  EventHeader HeaderOf(const BsmRecord& record) const;

  std::string node_;
  std::unordered_map<uint32_t, Known> by_pid_;
  BsmMappingStats stats_;
};

}  // namespace recorder::bsm
