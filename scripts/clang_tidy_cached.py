#!/usr/bin/env python3
"""clang_tidy_cached.py [--build DIR] [--jobs N] [FILE...]: clang-tidy, complete but incremental.

Runs clang-tidy (checks from .clang-tidy, every warning an error) on each
FILE (default: the src/*.cc files git knows), JOBS at a time (default: the
number of processors), with the compile commands of DIR/compile_commands.json
(default: build). Exit status 1 when any file has a finding.

A file found clean is remembered in DIR/lint-cache under a hash of what
clang-tidy would see: the preprocessed translation unit with its comments
(so every header it includes, and every NOLINT), its compile command,
.clang-tidy and clang-tidy's version. It is
checked again as soon as any of these changes; a fresh build directory (CI)
checks every file. Called by scripts/lint.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def compile_commands(build):
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    commands = {}
    for entry in entries:
        path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        args = entry.get("arguments") or shlex.split(entry["command"])
        commands[path] = (entry["directory"], args)
    return commands


def preprocess_args(args):
    """The compile command turned into "preprocess to stdout"."""
    out = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "-o":
            skip = True
            continue
        if arg == "-c" or arg.startswith("-o"):
            continue
        out.append(arg)
    # -CC keeps the comments: clang-tidy reads some (NOLINT, /*arg=*/).
    return out + ["-E", "-CC", "-o", "-"]


def cache_key(path, directory, args, salt):
    digest = hashlib.sha256(salt)
    digest.update(" ".join(args).encode())
    run = subprocess.run(preprocess_args(args), cwd=directory, capture_output=True)
    if run.returncode != 0:
        return None  # clang-tidy will say what is wrong
    digest.update(run.stdout)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("files", nargs="*")
    options = parser.parse_args()
    started = time.monotonic()

    files = options.files or subprocess.run(
        ["git", "ls-files", "src/*.cc"], cwd=REPO, capture_output=True, text=True,
        check=True).stdout.split()
    files = [os.path.normpath(os.path.join(REPO, f)) for f in files]
    try:
        commands = compile_commands(options.build)
    except OSError as error:
        sys.exit(f"clang-tidy: no compile commands ({error}): configure {options.build} first")
    missing = [f for f in files if f not in commands]
    if missing:
        sys.exit("clang-tidy: not in compile_commands.json: " + " ".join(missing))

    version = subprocess.run(["clang-tidy", "--version"], capture_output=True, check=True).stdout
    with open(os.path.join(REPO, ".clang-tidy"), "rb") as f:
        salt = version + f.read()
    cache = os.path.join(options.build, "lint-cache")
    os.makedirs(cache, exist_ok=True)

    def check(path):
        directory, args = commands[path]
        key = cache_key(path, directory, args, salt)
        stamp = os.path.join(cache, key) if key else None
        if stamp and os.path.exists(stamp):
            return path, True, ""
        run = subprocess.run(
            ["clang-tidy", "-p", options.build, "--quiet", "--warnings-as-errors=*", path],
            capture_output=True, text=True)
        # clang-tidy prints "N warnings generated." on stderr for the
        # suppressed ones in system headers: not findings.
        clean = run.returncode == 0 and "warning:" not in run.stdout and "error:" not in run.stdout
        if clean and stamp:
            open(stamp, "w").close()
        return path, False, "" if clean else run.stdout + run.stderr

    failed = 0
    cached = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        for path, was_cached, findings in pool.map(check, files):
            cached += was_cached
            if findings:
                failed += 1
                print(findings, end="" if findings.endswith("\n") else "\n")
    print(f"clang-tidy: {len(files)} files, {cached} unchanged since found clean, "
          f"{failed} with findings, {time.monotonic() - started:.0f} s with {options.jobs} jobs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
