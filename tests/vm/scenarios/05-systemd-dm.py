# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 05-systemd-dm: the display manager stopped and started over D-Bus, the
sleep inhibitor held exactly while the GPU is lent."""

import re


def inhibitors(text):
    """A ListInhibitors answer in busctl's text form ('a(ssssuu) 1 "what" "who" "why" "mode" uid
    pid'), as (what, who, why, mode) tuples."""
    return re.findall(r'"([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" \d+ \d+', text)


def ours(text):
    return [i for i in inhibitors(text) if i[1] == "gpu-handoff" and i[2] == "GPU lent to a VM"]


def check(t):
    b = t.block("inhibitors-before")
    if b is not None:
        t.expect(not ours(b.text), f"an inhibitor of gpu-handoff before attach: {b.text}")

    doc = t.json("attach")
    if doc is not None:
        t.equal("attach: ok", doc.get("ok"), True)
        steps = doc.get("steps", [])
        by_kind = {}
        for s in steps:
            by_kind.setdefault(s.get("kind"), []).append(s)
        t.equal("attach: first steps", [s.get("kind") for s in steps[:2]], ["inhibit-sleep", "stop-unit"])
        for kind in ("inhibit-sleep", "stop-unit", "check-holders", "unbind-driver", "unload-module", "bind-vfio",
                     "wait-vfio-group"):
            t.equal(f"attach: step {kind}", [s.get("state") for s in by_kind.get(kind, [])][:1], ["done"])
        stop = by_kind.get("stop-unit", [{}])[0]
        t.equal("attach: stop-unit args", stop.get("args"), ["display-manager.service", "fake-dm.service"])
        t.expect(all(s.get("state") in ("done", "skipped") for s in steps), f"attach: steps not all done: {steps}")
        t.log.notes.append("attach timeline: " + ", ".join(f"{s['kind']} {s['ms']:.0f} ms" for s in steps
                                                           if s.get("state") == "done"))

    b = t.block("inhibitors-attached")
    if b is not None:
        t.expect(ours(b.text), f"logind does not list gpu-handoff's inhibitor while attached: {b.text}")
        for what, _, _, mode in ours(b.text):
            t.equal("inhibitor: what", sorted(what.split(":")), ["idle", "shutdown", "sleep"])
            t.equal("inhibitor: mode", mode, "block")
    b = t.block("inhibit-list")
    if b is not None:
        t.expect("gpu-handoff" in b.text, f"systemd-inhibit --list does not show gpu-handoff: {b.text}")

    doc = t.json("status-attached")
    if doc is not None:
        t.equal("status after attach: state", doc.get("state"), "attached")

    doc = t.json("release")
    if doc is not None:
        t.equal("release: ok", doc.get("ok"), True)
        states = {s.get("kind"): s.get("state") for s in doc.get("steps", []) if s.get("state") != "skipped"}
        t.equal("release: stop-unit", states.get("stop-unit"), "reverted")
        t.equal("release: inhibit-sleep", states.get("inhibit-sleep"), "reverted")
        reverted = [s for s in doc.get("steps", []) if s.get("state") == "reverted"]
        t.log.notes.append("release timeline: " + ", ".join(f"{s['kind']} {s['ms']:.0f} ms" for s in reverted))

    b = t.block("inhibitors-released")
    if b is not None:
        t.expect(not ours(b.text), f"gpu-handoff's inhibitor is still listed after release: {b.text}")

    # 2. sessions
    doc = t.json("attach-greeter")
    if doc is not None:
        t.equal("attach with a greeter session: ok", doc.get("ok"), True)
        stop = [s for s in doc.get("steps", []) if s.get("kind") == "stop-unit"]
        if stop:
            t.log.notes.append(f"stop-unit with a greeter session to wait for: {stop[0]['ms']:.0f} ms")
    doc = t.json("release-greeter")
    if doc is not None:
        t.equal("release after the greeter: ok", doc.get("ok"), True)
    doc = t.json("attach-desktop", rcs=(3,))
    if doc is not None:
        t.equal("attach with a desktop session: ok", doc.get("ok"), False)
        t.equal("attach with a desktop session: host_intact", doc.get("host_intact"), True)
        steps = doc.get("steps", [])
        failed = next((s for s in steps if s.get("index") == doc.get("failed_step")), {}) if doc.get("failed_step") else {}
        t.equal("attach with a desktop session: failed step", failed.get("kind"), "stop-unit")
        message = failed.get("message") or ""
        t.expect("desktop session did not end" in message and "wayland" in message and "session " in message,
                 f"attach with a desktop session: the message does not name the session: {message!r}")
        t.expect(all(s.get("state") in ("reverted", "pending", "failed") for s in steps if s.get("kind") != "skipped"),
                 f"attach with a desktop session: not rolled back: {steps}")
        t.log.notes.append(f"desktop session refusal: {message} ({failed.get('ms', 0):.0f} ms)")
    b = t.block("inhibitors-refused")
    if b is not None:
        t.expect(not ours(b.text), f"gpu-handoff's inhibitor is still listed after the refusal: {b.text}")
