#!/usr/bin/env python3
"""Runs the examples a user is shown, so that none of them goes stale.

Examples are the command lines in README.md and docs/*.md (indented code
blocks and ```sh / ```sql / ```console fences) and the "Examples:" section
of `recorder --help` and of every `recorder COMMAND --help`, read from the
built binary. Each runs against a database replayed from tests/data:

- query, parse and replay examples, and sqlite3 commands, are executed and
  must exit 0 with nothing on stderr (a `query` example that names a
  column the views lack fails here);
- examples of commands that record live, change the machine or serve until
  stopped (run, start, stop, status, install, uninstall, plugin, recreate-db,
  serve: tests/web_view_test.py runs it) are not executed; their
  subcommand must exist and every --option they use must be in that
  command's --help.

Paths that only exist on a user's machine are pointed at copies in a
temporary directory: /tmp/m.db, case.db, audit.log, audit.log.1.gz and
/var/log/audit/audit.log; `ausearch --raw -ts today` becomes `cat audit.log`.

usage: docs_examples_test.py RECORDER_BINARY REPO_ROOT
"""
import glob
import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

LIVE_COMMANDS = {"run", "start", "stop", "status", "install", "uninstall", "plugin", "recreate-db",
                 "serve"}
FENCES = ("```sh", "```bash", "```console", "```sql", "```shell")


def doc_examples(root):
    """(where, command) for each example command line in the Markdown files."""
    files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    for path in files:
        rel = os.path.relpath(path, root)
        in_fence = False
        fence_sql = False
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                stripped = line.strip()
                if stripped.startswith("```"):
                    if in_fence:
                        in_fence = False
                    elif stripped in FENCES:
                        in_fence, fence_sql = True, stripped == "```sql"
                    else:
                        in_fence, fence_sql = None, False  # another language: not a command
                    continue
                if in_fence is None:
                    continue
                if in_fence and fence_sql and stripped:
                    yield f"{rel}:{number}", "recorder query " + shlex.quote(stripped)
                    continue
                if in_fence or line.startswith("    "):
                    command = stripped.lstrip("$# ").strip()
                    if re.match(r"^(build/recorder|recorder|sqlite3)\b", command):
                        yield f"{rel}:{number}", command


def help_examples(binary):
    """(where, command) for each example in the commands' --help texts: the
    lines of an "Examples:" section, and "Example: ..." lines."""
    top = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    commands = sorted(set(re.findall(r"^  ([a-z][a-z-]+)\s", top.split("SUBCOMMANDS")[-1], re.M)))
    if not commands:
        raise SystemExit("recorder --help lists no commands: the extraction is broken")
    for command in commands:
        where = f"recorder {command} --help"
        text = subprocess.run([binary, command, "--help"], capture_output=True, text=True,
                              check=True).stdout
        for match in re.finditer(r"Example: (.+)", text):
            yield where, match.group(1).strip()
        if "Examples:" not in text:
            continue
        for line in text.split("Examples:", 1)[1].splitlines()[1:]:
            if not line.strip():
                break
            yield where, line.strip()


def localize(command, work):
    """The example with user paths pointed into the work directory."""
    command = command.replace("ausearch --raw -ts today", "cat audit.log")
    command = command.replace("/var/log/audit/audit.log", os.path.join(work, "audit.log"))
    command = command.replace("/tmp/m.db", os.path.join(work, "m.db"))
    return command


def check(where, command, binary, work, help_of):
    """An error message, or None when the example works."""
    command = re.sub(r"^sudo ", "", command)
    if command.startswith("sqlite3 "):
        words = shlex.split(command)
        subcommand = None
    else:
        # The pipeline's recorder part: `recorder parse F | jq ...`, `cat F | recorder replay -`.
        part = next((p.strip() for p in command.split("|")
                     if re.match(r"^(build/)?recorder\b", p.strip())), "")
        words = shlex.split(part.split(">")[0]) if part else []
        if not words:
            return f"{where}: cannot tell the command of: {command}"
        subcommand = words[1] if len(words) > 1 else None
    if subcommand in LIVE_COMMANDS:
        text = help_of(subcommand)
        if text is None:
            return f"{where}: `{command}`: recorder has no command {subcommand!r}"
        for word in words[2:]:
            option = word.split("=")[0]
            if option.startswith("--") and option not in text:
                return f"{where}: `{command}`: {option} is not an option of `recorder {subcommand}`"
        return None
    shell = re.sub(r"(^|\|\s*)(build/)?recorder\b", lambda m: m.group(1) + shlex.quote(binary),
                   localize(command, work))
    result = subprocess.run(["bash", "-c", shell], cwd=work, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=120)
    if result.returncode != 0 or (subcommand == "query" and result.stderr.strip()):
        return (f"{where}: `{command}` exited {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()[:400]}")
    return None


def main():
    binary, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    data = os.path.join(root, "tests", "data")
    work = tempfile.mkdtemp(prefix="recorder-docs-")
    try:
        logs = sorted(glob.glob(os.path.join(data, "*.log")))
        subprocess.run([binary, "replay", "--db", os.path.join(work, "monitor.db")] + logs,
                       check=True, capture_output=True)
        shutil.copy(os.path.join(work, "monitor.db"), os.path.join(work, "m.db"))
        # `recorder search-index --help`'s copy of a database under investigation.
        shutil.copy(os.path.join(work, "monitor.db"), os.path.join(work, "case.db"))
        shutil.copy(logs[0], os.path.join(work, "audit.log"))
        with open(logs[-1], "rb") as src, gzip.open(os.path.join(work, "audit.log.1.gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)

        helps = {}

        def help_of(subcommand):
            if subcommand not in helps:
                r = subprocess.run([binary, subcommand, "--help"], capture_output=True, text=True)
                helps[subcommand] = r.stdout if r.returncode == 0 else None
            return helps[subcommand]

        examples = list(doc_examples(root)) + list(help_examples(binary))
        failures = [f for f in (check(w, c, binary, work, help_of) for w, c in examples) if f]
        for failure in failures:
            print("FAIL", failure)
        print(f"{len(examples) - len(failures)} passed, {len(failures)} failed")
        if not examples:
            print("no examples found: the extraction is broken")
            return 1
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
