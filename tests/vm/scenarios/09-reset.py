# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 09-reset: what gpu-handoff reset and the once-per-boot lends reported."""

import re

GPU, AUDIO, PORT = "0000:01:00.0", "0000:01:00.1", "0000:00:02.0"


def info(t, key):
    for ln in t.log.lines:
        m = re.match(rf"^INFO {key}=(\S+)$", ln)
        if m:
            return m.group(1)
    return None


def stderr(t, name):
    b = t.log.blocks.get(name + ".stderr")
    return b.text if b else ""


def check(t):
    # 2. the audio function in use: refused, naming it and its driver
    b = t.block("reset-bus-refused")
    if b is not None:
        t.equal("bus reset with the audio function bound: exit status (1 = refused)", b.rc, 1)
        err = stderr(t, "reset-bus-refused")
        t.expect(f"behind bridge {PORT}" in err, f"the refusal does not name the bridge: {err!r}")
        t.expect(f"{AUDIO} (bound to snd_hda_intel" in err, f"the refusal does not name {AUDIO} and snd_hda_intel: {err!r}")
    b = t.block("reset-dry-run")
    if b is not None:
        t.equal("reset --dry-run with the audio function bound: exit status", b.rc, 1)

    # 3. both free: the bus reset through reset_subordinate (6.13+), or its refusal
    subordinate = info(t, "reset_subordinate")
    t.expect(subordinate in ("yes", "no"), "the guest did not say whether the root port has reset_subordinate")
    if subordinate == "yes":
        doc = t.json("reset-bus")
        if doc is not None:
            t.equal("bus reset: method", doc.get("method"), "bus")
            t.equal("bus reset: bridge", doc.get("bridge"), PORT)
            t.equal("bus reset: came back", doc.get("came_back"), True)
            t.equal("bus reset: power state", doc.get("power_state"), "D0")
    elif subordinate == "no":
        b = t.block("reset-bus")
        if b is not None:
            t.equal("bus reset before Linux 6.13: exit status (1 = refused)", b.rc, 1)
            err = stderr(t, "reset-bus")
            t.expect("reset_subordinate (Linux 6.13 or later)" in err, f"the refusal does not say why: {err!r}")
    doc = t.json("reset-remove-rescan")
    if doc is not None:
        t.expect(doc.get("method") in ("bus", "remove-rescan"), f"remove-rescan: method {doc.get('method')!r}")
        kinds = [s.get("kind") for s in doc.get("steps", [])]
        t.expect("remove-rescan" in kinds, f"remove-rescan: no remove-rescan step in {kinds}")
        t.equal("remove-rescan: came back", doc.get("came_back"), True)

    # 4. lent once per boot
    doc = t.json("attach-once")
    if doc is not None:
        t.equal("first attach of the boot: ok", doc.get("ok"), True)
        kinds = [s.get("kind") for s in doc.get("steps", [])]
        t.expect("return-reset" in kinds, f"first attach: no return-reset step in {kinds}")
    doc = t.json("release-once")
    if doc is not None:
        t.equal("release: ok", doc.get("ok"), True)
    b = t.block("lends")
    if b is not None:
        t.expect(re.search(rf"^\S+ {GPU} 1234:1111 testbed-once$", b.text, re.M) is not None,
                 f"the lends record does not name the GPU: {b.text!r}")
    b = t.block("attach-twice")
    if b is not None:
        t.equal("second attach of the boot: exit status (1 = refused)", b.rc, 1)
        err = stderr(t, "attach-twice")
        t.expect("lent already in this boot" in err, f"the refusal does not say why: {err!r}")
        t.expect("testbed-once" in err and "Reboot the host" in err and "--force" in err,
                 f"the refusal does not name the quirk, the remedy and --force: {err!r}")
    b = t.block("doctor-twice")
    if b is not None:
        t.expect("gpu-lent-this-boot" in b.text, "doctor does not show gpu-lent-this-boot")
    doc = t.json("attach-force")
    if doc is not None:
        t.equal("attach --force: ok", doc.get("ok"), True)
    doc = t.json("release-force")
    if doc is not None:
        t.equal("release after --force: ok", doc.get("ok"), True)
