#!/usr/bin/env python3
"""Black-box check of the sandbox, from outside the process, as an attacker's
input would meet it: while `picklejail dump -` and `picklejail scan -` decode
input streamed on standard input, the decoding child must already be
confined — /proc/<child>/status shows Seccomp: 2 (filter mode) and
NoNewPrivs: 1, and /proc/<child>/fd holds only the input and the result pipe
(plus stderr in sanitizer builds, which keep it for their reports).  Then the
input is finished and the verdict must come back, with no child left behind."""
import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pjtest  # noqa: E402


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def status_fields(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def wait_for_child(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children_of(pid)
        if kids:
            # the child confines itself right after fork: wait until it has
            for _ in range(200):
                try:
                    if status_fields(kids[0]).get("Seccomp") == "2":
                        return kids[0]
                except OSError:
                    break
                time.sleep(0.01)
            return kids[0]
        time.sleep(0.01)
    return None


def check_command(res, args, payload, want_rc):
    exe = pjtest.binary()
    p = subprocess.Popen([exe] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    name = " ".join(args)
    try:
        # Half a pickle: the child blocks reading the rest.
        p.stdin.write(payload[:3])
        p.stdin.flush()
        child = wait_for_child(p.pid)
        res.ok(child is not None, "%s: a decoding child exists" % name, "none found")
        if child is not None:
            st = status_fields(child)
            res.ok(st.get("Seccomp") == "2", "%s: child Seccomp" % name, st.get("Seccomp"))
            res.ok(st.get("NoNewPrivs") == "1", "%s: child NoNewPrivs" % name,
                   st.get("NoNewPrivs"))
            fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % child))
            allowed = [[0, 1], [0, 1, 2]]  # 2 only in sanitizer builds
            res.ok(fds in allowed, "%s: child descriptors" % name, repr(fds))
            targets = {fd: os.readlink("/proc/%d/fd/%d" % (child, fd)) for fd in fds}
            res.ok(targets.get(0, "").startswith("pipe:") and
                   targets.get(1, "").startswith("pipe:"),
                   "%s: child fd 0 and 1 are pipes" % name, repr(targets))
        p.stdin.write(payload[3:])
        p.stdin.flush()
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    res.ok(p.returncode == want_rc, "%s: exit status" % name,
           "rc %r, stderr %r" % (p.returncode, err[-300:]))
    res.ok(children_of(p.pid) == [], "%s: no child left" % name, "")
    return out


def main():
    res = pjtest.Results("sandbox-blackbox")
    benign = b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e."
    out = check_command(res, ["dump", "-"], benign, 0)
    res.ok(b'"status": "ok"' in out, "dump: decoded", out[:200])
    malicious = b"cos\nsystem\n(S'echo pwned'\ntR."
    out = check_command(res, ["scan", "-"], malicious, 1)
    res.ok(b"rejected" in out and b"os.system" in out, "scan: rejected os.system", out[:300])
    many_members(res)
    return res.finish()


def many_members(res):
    """An archive of 200 members, through the sandbox: sorting its structure
    must make no system call the child's filter forbids (glibc's qsort asks
    for sysinfo past 1 KiB, which killed the child for ~43 members)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(200):
            z.writestr("m/%03d.pkl" % i, b"\x80\x02K" + bytes([i % 256]) + b".")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "many.zip")
        with open(path, "wb") as f:
            f.write(buf.getvalue())
        p = subprocess.run([pjtest.binary(), "scan", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    res.ok(p.returncode == 0 and "allowed" in out and "sandbox" not in out,
           "scan of a 200-member zip: allowed, no sandbox kill", out[:300])


if __name__ == "__main__":
    sys.exit(main())
