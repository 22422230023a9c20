# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 01-iommu-param-off (run by lib/tbcheck.py with a Check object t)."""

GPU = "0000:01:00.0"


def check(t):
    t.equal("sysfs: IOMMU groups", t.log.fact("iommu_groups"), "0")
    doc = t.json("doctor-json", rcs=(1,))
    if doc is None:
        return
    t.equal("doctor --json: iommu_enabled", doc.get("iommu_enabled"), False)
    t.equal("doctor --json: ready", doc.get("ready"), False)
    t.equal("doctor --json: iommu_firmware (the DMAR table is there)", doc.get("iommu_firmware"), "dmar")
    g = (doc.get("gpus") or [{}])[0]
    t.equal("doctor --json: GPU group_isolation", (g.get("address"), g.get("group_isolation")), (GPU, "no-iommu"))
    findings = doc.get("findings", [])
    how = [f for f in findings if f.get("severity") == "error" and "intel_iommu=on" in (f.get("fix") or "")]
    t.expect(how, "doctor --json: no error finding whose fix says to add intel_iommu=on "
                  f"(findings: {[(f.get('id'), f.get('fix')) for f in findings]})")
    t.log.notes.append("doctor: " + "; ".join(f"{f.get('id')}: fix: {f.get('fix')}" for f in how))
