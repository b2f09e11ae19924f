// The BSM trail the replay tests share, encoded with bsm_trail_writer.h:
// a shell (pid 4242) forks 4300, which execs curl, creates, renames and
// deletes a file, connects out and exits 7; the shell accepts a
// connection; an ssh login. Written as FirstHalf() + kJunk + SecondHalf(),
// kJunk being a damaged stretch between two records.
#pragma once

#include <cstdint>
#include <string>

#include "bsm_trail_writer.h"

namespace recorder::bsm::testing {

inline constexpr uint32_t kAnn = 501;
inline constexpr uint32_t kT0 = 1'700'000'000;  // 2023-11-14T22:13:20Z

inline TrailWriter& Ann(TrailWriter& w, uint32_t pid) {
  return w.Subject32(kAnn, kAnn, 20, kAnn, 20, pid, 100004, 0, 0);
}

// Ann's process 4300 execs `curl -s http://127.0.0.1/` at `seconds` and
// `ms` (AUE_EXECVE, its path as typed and as resolved).
inline void CurlExec(TrailWriter& w, uint32_t seconds, uint32_t ms) {
  Ann(w.Begin(23, seconds, ms)
          .ExecArgs({"curl", "-s", "http://127.0.0.1/"})
          .Path("curl")
          .Path("/usr/bin/curl"),
      4300)
      .Return32(0, 0)
      .End();
}

// The shell (4242) forks 4300, which execs curl, writes, renames and
// deletes a file, connects out and exits 7.
inline std::string FirstHalf() {
  TrailWriter w;
  w.FileToken(kT0, "20231114221320.not_terminated");
  Ann(w.Begin(23, kT0, 0).ExecArgs({"-zsh"}).Path("/bin/zsh"), 4242).Return32(0, 0).End();
  Ann(w.Begin(2, kT0 + 1, 0).Arg32(0, 4300, "child PID"), 4242).Return32(0, 4300).End();
  CurlExec(w, kT0 + 2, 250);
  // AUE_OPEN_WC: created for writing.
  Ann(w.Begin(77, kT0 + 3, 0).Path("/Users/ann/out.txt"), 4300).Return32(0, 3).End();
  return w.trail();
}

inline std::string SecondHalf() {
  TrailWriter w;
  Ann(w.Begin(42, kT0 + 4, 0).Path("/Users/ann/a").Path("/Users/ann/b"), 4300).Return32(0, 0).End();
  Ann(w.Begin(6, kT0 + 5, 0).Path("/Users/ann/b"), 4300).Return32(0, 0).End();
  Ann(w.Begin(32, kT0 + 6, 0).SockInet32(2, 80, TrailWriter::Ipv4(127, 0, 0, 1)), 4300)
      .Return32(0, 0)
      .End();
  // The shell accepts on port 22 from 127.0.0.2:50000.
  Ann(w.Begin(33, kT0 + 7, 0)
          .SocketEx32(2, 1, 22, TrailWriter::Ipv4(127, 0, 0, 1), 50000,
                      TrailWriter::Ipv4(127, 0, 0, 2)),
      4242)
      .Return32(0, 5)
      .End();
  // AUE_openssh: a login from 127.0.0.2.
  w.Begin(32800, kT0 + 8, 0)
      .Subject32(kAnn, kAnn, 20, kAnn, 20, 4400, 100005, 0, TrailWriter::Ipv4(127, 0, 0, 2))
      .Text("successful login ann")
      .Return32(0, 0)
      .End();
  Ann(w.Begin(1, kT0 + 9, 0), 4300).Exit(7, 0).Return32(0, 0).End();
  return w.trail();
}

// Not a record: bytes a damaged disk left between two records.
inline const std::string kJunk = std::string("\x14\x00\x00\x00\x09garbage!", 13);

}  // namespace recorder::bsm::testing
