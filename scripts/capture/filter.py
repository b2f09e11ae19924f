#!/usr/bin/env python3
"""filter.py IN OUT SES KEY AUDITD_PID: keep whole events that matter for the capture.

Reads the auditd log IN and writes to OUT every event (all records of one
msg=audit(TIME:SERIAL)) that has a DAEMON_* or CONFIG_CHANGE record, the
rule key KEY, the workload's audit session SES, or a SYSCALL of our auditd
(pid AUDITD_PID). Prints the number of events in and kept and a census of
the kept record types. Used by scripts/capture-audit-sample after a capture.
"""
import collections, re, sys

if len(sys.argv) != 6 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0 if sys.argv[1:2] in (["-h"], ["--help"]) else 2)
src, dst, ses, key, apid = sys.argv[1:6]
hdr = re.compile(r"^(?:node=\S+ )?type=(\S+) msg=audit\(([0-9.]+:[0-9]+)\):")
sesre = re.compile(r"(?<![\w-])ses=(\d+)")
pidre = re.compile(r"(?<![\w-])pid=(\d+)")
events = collections.OrderedDict()
with open(src, "rb") as f:
    for raw in f:
        line = raw.decode("utf-8", "surrogateescape")
        m = hdr.match(line)
        if not m:
            sys.exit(f"unparseable audit line: {line[:200]!r}")
        events.setdefault(m.group(2), []).append((m.group(1), line))


def keep(records):
    for typ, line in records:
        body = line.split("\x1d", 1)[0]  # ENRICHED: raw part before the GS separator
        if typ.startswith("DAEMON_") or typ == "CONFIG_CHANGE":
            return True
        if f'key="{key}"' in body:
            return True
        if any(s == ses for s in sesre.findall(body)):
            return True
        # our auditd's own syscalls (e.g. registering as the audit daemon)
        if typ == "SYSCALL" and apid in pidre.findall(body):
            return True
    return False


kept = [recs for recs in events.values() if keep(recs)]
with open(dst, "wb") as f:
    for recs in kept:
        for _, line in recs:
            f.write(line.encode("utf-8", "surrogateescape"))
counts = collections.Counter(t for recs in kept for t, _ in recs)
print(f"{len(events)} events in, {len(kept)} kept; record types: "
      + " ".join(f"{t}={n}" for t, n in sorted(counts.items())))
