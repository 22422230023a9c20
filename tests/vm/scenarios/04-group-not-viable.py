# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 04-group-not-viable: a half-lent group, as doctor/list/attach see it, and
the refusal of wait-vfio-group."""

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def check(t):
    group = t.log.pci().get(GPU, {}).get("group")

    # A. the GPU on vfio-pci by hand, audio on snd_hda_intel
    doc = t.json("list-half")
    if doc is not None:
        drivers = {d.get("address"): d.get("driver") for g in doc.get("groups", []) for d in g.get("devices", [])}
        t.equal("list in the half state: drivers", (drivers.get(GPU), drivers.get(AUDIO)), ("vfio-pci", "snd_hda_intel"))
    b = t.block("doctor-half")
    doc = t.json("doctor-half", rcs=(0, 1))
    if doc is not None:
        gpus = {g.get("address"): g for g in doc.get("gpus", [])}
        t.equal("doctor in the half state: GPU driver", gpus.get(GPU, {}).get("driver"), "vfio-pci")
        findings = doc.get("findings", [])
        ids = [f.get("id") for f in findings]
        t.expect("gpu-on-vfio" in ids, f"doctor in the half state: no gpu-on-vfio finding: {ids}")
        warns = [f for f in findings if f.get("severity") in ("warning", "error")
                 and (AUDIO in (f.get("message") or "") or "viab" in (f.get("message") or ""))]
        t.log.notes.append(f"doctor in the half state: ready={doc.get('ready')}, findings {ids}; "
                           + ("it warns: " + warns[0].get("message") if warns else
                              "questionable: nothing says the group is not viable (audio still on snd_hda_intel)"))
    doc = t.json("plan-half")
    if doc is not None:
        steps = [(s.get("kind"), s.get("args")) for s in doc.get("steps", []) if s.get("skipped") is None]
        t.expect(("bind-vfio", [AUDIO]) in steps and ("bind-vfio", [GPU]) not in steps,
                 f"plan in the half state: binds {[a for k, a in steps if k == 'bind-vfio']}, want only the audio function")
        t.expect(("unbind-driver", [AUDIO, "snd_hda_intel"]) in steps, "plan in the half state: audio not unbound")
        t.log.notes.append("plan in the half state: " + ", ".join(f"{k} {' '.join(a)}" for k, a in steps))
    doc = t.json("attach-half")
    if doc is not None:
        t.equal("attach in the half state: ok", doc.get("ok"), True)
    doc = t.json("release-half")
    if doc is not None:
        t.equal("release after the half-state attach: ok", doc.get("ok"), True)

    # B. wait-vfio-group finds the audio function back on snd_hda_intel
    doc = t.json("attach-race", rcs=(3,))
    if doc is not None:
        t.equal("attach with a member back on a host driver: ok", doc.get("ok"), False)
        t.equal("attach with a member back on a host driver: host_intact", doc.get("host_intact"), True)
        steps = doc.get("steps", [])
        failed = [s for s in steps if s.get("state") == "failed"]
        t.equal("attach with a member back on a host driver: failed step",
                [(s.get("kind"), s.get("args")) for s in failed], [("wait-vfio-group", [group])])
        if failed:
            msg = failed[0].get("message") or ""
            t.equal("attach with a member back on a host driver: message", msg,
                    f"IOMMU group {group} is not viable: {AUDIO} is still bound to snd_hda_intel, so no VM could "
                    "use the group")
        bad = [(s.get("kind"), s.get("state")) for s in steps if s.get("state") not in ("reverted", "failed", "skipped")]
        t.equal("attach with a member back on a host driver: steps not rolled back", bad, [])
