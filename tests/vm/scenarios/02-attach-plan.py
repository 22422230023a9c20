# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 02-attach-plan: the dry-run plan the real kernel's sysfs gives."""

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def check(t):
    b = t.block("plan-refused")
    if b is not None:
        t.equal("attach --dry-run without --yes: exit status", b.rc, 1)
        err = t.log.blocks.get("plan-refused.stderr")
        t.expect(err is not None and "--yes" in err.text, "attach without --yes: the refusal does not mention --yes")

    doc = t.json("plan-json")
    if doc is not None:
        t.equal("plan: schema", doc.get("schema"), 1)
        t.equal("plan: devices", [d.get("address") for d in doc.get("devices", [])], [GPU, AUDIO])
        steps = [(s.get("kind"), s.get("args"), s.get("skipped") is not None) for s in doc.get("steps", [])]
        kinds = [k for k, _, _ in steps]
        # The busybox guest has no systemd: the inhibitor is planned but skipped, no DM step.
        t.equal("plan: first step", steps[0] if steps else None, ("inhibit-sleep", [], True))
        t.expect(("check-holders", ["refuse", GPU, AUDIO], False) in steps, f"plan: no holder check of both functions: {steps}")
        t.expect(any(k == "unbind-vtcon" and not s for k, _, s in steps), f"plan: fbcon is not unbound: {steps}")
        unbinds = [a for k, a, _ in steps if k == "unbind-driver"]
        t.equal("plan: unbinds (audio first)", unbinds, [[AUDIO, "snd_hda_intel"], [GPU, "bochs-drm"]])
        unloads = [a[0] for k, a, _ in steps if k == "unload-module"]
        # bochs-drm is module "bochs"; snd_hda_intel drives only this function here, so it goes too.
        t.expect("bochs" in unloads, f"plan: module bochs is not unloaded: {unloads}")
        binds = [a[0] for k, a, _ in steps if k == "bind-vfio"]
        t.equal("plan: vfio binds", binds, [GPU, AUDIO])
        t.equal("plan: last step", kinds[-1] if kinds else None, "wait-vfio-group")
        order = [kinds.index(k) for k in ("check-holders", "unbind-driver", "unload-module", "bind-vfio") if k in kinds]
        t.equal("plan: step order", order, sorted(order))
        t.log.notes.append("plan: " + ", ".join(f"{k} {' '.join(a)}" for k, a, _ in steps))

    b = t.block("plan")
    if b is not None:
        t.equal("attach --dry-run --yes 01:00.0: exit status", b.rc, 0)
        t.expect("Dry run: nothing was changed." in b.text, "attach --dry-run: no dry-run notice")
