# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 01-no-iommu (run by lib/tbcheck.py with a Check object t)."""

import re

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"
HOW = re.compile(r"VT-d|AMD-Vi|IOMMU|intel_iommu|amd_iommu", re.I)


def check(t):
    pci = t.log.pci()
    # the machine: no groups at all, the GPU still driven by bochs-drm
    t.equal("sysfs: IOMMU groups", t.log.fact("iommu_groups"), "0")
    t.equal("sysfs: GPU driver", pci.get(GPU, {}).get("driver"), "bochs-drm")

    doc = t.json("list-json")
    if doc is not None:
        t.equal("list --json: groups (no IOMMU)", doc.get("groups"), [])
        got = sorted(d.get("address") for d in doc.get("ungrouped", []))
        t.equal("list --json: ungrouped devices", got, sorted(pci))
        gpu = next((d for d in doc.get("ungrouped", []) if d.get("address") == GPU), {})
        t.equal("list --json: GPU driver", gpu.get("driver"), "bochs-drm")

    b = t.block("list-group")
    if b is not None:
        t.equal("list --group 0: exit status (no such group)", b.rc, 2)
        err = t.log.blocks.get("list-group.stderr")
        t.expect(err is not None and "IOMMU" in err.text, "list --group 0: the error does not mention the IOMMU")

    doc = t.json("doctor-json", rcs=(1,))
    if doc is not None:
        t.equal("doctor --json: schema", doc.get("schema"), 1)
        t.equal("doctor --json: iommu_enabled", doc.get("iommu_enabled"), False)
        t.equal("doctor --json: ready", doc.get("ready"), False)
        t.equal("doctor --json: iommu_firmware (no DMAR table)", doc.get("iommu_firmware"), None)
        gpus = doc.get("gpus", [])
        t.equal("doctor --json: GPU addresses", [g.get("address") for g in gpus], [GPU])
        g = gpus[0] if gpus else {}
        t.equal("doctor --json: GPU group", g.get("group"), None)
        t.equal("doctor --json: GPU group_isolation", g.get("group_isolation"), "no-iommu")
        findings = doc.get("findings", [])
        how = [f for f in findings if f.get("severity") == "error" and "iommu" in f.get("id", "").lower()
               and HOW.search(f.get("fix") or "")]
        t.expect(how, "doctor --json: no error finding about the IOMMU with a fix that tells how to enable it "
                      f"(findings: {[f.get('id') for f in findings]})")
        t.log.notes.append("doctor: " + "; ".join(f"{f.get('id')}: fix: {f.get('fix')}" for f in how))

    b = t.block("doctor")
    if b is not None:
        t.equal("doctor: exit status", b.rc, 1)
        t.expect("IOMMU" in b.text, "doctor: the human output does not mention the IOMMU")
