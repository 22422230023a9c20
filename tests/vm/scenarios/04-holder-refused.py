# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 04-holder-refused: attach refuses, naming the holder, and changes nothing."""

import re

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def holder_pid(t, node):
    for ln in t.log.lines:
        m = re.match(rf"^INFO holder {node} pid=(\d+)$", ln)
        if m:
            return int(m.group(1))
    t.fail(f"the guest did not report the pid of the {node} holder")
    return None


def check(t):
    # 1. human output, /dev/dri/card0 held
    pid = holder_pid(t, "card0")
    b = t.block("attach-card0")
    if b is not None:
        t.equal("attach with card0 held: exit status (3 = rolled back)", b.rc, 3)
        err = t.log.blocks.get("attach-card0.stderr")
        err = err.text if err else ""
        if pid is not None:
            t.expect(f"pid {pid} sleep holds /dev/dri/card0" in err,
                     f"attach with card0 held: stderr does not name 'pid {pid} sleep holds /dev/dri/card0'")
        t.expect("the host is as before" in err, "attach with card0 held: stderr does not say the host is as before")
        t.expect(re.search(rf"^\s+\d+\s+failed\s+\d+ ms\s+make sure no process holds the device nodes of {GPU}, {AUDIO}$",
                           b.text, re.M) is not None, "attach with card0 held: the step table shows no failed holder check")
        t.expect(re.search(r"^\s+\d+\s+done\s", b.text, re.M) is None,
                 "attach with card0 held: a step was done before the refusal")
    b = t.block("status-card0")
    if b is not None:
        t.equal("status after the refusal: exit status", b.rc, 0)
        t.expect("Nothing is lent." in b.text, "status after the refusal: not 'Nothing is lent.'")

    # 2. --json, /dev/snd/controlC0 held
    pid = holder_pid(t, "controlC0")
    doc = t.json("attach-snd", rcs=(3,))
    if doc is not None:
        t.equal("attach with controlC0 held: ok", doc.get("ok"), False)
        t.equal("attach with controlC0 held: host_intact", doc.get("host_intact"), True)
        steps = doc.get("steps", [])
        failed = [s for s in steps if s.get("state") == "failed"]
        t.equal("attach with controlC0 held: failed steps", [s.get("kind") for s in failed], ["check-holders"])
        if failed:
            t.equal("attach with controlC0 held: failed_step", doc.get("failed_step"), failed[0].get("index"))
            msg = failed[0].get("message") or ""
            if pid is not None:
                t.expect(f"pid {pid} sleep holds /dev/snd/controlC0" in msg,
                         f"attach with controlC0 held: message {msg!r} does not name pid {pid} and the node")
        t.equal("attach with controlC0 held: steps done", [s.get("kind") for s in steps if s.get("state") == "done"], [])
        t.expect(all(s.get("state") in ("skipped", "failed", "pending") for s in steps),
                 "attach with controlC0 held: a step other than the holder check ran")
        err = t.log.blocks.get("attach-snd.stderr")
        t.expect(err is None or not err.text.strip(), "attach --json with controlC0 held: unexpected stderr")

    # 3. free again: the hand-over works
    doc = t.json("attach-free")
    if doc is not None:
        t.equal("attach once free: ok", doc.get("ok"), True)
    doc = t.json("release-free")
    if doc is not None:
        t.equal("release once free: ok", doc.get("ok"), True)

    # 4. /dev/fb0 held: refused like card0, before anything changes
    pid = holder_pid(t, "fb0")
    b = t.block("attach-fb0")
    if b is not None:
        t.equal("attach with fb0 held: exit status (3 = rolled back)", b.rc, 3)
        err = t.log.blocks.get("attach-fb0.stderr")
        err = err.text if err else ""
        if pid is not None:
            t.expect(f"pid {pid} sleep holds /dev/fb0" in err,
                     f"attach with fb0 held: stderr does not name 'pid {pid} sleep holds /dev/fb0'")
        t.expect(re.search(r"^\s+\d+\s+(done|reverted)\s+\d+ ms\s+unbind", b.text, re.M) is None,
                 "attach with fb0 held: drivers were unbound before the refusal")
