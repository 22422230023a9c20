# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 01-inventory (run by lib/tbcheck.py with a Check object t).

First that the guest is the machine the testbed builds (so that a failure below is the
tool's), then that `gpu-handoff list` and `gpu-handoff doctor` agree with it, in JSON
(exactly) and in human form (roughly). KVM is not assumed: the guest usually has none, so
`ready` is only checked for consistency with the exit status and the findings.
"""

import json

GPU, AUDIO, ROOT_PORT = "0000:01:00.0", "0000:01:00.1", "0000:00:02.0"
CPU_VENDORS = {"GenuineIntel": "intel", "AuthenticAMD": "amd"}


def check_machine(t):
    """The testbed's own layout, from sysfs (FACT lines)."""
    pci, groups = t.log.pci(), t.log.groups()
    gpu, aud = pci.get(GPU, {}), pci.get(AUDIO, {})
    t.equal("sysfs: GPU function", (gpu.get("vendor"), gpu.get("device"), gpu.get("class")), ("1234", "1111", "0x030000"))
    t.equal("sysfs: audio function", (aud.get("vendor"), aud.get("device"), aud.get("class")), ("8086", "2668", "0x040300"))
    t.equal("sysfs: GPU driver", gpu.get("driver"), "bochs-drm")
    t.equal("sysfs: audio driver", aud.get("driver"), "snd_hda_intel")
    g = gpu.get("group", "none")
    t.expect(g != "none", "sysfs: the GPU has no IOMMU group (is the IOMMU on?)")
    if g != "none":
        t.equal("sysfs: members of the GPU's group", groups.get(int(g)), [GPU, AUDIO])
    rp = pci.get(ROOT_PORT, {}).get("group", "none")
    if rp != "none":
        t.equal("sysfs: members of the root port's group", groups.get(int(rp)), [ROOT_PORT])
    else:
        t.fail("sysfs: the root port has no IOMMU group")


def check_list(t):
    pci, groups = t.log.pci(), t.log.groups()
    doc = t.json("list-json")
    if doc is not None:
        t.equal("list --json: schema", doc.get("schema"), 1)
        tool_groups = {g.get("group"): g.get("devices", []) for g in doc.get("groups", [])}
        t.equal("list --json: group numbers", sorted(tool_groups), sorted(groups))
        t.equal("list --json: ungrouped devices (the IOMMU is on)", doc.get("ungrouped"), [])
        seen = set()
        for number, devices in tool_groups.items():
            addrs = sorted(d.get("address") for d in devices)
            t.equal(f"list --json: members of group {number}", addrs, groups.get(number))
            for d in devices:
                a = d.get("address")
                seen.add(a)
                f = pci.get(a)
                if not t.expect(f is not None, f"list --json: {a} is not a PCI device of the guest"):
                    continue
                want = (f["vendor"], f["device"], f["class"], None if f["driver"] == "none" else f["driver"])
                got = (d.get("vendor_id"), d.get("device_id"), d.get("class"), d.get("driver"))
                t.equal(f"list --json: {a} (vendor_id, device_id, class, driver)", got, want)
                t.expect(bool(d.get("name")), f"list --json: {a} has no name")
        t.equal("list --json: devices listed", sorted(seen), sorted(pci))
        gpu = next((d for g in doc.get("groups", []) for d in g.get("devices", []) if d.get("address") == GPU), {})
        t.equal("list --json: the GPU", (gpu.get("vendor_id"), gpu.get("device_id"), gpu.get("class"), gpu.get("driver")),
                ("1234", "1111", "0x030000", "bochs-drm"))

    doc = t.json("list-gpus-json")
    if doc is not None:
        got = [(g.get("group"), sorted(d.get("address") for d in g.get("devices", []))) for g in doc.get("groups", [])]
        want = [(int(pci.get(GPU, {}).get("group", -1)), [GPU, AUDIO])]
        t.equal("list --gpus --json: groups", got, want)
        t.equal("list --gpus --json: ungrouped", doc.get("ungrouped"), [])

    b = t.block("list")
    if b is not None:
        t.equal("list: exit status", b.rc, 0)
        t.expect("01:00.0" in b.text and "bochs-drm" in b.text and "01:00.1" in b.text,
                 "list: the human output does not show 01:00.0 with bochs-drm and 01:00.1")
    for name in ("list", "list-json", "list-gpus-json"):
        t.context = name
        t.expect(f"{name}.stderr" not in t.log.blocks, f"{name}: unexpected output on stderr")


def check_doctor(t):
    pci, log = t.log.pci(), t.log
    doc = t.json("doctor-json", rcs=(0, 1))
    rc = log.blocks["doctor-json"].rc if "doctor-json" in log.blocks else None
    if doc is not None:
        t.equal("doctor --json: schema", doc.get("schema"), 1)
        t.equal("doctor --json: iommu_enabled", doc.get("iommu_enabled"), True)
        t.equal("doctor --json: iommu_firmware (the emulated VT-d has a DMAR table)", doc.get("iommu_firmware"), "dmar")
        t.equal("doctor --json: interrupt_remapping (intremap=on)", doc.get("interrupt_remapping"), True)
        t.equal("doctor --json: layout", doc.get("layout"), "single-gpu")
        t.equal("doctor --json: exit status agrees with ready", rc, 0 if doc.get("ready") else 1)
        t.equal("doctor --json: kvm agrees with /dev/kvm", doc.get("kvm"), log.fact("dev_kvm") == "yes")
        t.equal("doctor --json: cpu_vendor", doc.get("cpu_vendor"), CPU_VENDORS.get(log.fact("cpu_vendor"), "other"))
        t.equal("doctor --json: kernel", doc.get("kernel"), log.fact("kernel"))
        vfio = (doc.get("modules") or {}).get("vfio_pci")
        t.expect(vfio in ("available", "loaded", "built-in"), f"doctor --json: modules.vfio_pci is {vfio!r}, but it is installed")
        findings = doc.get("findings", [])
        errors = [f for f in findings if f.get("severity") == "error"]
        for f in findings:
            t.expect(f.get("severity") in ("error", "warning", "info") and f.get("id") and f.get("message"),
                     f"doctor --json: malformed finding {f}")
        t.expect(doc.get("ready") == (not errors), "doctor --json: ready must be true exactly when there is no error finding")
        iommu_errors = [f["id"] for f in errors if "iommu" in f.get("id", "").lower()]
        t.equal("doctor --json: IOMMU error findings", iommu_errors, [])

        gpus = doc.get("gpus", [])
        t.equal("doctor --json: GPU addresses", [g.get("address") for g in gpus], [GPU])
        g = gpus[0] if gpus else {}
        t.equal("doctor --json: GPU group", g.get("group"), int(pci.get(GPU, {}).get("group", -1)))
        t.equal("doctor --json: GPU group_isolation", g.get("group_isolation"), "isolated")
        t.equal("doctor --json: GPU companions", g.get("companions"), [AUDIO])
        t.equal("doctor --json: GPU foreign devices", g.get("foreign"), [])
        t.equal("doctor --json: GPU driver", g.get("driver"), "bochs-drm")
        t.equal("doctor --json: GPU boot_vga", g.get("boot_vga"), pci.get(GPU, {}).get("boot_vga") == "1")
        # the only GPU, bochs-drm with fbcon on its framebuffer: the kernel shows it drives the display
        t.equal("doctor --json: GPU display", g.get("display"), True)
        t.expect(g.get("display_reason") and "boot" not in g["display_reason"],
                 f"doctor --json: GPU display_reason should be evidence from the kernel, not the boot GPU: {g.get('display_reason')!r}")
        t.log.notes.append(f"display: {g.get('display_reason')}")
        t.equal("doctor --json: GPU ids", (g.get("vendor_id"), g.get("device_id"), g.get("class")), ("1234", "1111", "0x030000"))
        rm = pci.get(GPU, {}).get("reset_method", "-")
        t.equal("doctor --json: GPU reset_method", g.get("reset_method"), None if rm == "-" else rm.replace(",", " "))
        t.expect(isinstance(g.get("quirks"), list), "doctor --json: GPU quirks is not a list")

    b = t.block("doctor")
    if b is not None:
        t.equal("doctor: exit status (same as with --json)", b.rc, rc)
        t.expect("01:00.0" in b.text, "doctor: the human output does not mention the GPU 01:00.0")
    for name in ("doctor", "doctor-json"):
        t.context = name
        t.expect(f"{name}.stderr" not in t.log.blocks, f"{name}: unexpected output on stderr")


def check(t):
    check_machine(t)
    check_list(t)
    check_doctor(t)
    b = t.log.blocks.get("doctor-json")
    try:
        doc = json.loads(b.text) if b else {}
    except ValueError:
        return
    t.log.notes.append("doctor: exit {} ready={} virtualization={} iommu_enabled={} layout={}; findings: {}".format(
        b.rc, doc.get("ready"), doc.get("virtualization"), doc.get("iommu_enabled"), doc.get("layout"),
        ", ".join(f"{f.get('severity')}:{f.get('id')}" for f in doc.get("findings", [])) or "none"))
