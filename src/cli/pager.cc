#include "cli/pager.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <string_view>

namespace recorder::cli {

OutputChoice ChooseOutput(bool stdout_is_terminal, bool no_pager, const char* pager_env,
                          const char* term_env) {
  OutputChoice choice;
  if (!stdout_is_terminal) return choice;
  choice.unicode = true;
  if (no_pager || (term_env != nullptr && std::string_view(term_env) == "dumb")) return choice;
  if (pager_env == nullptr) {
    choice.pager = "less -FRX";
  } else if (std::string_view(pager_env) != "" && std::string_view(pager_env) != "cat") {
    choice.pager = pager_env;
  }
  return choice;
}

namespace {

void WriteStdout(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void WriteOutput(const std::string& text, const OutputChoice& choice) {
  if (choice.pager.empty()) return WriteStdout(text);
  std::fflush(stdout);
  FILE* pager = popen(choice.pager.c_str(), "w");
  if (pager == nullptr) return WriteStdout(text);
  // A user who quits the pager before the end closes the pipe: the rest
  // is not wanted, and is no reason to die of SIGPIPE.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  std::fwrite(text.data(), 1, text.size(), pager);
  const int status = pclose(pager);
  sigaction(SIGPIPE, &old, nullptr);
  // The shell's "command not found": the output must not be lost.
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127) WriteStdout(text);
}

}  // namespace recorder::cli
