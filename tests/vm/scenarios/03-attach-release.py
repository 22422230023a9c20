# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 03-attach-release: what gpu-handoff reported for the cycle."""

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def check(t):
    doc = t.json("attach")
    if doc is not None:
        t.equal("attach: ok", doc.get("ok"), True)
        steps = doc.get("steps", [])
        states = {s.get("kind"): s.get("state") for s in steps if s.get("state") != "skipped"}
        for kind in ("check-holders", "unbind-vtcon", "unbind-driver", "unload-module", "load-module",
                     "bind-vfio", "wait-vfio-group"):
            t.equal(f"attach: step {kind}", states.get(kind), "done")
        t.expect(all(s.get("state") in ("done", "skipped") for s in steps), f"attach: steps not all done: {steps}")
        t.log.notes.append("attach timeline: " + ", ".join(f"{s['kind']} {s['ms']:.0f} ms" for s in steps
                                                           if s.get("state") == "done"))
    doc = t.json("status-attached")
    if doc is not None:
        t.equal("status after attach: state", doc.get("state"), "attached")
        t.equal("status after attach: needs_recovery", doc.get("needs_recovery"), False)
    doc = t.json("release")
    if doc is not None:
        t.equal("release: ok", doc.get("ok"), True)
        reverted = [s for s in doc.get("steps", []) if s.get("state") == "reverted"]
        t.expect(len(reverted) >= 7, f"release: only {len(reverted)} steps reverted")
        t.log.notes.append("release timeline: " + ", ".join(f"{s['kind']} {s['ms']:.0f} ms" for s in reversed(reverted)))
    doc = t.json("status-released")
    if doc is not None:
        t.equal("status after release: state", doc.get("state"), "idle")
