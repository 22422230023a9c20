# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 03-attach-release-efifb: the plan, attach and release on an efifb host."""

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def check(t):
    group = t.log.pci().get(GPU, {}).get("group")
    doc = t.json("plan")
    if doc is not None:
        # check-holders may lead its addresses with its mode ("refuse", or "terminate" with --terminate)
        steps = [(s.get("kind"), [a for a in s.get("args", []) if not (s.get("kind") == "check-holders" and a == "refuse")])
                 for s in doc.get("steps", []) if s.get("skipped") is None]
        # No driver on the GPU: nothing to unbind or unload for it; fbcon and efifb are released.
        t.equal("plan: steps", steps, [
            ("check-holders", [AUDIO]),
            ("unbind-vtcon", ["vtcon1"]),
            ("unbind-framebuffer", ["efi-framebuffer.0", "efi-framebuffer"]),
            ("unbind-driver", [AUDIO, "snd_hda_intel"]),
            ("unload-module", ["snd_hda_intel"]),
            ("load-module", ["vfio_pci", "vfio", "vfio_iommu_type1", "vfio_virqfd", "vfio_pci_core"]),
            ("bind-vfio", [GPU]),
            ("bind-vfio", [AUDIO]),
            ("wait-vfio-group", [group]),
        ])

    doc = t.json("attach")
    if doc is not None:
        t.equal("attach: ok", doc.get("ok"), True)
        done = [s.get("kind") for s in doc.get("steps", []) if s.get("state") == "done"]
        t.equal("attach: steps done", done, ["check-holders", "unbind-vtcon", "unbind-framebuffer", "unbind-driver",
                                             "unload-module", "load-module", "bind-vfio", "bind-vfio",
                                             "wait-vfio-group"])
        t.expect(all(s.get("state") in ("done", "skipped") for s in doc.get("steps", [])),
                 "attach: a step is neither done nor skipped")
        t.log.notes.append("attach timeline: " + ", ".join(f"{s['kind']} {s['ms']:.0f} ms" for s in doc["steps"]
                                                           if s.get("state") == "done"))
    doc = t.json("status-attached")
    if doc is not None:
        t.equal("status after attach: state", doc.get("state"), "attached")
        t.equal("status after attach: needs_recovery", doc.get("needs_recovery"), False)

    doc = t.json("release")
    if doc is not None:
        t.equal("release: ok", doc.get("ok"), True)
        t.equal("release: host_intact", doc.get("host_intact"), True)
        bad = [(s.get("kind"), s.get("args"), s.get("state"), s.get("message")) for s in doc.get("steps", [])
               if s.get("state") not in ("reverted",) and s.get("kind") != "check-holders"]
        t.equal("release: steps not reverted", bad, [])
        t.log.notes.append("release timeline: " + ", ".join(f"{s['kind']} {s['ms']:.0f} ms"
                                                            for s in reversed(doc.get("steps", []))
                                                            if s.get("state") == "reverted"))
    b = t.block("status-released")
    if b is not None:
        t.equal("status after release: exit status", b.rc, 0)
        t.expect("Nothing is lent." in b.text, "status after release does not say 'Nothing is lent.'")
    b = t.block("recover-after")
    if b is not None:
        t.equal("recover after release: exit status", b.rc, 0)
        t.expect("Nothing to recover" in b.text, "recover after release had something to do")
