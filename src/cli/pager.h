// Where the output of `tree`, `show`, `timeline` and `search` goes. On a
// terminal: through a pager (long output stays readable; `less -F` quits
// at once when it fits on one screen) and with box-drawing characters.
// Piped or redirected: written as it is, plain ASCII, for scripts. The
// choice is a pure function of the facts the caller reads (isatty, the
// environment, --no-pager), so it is tested without a terminal.
#pragma once

#include <string>

namespace recorder::cli {

struct OutputChoice {
  bool unicode = false;  // box-drawing characters and ×, …
  std::string pager;     // a shell command to pipe the output through; empty: none
};

// `pager_env` and `term_env` are $PAGER and $TERM, nullptr when unset.
// No pager when stdout is no terminal, with --no-pager, with TERM=dumb, or
// with PAGER set to "" or "cat"; else $PAGER, or "less -FRX" when unset.
OutputChoice ChooseOutput(bool stdout_is_terminal, bool no_pager, const char* pager_env,
                          const char* term_env);

// Writes `text` to stdout, or through `choice.pager` (a child shell; this
// waits for it, so the prompt returns after the user quits the pager).
// Writes directly when the pager cannot be started.
void WriteOutput(const std::string& text, const OutputChoice& choice);

}  // namespace recorder::cli
