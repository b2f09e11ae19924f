#!/usr/bin/env python3
"""The workload of scripts/capture-audit-sample, one command per step.

Each step that needs raw syscalls (or only records what a shell step did)
adds its outcome to a JSON results file; `markers` turns the results into
tests/data/expected-markers.json. The shell script calls this file as

    workload.py COMMAND ARG...

and runs it inside the audited session, so it must do exactly what the
captured logs show. `workload.py --help` lists the commands; `ports` and
`run-info` touch nothing but stdout or their output file.
"""
import ctypes, errno, json, os, select, socket, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
AT_FDCWD = -100
NR = dict(open=2, truncate=76, ftruncate=77, rename=82, mkdir=83, rmdir=84,
          creat=85, link=86, unlink=87, symlink=88, chmod=90, fchmod=91,
          chown=92, fchown=93, lchown=94, init_module=175, delete_module=176,
          renameat=264, finit_module=313, renameat2=316, execveat=322, openat2=437)


def sc(name, *args):
    conv = []
    for a in args:
        if isinstance(a, bytes):
            conv.append(ctypes.c_char_p(a))
        elif isinstance(a, int):
            conv.append(ctypes.c_long(a))
        else:
            conv.append(a)
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *conv)
    e = ctypes.get_errno() if r == -1 else 0
    return r, e


def record(results, step, value):
    data = {}
    if os.path.exists(results):
        with open(results) as f:
            data = json.load(f)
    data[step] = value
    with open(results, "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)


def op(ops, name, *args, paths=(), **extra):
    r, e = sc(name, *args)
    ops.append(dict(syscall=name, paths=list(paths), result=r, errno=e,
                    errno_name=errno.errorcode.get(e, "") if e else "", **extra))
    return r


def cmd_ports():
    """Prints four free loopback ports: tcp4 tcp6 refused udp."""
    def free(family, kind, host):
        s = socket.socket(family, kind)
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
        return port
    ports = dict(tcp4=free(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                 tcp6=free(socket.AF_INET6, socket.SOCK_STREAM, "::1"),
                 refused=free(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                 udp=free(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1"))
    print(" ".join(str(ports[k]) for k in ("tcp4", "tcp6", "refused", "udp")))


def child_exec(path, argv):
    """fork; the child tries execv and reports the errno through a pipe."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            os.execv(path, argv)
        except OSError as ex:
            os.write(wfd, str(ex.errno).encode())
        os._exit(127)
    os.close(wfd)
    err = os.read(rfd, 32).decode()
    os.close(rfd)
    _, status = os.waitpid(pid, 0)
    return dict(path=path, argv=argv, errno=int(err) if err else 0,
                errno_name=errno.errorcode.get(int(err), "") if err else "",
                exit_code=os.waitstatus_to_exitcode(status))


def cmd_exec_fail(results, step, path, *argv):
    """An execv of PATH that must fail; the errno goes to STEP."""
    record(results, step, child_exec(path, [path] + list(argv)))


def cmd_execveat(results, path, *argv):
    """execveat(AT_FDCWD, PATH) in a forked child."""
    args = [path] + list(argv)
    arr = (ctypes.c_char_p * (len(args) + 1))(*[a.encode() for a in args], None)
    env = (ctypes.c_char_p * 2)(b"PATH=/usr/bin:/bin", None)
    pid = os.fork()
    if pid == 0:
        r, e = sc("execveat", AT_FDCWD, path.encode(), arr, env, 0)
        os._exit(100 + e)
    _, status = os.waitpid(pid, 0)
    record(results, "execveat", dict(path=path, argv=args, dirfd=AT_FDCWD, flags=0,
                                     exit_code=os.waitstatus_to_exitcode(status)))


def cmd_files_legacy(results, wd):
    """Legacy (non-*at) x86_64 file syscalls plus openat2/renameat/renameat2, raw."""
    p = lambda n: os.path.join(wd, f"recorder-golden-legacy-{n}")
    ops = []
    fd = op(ops, "creat", p("creat.txt").encode(), 0o644, paths=[p("creat.txt")], mode="0644")
    os.write(fd, b"recorder-golden-legacy-content\n")
    op(ops, "ftruncate", fd, 8, length=8)
    op(ops, "fchmod", fd, 0o640, mode="0640")
    op(ops, "fchown", fd, 65534, 65534, uid=65534, gid=65534)
    os.close(fd)
    fd = op(ops, "open", p("creat.txt").encode(), os.O_RDONLY, paths=[p("creat.txt")], flags="O_RDONLY")
    os.close(fd)
    op(ops, "open", p("missing.txt").encode(), os.O_RDONLY, paths=[p("missing.txt")], flags="O_RDONLY")

    class OpenHow(ctypes.Structure):
        _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
    how = OpenHow(os.O_CREAT | os.O_WRONLY, 0o600, 0x04)  # RESOLVE_NO_SYMLINKS
    fd = op(ops, "openat2", AT_FDCWD, p("openat2.txt").encode(), ctypes.byref(how), ctypes.sizeof(how),
            paths=[p("openat2.txt")], how=dict(flags=os.O_CREAT | os.O_WRONLY, mode=0o600, resolve=4))
    os.close(fd)
    op(ops, "rename", p("creat.txt").encode(), p("renamed.txt").encode(), paths=[p("creat.txt"), p("renamed.txt")])
    op(ops, "renameat", AT_FDCWD, p("openat2.txt").encode(), AT_FDCWD, p("openat2-renamed.txt").encode(),
       paths=[p("openat2.txt"), p("openat2-renamed.txt")])
    op(ops, "renameat2", AT_FDCWD, p("renamed.txt").encode(), AT_FDCWD, p("openat2-renamed.txt").encode(), 1,
       paths=[p("renamed.txt"), p("openat2-renamed.txt")], flags="RENAME_NOREPLACE")
    op(ops, "chmod", p("renamed.txt").encode(), 0o600, paths=[p("renamed.txt")], mode="0600")
    op(ops, "chown", p("renamed.txt").encode(), 0, 0, paths=[p("renamed.txt")], uid=0, gid=0)
    op(ops, "truncate", p("renamed.txt").encode(), 0, paths=[p("renamed.txt")], length=0)
    op(ops, "link", p("renamed.txt").encode(), p("hardlink").encode(), paths=[p("renamed.txt"), p("hardlink")])
    op(ops, "symlink", b"recorder-golden-legacy-renamed.txt", p("symlink").encode(),
       paths=["recorder-golden-legacy-renamed.txt", p("symlink")])
    op(ops, "lchown", p("symlink").encode(), 65534, 65534, paths=[p("symlink")], uid=65534, gid=65534)
    op(ops, "mkdir", p("dir").encode(), 0o755, paths=[p("dir")], mode="0755")
    op(ops, "rmdir", p("dir").encode(), paths=[p("dir")])
    op(ops, "rmdir", p("dir").encode(), paths=[p("dir")])
    for n in ("symlink", "hardlink", "renamed.txt", "openat2-renamed.txt", "missing.txt"):
        op(ops, "unlink", p(n).encode(), paths=[p(n)])
    record(results, "files_legacy", ops)


def cmd_net(results, wd, tcp4, tcp6, refused, udp):
    """TCP over IPv4 and IPv6 loopback, a refused and a non-blocking connect, UDP bind, unix sockets."""
    out = {}

    def tcp(family, host, port, payload):
        srv = socket.socket(family, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, port))
        srv.listen(4)
        pid = os.fork()
        if pid == 0:
            c = socket.socket(family, socket.SOCK_STREAM)
            c.connect((host, port))
            c.sendall(payload)
            c.close()
            os._exit(0)
        conn, peer = srv.accept()
        data = conn.recv(256)
        conn.close()
        os.waitpid(pid, 0)
        srv.close()
        return dict(host=host, port=port, server_pid=os.getpid(), client_pid=pid,
                    client_port=peer[1], payload=data.decode())

    out["tcp4"] = tcp(socket.AF_INET, "127.0.0.1", int(tcp4), b"recorder-golden-net-tcp4")
    out["tcp6"] = tcp(socket.AF_INET6, "::1", int(tcp6), b"recorder-golden-net-tcp6")

    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    e = c.connect_ex(("127.0.0.1", int(refused)))
    c.close()
    out["refused"] = dict(host="127.0.0.1", port=int(refused), errno=e, errno_name=errno.errorcode.get(e, ""))

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(tcp4)))
    srv.listen(4)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    e = c.connect_ex(("127.0.0.1", int(tcp4)))
    select.select([], [c], [], 5)
    final = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    conn, peer = srv.accept()
    conn.close()
    c.close()
    srv.close()
    out["nonblocking"] = dict(host="127.0.0.1", port=int(tcp4), errno=e, errno_name=errno.errorcode.get(e, ""),
                              so_error_after_select=final, client_port=peer[1])

    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", int(udp)))
    u.close()
    out["udp_bind"] = dict(host="127.0.0.1", port=int(udp))

    path = os.path.join(wd, "recorder-golden.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    pid = os.fork()
    if pid == 0:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(path)
        c.sendall(b"recorder-golden-net-unix")
        c.close()
        os._exit(0)
    conn, _ = srv.accept()
    data = conn.recv(256)
    conn.close()
    os.waitpid(pid, 0)
    srv.close()
    os.unlink(path)
    out["unix"] = dict(path=path, payload=data.decode())

    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    e = c.connect_ex("\0recorder-golden-abstract")
    c.close()
    out["unix_abstract_refused"] = dict(path="@recorder-golden-abstract", errno=e, errno_name=errno.errorcode.get(e, ""))
    record(results, "network", out)


def cmd_setid(results):
    """In a forked child: change gids/uids with every set*id flavour, then fail to regain root."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        steps = []

        def attempt(name, fn, *args):
            try:
                fn(*args)
                steps.append(dict(syscall=name, args=list(args), result=0, errno=0))
            except OSError as ex:
                steps.append(dict(syscall=name, args=list(args), result=-1, errno=ex.errno,
                                  errno_name=errno.errorcode.get(ex.errno, "")))
        attempt("setgid", os.setgid, 0)
        attempt("setregid", os.setregid, 0, 0)
        attempt("setresgid", os.setresgid, 65534, 65534, 65534)
        attempt("setreuid", os.setreuid, 0, 0)
        attempt("setresuid", os.setresuid, 65534, 65534, 65534)
        attempt("setuid", os.setuid, 0)
        os.write(wfd, json.dumps(steps).encode())
        os._exit(0)
    os.close(wfd)
    buf = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        buf += chunk
    os.waitpid(pid, 0)
    record(results, "setid", dict(child_pid=pid, ops=json.loads(buf)))


def cmd_modules(results, wd):
    """Raw finit_module/init_module/delete_module calls that must fail."""
    ops = []
    fd = os.open("/dev/null", os.O_RDONLY)
    op(ops, "finit_module", fd, b"", 0, paths=["/dev/null"], params="")
    os.close(fd)
    image = b"\x7fELF recorder-golden-not-a-module"
    buf = ctypes.create_string_buffer(image, len(image))
    op(ops, "init_module", buf, len(image), b"", len=len(image), params="")
    op(ops, "delete_module", b"recorder_golden_nomod", os.O_NONBLOCK, module_name="recorder_golden_nomod", flags="O_NONBLOCK")
    record(results, "modules_raw", ops)


def cmd_markers(results, out):
    """Assemble expected-markers.json from the environment and the step results."""
    env = os.environ
    with open(results) as f:
        res = json.load(f)

    def argv_file(name):
        with open(os.path.join(env["CAP_STATE"], name), "rb") as f:
            return [a.decode() for a in f.read().split(b"\0")[:-1]]
    special = argv_file("argv-special")
    many = argv_file("argv-many")
    long_ = argv_file("argv-long")
    li = int(env["CAP_LONG_INDEX"])
    assert len(long_[li]) == int(env["CAP_LONG_LEN"])
    net = res["network"]
    def varying(node, path=""):
        """pids and ephemeral ports: the only values that differ between runs."""
        out = {}
        if isinstance(node, dict):
            for k, v in node.items():
                p = f"{path}.{k}" if path else k
                if isinstance(v, int) and (k.endswith("pid") or k == "client_port"):
                    out[p] = v
                else:
                    out.update(varying(v, p))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.update(varying(v, f"{path}[{i}]"))
        return out

    runs = {}
    for fmt in env["CAP_FORMATS"].split():
        with open(os.path.join(env["CAP_STATE"], fmt, "run.json")) as f:
            runs[fmt.lower()] = json.load(f)
        with open(os.path.join(env["CAP_STATE"], fmt, "results.json")) as f:
            runs[fmt.lower()]["varying"] = varying(json.load(f))
    doc = {
        "generator": "scripts/capture-audit-sample",
        "key": env["CAP_KEY"],
        "marker_prefix": "recorder-golden",
        "workdir": env["CAP_WORKDIR"],
        "kernel": env["CAP_KERNEL"],
        "auditd_version": env["CAP_AUDITD_VERSION"],
        "captured_at": env["CAP_DATE"],
        "runs": runs,
        "note": "steps.* are the RAW run's observations; both runs did the same thing, only the "
                "pids/ephemeral ports listed in runs.<format>.varying differ (paths relative to steps)",
        "step_delimiter": {"argv": ["/bin/true", "recorder-golden-step", "<step name>"],
                           "note": "each workload step is preceded by this exec; steps in order",
                           "order": env["CAP_STEPS"].split()},
        "long_arg_len": len(long_[li]),
        "ipv4_port": net["tcp4"]["port"],
        "ipv6_port": net["tcp6"]["port"],
        "steps": {
            "exec_special_args": {"argv": special, "argc": len(special),
                                  "stdout": "/dev/null"},
            "exec_long_arg": {"argv0": long_[0], "argc": len(long_), "long_arg_index": li,
                              "long_arg_len": len(long_[li]), "long_arg_char": long_[li][0],
                              "execve_record": {f"a{li}_len": 2 * len(long_[li]), "encoding": "hex",
                                                "note": "the kernel hex-encodes any arg that spans records, "
                                                        "so aN_len counts hex digits (2 per byte)"},
                              "other_args": {str(i): a for i, a in enumerate(long_) if i != li}},
            "exec_many_args": {"argv": many, "argc": len(many),
                               "total_arg_bytes": sum(len(a.encode()) + 1 for a in many)},
            "exec_fail_enoent": res["exec_fail_enoent"],
            "exec_fail_eacces": res["exec_fail_eacces"],
            "execveat": res["execveat"],
            "exit_codes": res["exit_codes"],
            "files": res["files"],
            "files_legacy": res["files_legacy"],
            "network": net,
            "pam": res["pam"],
            "setid": res["setid"],
            "modules": res["modules"],
            "modules_raw": res["modules_raw"],
        },
        "skipped": res.get("skipped", {}),
        "log_gaps": [
            "files_legacy open(O_RDONLY) of recorder-golden-legacy-missing.txt (ENOENT) is NOT in the logs: "
            "a failed non-creating lookup records no PATH below the dir= tree, so the dir= rule cannot match",
            "failed unlink/rmdir (ENOENT) ARE logged, with only the PARENT PATH item (no name for the missing entry)",
            "the SIGSEGV'd sh has no exit_group record, only ANOM_ABEND",
            "no EOE records: auditd writes EOE only to plugins, never to its log file",
            "runuser never authenticates: it yields CRED_ACQ/USER_START/USER_END/CRED_DISP but no USER_AUTH/USER_ACCT",
        ],
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")


def cmd_exit_codes(results, rc0, rc3, rcsegv):
    """The exit codes of the shell's three `sh -c` runs."""
    rc0, rc3, rcsegv = int(rc0), int(rc3), int(rcsegv)
    record(results, "exit_codes", [
        {"argv": ["sh", "-c", "exit 0", "recorder-golden-exit-0"], "exit_code": rc0, "exit_group_status": 0},
        {"argv": ["sh", "-c", "exit 3", "recorder-golden-exit-3"], "exit_code": rc3, "exit_group_status": 3},
        {"argv": ["sh", "-c", "ulimit -c 0; kill -SEGV $$", "recorder-golden-exit-segv"], "exit_code": rcsegv,
         "signal": 11, "note": "killed by SIGSEGV: no exit_group syscall, kernel emits ANOM_ABEND"},
    ])


def cmd_files(results):
    """The shell's coreutils file step; its paths come in CAP_F_* variables."""
    e = os.environ
    record(results, "files", {
        "plain": e["CAP_F_PLAIN"], "space": e["CAP_F_SPACE"], "non_ascii": e["CAP_F_UTF"],
        "hardlink": e["CAP_F_HARD"], "symlink": e["CAP_F_SYM"], "dir": e["CAP_F_DIR"],
        "symlink_target": os.path.basename(e["CAP_F_SPACE"]),
        "ops": [
            ["create+write (bash > redirection, openat O_CREAT|O_TRUNC)", e["CAP_F_PLAIN"]],
            ["append (bash >> redirection, openat O_APPEND)", e["CAP_F_PLAIN"]],
            ["mv (rename)", e["CAP_F_PLAIN"], e["CAP_F_SPACE"]],
            ["touch (create)", e["CAP_F_UTF"]],
            ["chmod 0600", e["CAP_F_SPACE"]],
            ["chown nobody:nogroup (65534:65534)", e["CAP_F_SPACE"]],
            ["truncate -s 4", e["CAP_F_SPACE"]],
            ["ln (hard link)", e["CAP_F_SPACE"], e["CAP_F_HARD"]],
            ["ln -s (symlink)", os.path.basename(e["CAP_F_SPACE"]), e["CAP_F_SYM"]],
            ["mkdir", e["CAP_F_DIR"]],
            ["rmdir", e["CAP_F_DIR"]],
            ["rm (unlink)", e["CAP_F_SYM"], e["CAP_F_HARD"], e["CAP_F_SPACE"], e["CAP_F_UTF"]],
        ],
        "note": "commands are coreutils; their exact syscalls (renameat2, fchmodat, fchownat, linkat, "
                "symlinkat, unlinkat, openat+ftruncate) are whatever coreutils chose",
    })


def cmd_pam(results, r1, r2, r3, r4):
    """The exit codes of the shell's su/runuser runs."""
    r1, r2, r3, r4 = int(r1), int(r2), int(r3), int(r4)
    record(results, "pam", [
        {"argv": ["su", "-s", "/bin/sh", "-c", "/bin/true recorder-golden-su-nobody", "nobody"],
         "from_uid": 0, "to_user": "nobody", "exit_code": r1, "expect": "success"},
        {"argv": ["su", "root", "-c", "/bin/true recorder-golden-su-root"],
         "from_uid": 0, "to_user": "root", "exit_code": r2, "expect": "success"},
        {"argv": ["runuser", "-u", "nobody", "--", "/bin/true", "recorder-golden-runuser-nobody"],
         "from_uid": 0, "to_user": "nobody", "exit_code": r3, "expect": "success"},
        {"argv": ["su", "root", "-c", "/bin/true recorder-golden-su-fail"], "run_via": "runuser -u nobody --",
         "from_uid": 65534, "to_user": "root", "exit_code": r4,
         "expect": "USER_AUTH res=failed (no password on stdin)"},
    ])


def cmd_modules_note(results, modprobe_note):
    """What the shell's modprobe step did, and the steps this machine cannot run."""
    with open(results) as f:
        d = json.load(f)
    d["modules"] = {"modprobe": modprobe_note}
    d.setdefault("skipped", {})["exec_32bit"] = \
        "no i386 userland installed; b32 rules are loaded but no 32-bit process runs"
    with open(results, "w") as f:
        json.dump(d, f, ensure_ascii=False, indent=1)


def cmd_run_info(out, fmt, ses, apid):
    """run.json of one capture run: its log file, format, session and auditd."""
    with open(out, "w") as f:
        json.dump({"file": f"capture-{fmt.lower()}.log", "log_format": fmt, "ses": int(ses), "auid": 0,
                   "loginuid_set_to": 0, "auditd_pid": int(apid)}, f, indent=1)


def main(argv):
    commands = {name[4:].replace("_", "-"): fn for name, fn in sorted(globals().items())
                if name.startswith("cmd_") and callable(fn)}
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print(__doc__.strip() + "\n\ncommands:")
        for name, fn in commands.items():
            doc = (fn.__doc__ or "").strip().splitlines()
            print(f"  {name:<14} {doc[0] if doc else ''}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    commands[argv[0]](*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
