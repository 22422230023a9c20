# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 04-kill-recover: status and recover after a SIGKILLed attach, and the
attach that recovers by itself."""

import json
import re

POINTS = ("unbind-vtcon", "unbind-driver", "unload-module", "load-module", "bind-vfio", "bind-vfio-audio")


def killed(t):
    """{name: (kind, last journal record)} from the guest's INFO lines."""
    out = {}
    for ln in t.log.lines:
        m = re.match(r"^INFO killed (\S+) kind=(\S+) try=(\d+) rc=(\d+) last=(.*)$", ln)
        if m:
            out[m.group(1)] = (m.group(2), m.group(5).replace("_", " "), int(m.group(3)))
    return out


def check_recover_run(t, what, doc):
    t.equal(f"{what}: verb", doc.get("verb"), "recover")
    t.equal(f"{what}: ok", doc.get("ok"), True)
    t.equal(f"{what}: host_intact", doc.get("host_intact"), True)
    steps = doc.get("steps", [])
    bad = [(s.get("kind"), s.get("state")) for s in steps
           if s.get("state") != "reverted" and not (s.get("kind") == "check-holders" and s.get("state") == "pending")]
    t.equal(f"{what}: steps not reverted", bad, [])
    return steps


def check(t):
    k = killed(t)
    where = []
    status_rcs = set()
    for point in POINTS:
        kind = point.removesuffix("-audio")
        if point not in k:
            t.fail(f"attach was never killed at {point}")
            continue
        where.append(f"{point}: {k[point][1]} (try {k[point][2]})")
        b = t.block(f"status-{point}")
        if b is not None:
            t.equal(f"status after a kill at {point}: exit status", b.rc, 4)
            t.expect("State: interrupted: run gpu-handoff recover" in b.text,
                     f"status after a kill at {point} does not say it was interrupted")
        doc = t.json(f"status-json-{point}", rcs=(0, 4))
        if doc is not None:
            t.equal(f"status --json after a kill at {point}: needs_recovery", doc.get("needs_recovery"), True)
            phases = doc.get("phases", [])
            t.equal(f"status --json after a kill at {point}: phases",
                    [(p.get("phase"), p.get("outcome")) for p in phases], [("attach", "none")])
            kinds = [s.get("kind") for s in doc.get("steps", [])]
            t.expect(kind in kinds, f"status --json after a kill at {point}: the journal has no {kind} step: {kinds}")
            if b is not None and t.log.blocks[f"status-json-{point}"].rc != b.rc:
                status_rcs.add((b.rc, t.log.blocks[f"status-json-{point}"].rc))
        doc = t.json(f"recover-{point}")
        if doc is not None:
            steps = check_recover_run(t, f"recover after a kill at {point}", doc)
            t.expect(kind in [s.get("kind") for s in steps], f"recover after a kill at {point}: {kind} not reverted")
    t.log.notes.append("kill points (wanted: last journal record at the kill): " + "; ".join(where))
    for human, js in sorted(status_rcs):
        t.log.notes.append(f"questionable: status exits {human} but status --json exits {js} for the same "
                           "interrupted journal (needs_recovery true)")

    # B. attach recovers by itself (human)
    b = t.block("attach-auto-human")
    if b is not None:
        t.equal("attach after a kill: exit status", b.rc, 0)
        t.expect(re.search(r"^An interrupted hand-over \(pid \d+\) left changes behind; undoing them first\.$",
                           b.text, re.M) is not None, "attach after a kill: does not say it undoes the interrupted one")
        t.expect("recover: the GPU is back with the host." in b.text, "attach after a kill: the recovery did not finish")
        t.expect(re.search(r"^attach: .*lent to vfio-pci", b.text, re.M) is not None, "attach after a kill: did not attach")
    doc = t.json("release-auto-human")
    if doc is not None:
        t.equal("release after the recovering attach: ok", doc.get("ok"), True)

    # B. attach --json recovers by itself: stdout must stay one JSON document
    b = t.block("attach-auto-json")
    if b is not None:
        t.equal("attach --json after a kill: exit status", b.rc, 0)
        try:
            doc = json.loads(b.text)
        except ValueError as e:
            docs = b.text.count('"schema"')
            t.fail(f"attach --json after a kill: stdout is not one JSON document ({docs} documents concatenated?): {e}")
            doc = None
        if doc is not None:
            t.equal("attach --json after a kill: ok", doc.get("ok"), True)
    doc = t.json("release-auto-json")
    if doc is not None:
        t.equal("release after the recovering attach --json: ok", doc.get("ok"), True)
