# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks shared by the boot suite's checkers (tests/boot/scenarios/NN-name.py), on
top of tests/vm/lib/tbcheck.py's Check object. A checker does:
    import os, sys; sys.path.insert(0, os.path.dirname(__file__)); import bootchecks
"""

VT_D_ADD = ["intel_iommu=on", "iommu=pt"]


def words(cmdline):
    """The words of a kernel command line, GRUB's BOOT_IMAGE= left out."""
    return [w for w in (cmdline or "").split() if not w.startswith("BOOT_IMAGE=")]


def check_setup_applied(t, name, add=VT_D_ADD, remove=("intel_iommu=off",), vfio=()):
    """Block name is `setup --yes --json`: applied, with exactly these arguments and devices."""
    doc = t.json(name)
    if doc is None:
        return None
    t.equal(f"{name}: outcome", doc.get("outcome"), "applied")
    t.equal(f"{name}: kernel_args.add", doc.get("kernel_args", {}).get("add"), list(add))
    t.equal(f"{name}: kernel_args.remove", doc.get("kernel_args", {}).get("remove"), list(remove))
    t.equal(f"{name}: vfio", sorted(doc.get("vfio") or []), sorted(vfio))
    t.equal(f"{name}: refused", doc.get("refused"), None)
    note_setup_times(t, name, doc)
    return doc


def note_setup_times(t, name, doc):
    """NOTE (shown when the scenario passes): setup's own time against the generators'."""
    own = gen = 0
    for s in doc.get("steps", []):
        if s.get("step", "").startswith(("run ", "check ")):
            gen += s.get("usec") or 0
        else:
            own += s.get("usec") or 0
    t.log.notes.append(f"{name}: setup's own steps {own / 1000:.0f} ms, the generators and their checks "
                       f"{gen / 1e6:.1f} s")


def check_cmdline_changed(t, before_fact, after_fact, add=VT_D_ADD, remove=("intel_iommu=off",)):
    """The running kernel's command line is the old one less `remove`, plus `add`: nothing else."""
    before, after = words(t.log.fact(before_fact)), words(t.log.fact(after_fact))
    t.expect(before, f"no FACT {before_fact}")
    want = [w for w in before if w not in remove] + [w for w in add if w not in before]
    t.equal(f"/proc/cmdline after setup ({after_fact})", sorted(after), sorted(want))
    t.equal("no argument twice", len(after), len(set(after)))


def check_status(t, name, state, **fields):
    doc = t.json(name)
    if doc is None:
        return None
    t.equal(f"{name}: state", doc.get("state"), state)
    for k, v in fields.items():
        t.equal(f"{name}: {k}", doc.get(k), v)
    return doc


def check_doctor_ready(t, name="doctor"):
    doc = t.json(name, rcs=(0,))
    if doc is not None:
        t.equal("doctor: ready", doc.get("ready"), True)
        codes = [f.get("id") for f in doc.get("findings", []) if f.get("severity") == "error"]
        t.equal("doctor: errors", codes, [])


def check_undone(t, name="undo"):
    doc = t.json(name)
    if doc is not None:
        t.equal(f"{name}: outcome", doc.get("outcome"), "undone")


def check_iommu_round_trip(t, setup="setup", applied_status="status-0", add=VT_D_ADD, remove=("intel_iommu=off",),
                           vfio=()):
    """The IOMMU scenario: set up (block `setup`), rebooted, ready, undone, rebooted, as before."""
    check_setup_applied(t, setup, add, remove, vfio)
    if applied_status:
        check_status(t, applied_status, "applied", reboot_pending=True)
    check_cmdline_changed(t, "cmdline-before", "cmdline-after", add, remove)
    groups = t.log.fact("iommu_groups")
    t.expect(groups is not None and int(groups) > 0, f"IOMMU groups after setup: {groups}")
    check_doctor_ready(t)
    check_status(t, "status-1", "applied", reboot_pending=False, missing_args=[], not_on_vfio=[],
                 iommu_off=False, drifted=[])
    check_undone(t)
    t.equal("/proc/cmdline after undo", words(t.log.fact("cmdline-undone")), words(t.log.fact("cmdline-before")))
    check_status(t, "status-2", "none")
    note_boots(t)


def boots(t):
    """[(number, how, seconds)] of the runner's "TB-HOST: boot N (how) ... ended with S after X s"."""
    import re
    out, how = [], {}
    for ln in t.log.lines:
        m = re.match(r"TB-HOST: boot (\d+) \((\w+)\)", ln)
        if m:
            how[int(m.group(1))] = m.group(2)
        m = re.match(r"TB-HOST: boot (\d+) ended with \d+ after ([\d.]+) s", ln)
        if m:
            out.append((int(m.group(1)), how.get(int(m.group(1))), float(m.group(2))))
    return out


def check_vfio_twin(t, attach):
    """vfio-lib.sh's scenario: the twin on vfio-pci after exactly one reboot, everything back."""
    twin = (t.log.fact("twin") or "").split()
    t.equal("the twin GPU and its audio", len(twin), 2)
    check_setup_applied(t, "setup", add=VT_D_ADD + ["gpu_handoff.vfio=1"], vfio=twin)
    check_cmdline_changed(t, "cmdline-before", "cmdline-after", add=VT_D_ADD + ["gpu_handoff.vfio=1"])
    pci = t.log.pci()
    for bdf in twin:
        t.equal(f"{bdf} after the one reboot", pci.get(bdf, {}).get("driver"), "vfio-pci")
    check_doctor_ready(t)
    check_status(t, "status-1", "applied", reboot_pending=False, missing_args=[], not_on_vfio=[],
                 iommu_off=False, drifted=[])
    if attach:
        for name in ("attach-boot-gpu", "release-boot-gpu"):
            t.json(name)
    check_undone(t)
    t.equal("/proc/cmdline after undo", words(t.log.fact("cmdline-undone")), words(t.log.fact("cmdline-before")))
    check_status(t, "status-2", "none")
    # issue 13's "reboots to ready": the boot that checked all this was the first after setup
    disk_boots = [b for b in boots(t) if b[1] == "disk"]
    t.expect(len(disk_boots) == 3, f"three boots (stock, set up, undone), got {disk_boots}")
    note_boots(t)


def note_boots(t):
    """NOTE: each boot's wall time on the host, and systemd-analyze's startup line of each."""
    t.log.notes.append("boots (whole VM runs): " + ", ".join(f"{n} ({how}): {s:.0f} s" for n, how, s in boots(t)))
    for ln in t.log.lines:
        if ln.startswith("TB: startup "):
            t.log.notes.append(ln.strip())
