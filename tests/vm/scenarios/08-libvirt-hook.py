# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 08-libvirt-hook: Debian's libvirtd ran gpu-handoff as its QEMU hook; a domain
without hostdevs was left alone, the display's GPU without SingleGPU= was refused through virsh,
and with managed='yes' and managed='no' (and managed='yes' again after managed='no') the hook lent
the GPU's two functions to the QEMU that libvirt started (vfio-pci on its command line, the group
open, the devices on its PCI bus) and gave everything back on virsh destroy."""

import json
import re

HOOK = "/etc/libvirt/hooks/qemu.d/gpu-handoff"
DEV_RE = re.compile(r"^  Bus +(\d+), device +(\d+), function (\d+):$")


def unescape(field):
    """A journal free-text field ("hook\\x20tbvm") as the string it stands for."""
    return re.sub(r"\\x([0-9a-f]{2})|\\\\", lambda m: chr(int(m.group(1), 16)) if m.group(1) else "\\", field)


def journal(text):
    """The journal as (phases, steps, ends): phases [(name, devices, command)], steps [(kind, [args])]
    of the first phase, ends [outcome]."""
    phases, steps, ends = [], [], []
    for line in text.splitlines():
        f = line.split(" ")
        if f[0] == "phase" and len(f) >= 7:
            phases.append((f[1], unescape(f[5]), unescape(f[6])))
        elif f[0] == "begin" and len(phases) == 1:
            steps.append((f[2], [unescape(a) for a in f[3:]]))
        elif f[0] == "end":
            ends.append(f[1])
    return phases, steps, ends


def vfio_devices(lines):
    """libvirt's -device arguments for vfio-pci (JSON since libvirt 7.x) as {id: host}."""
    out = {}
    for prev, arg in zip(lines, lines[1:]):
        if prev != "-device":
            continue
        try:
            d = json.loads(arg)
        except ValueError:
            m = re.match(r"vfio-pci,host=([^,]+).*?(?:,id=([^,]+))?", arg)
            d = {"driver": "vfio-pci", "host": m.group(1), "id": m.group(2)} if m else {}
        if d.get("driver") == "vfio-pci":
            out[d.get("id")] = d.get("host")
    return out


def pci_devices(lines):
    """An HMP 'info pci' answer as {id: "VGA controller: PCI device 1234:1111"}."""
    devs, what, seen = {}, None, False
    for line in lines:
        if DEV_RE.match(line):
            what, seen = None, True
            continue
        if not seen:
            continue
        if what is None and line.startswith("    ") and not line.startswith("      "):
            what = line.strip()
        m = re.match(r'^      id "(.*)"$', line)
        if m and m.group(1):
            devs[m.group(1)] = what
    return devs


def gpu_functions(t):
    """(GPU, audio function, {bdf: facts}) from the guest's FACT lines, as find_gpu picks them."""
    pci = t.log.pci()
    gpu = next((b for b, f in sorted(pci.items()) if f.get("class", "").startswith("0x03")
                and not b.startswith("0000:00:")), None)
    aud = next((b for b in sorted(pci) if gpu and b != gpu and b.rsplit(".", 1)[0] == gpu.rsplit(".", 1)[0]), None)
    return gpu, aud, pci


def hook_results(text):
    """libvirtd's debug lines as [(vm, op, subop, status, stderr)]: each hook run paired with the
    next "Result status" line of the same thread."""
    out, pending = [], {}
    for line in text.splitlines():
        m = re.match(r"^\S+ \S+: (\d+): debug : virCommandRunAsync:\d+ : About to run .*" + re.escape(HOOK)
                     + r" (\S+) (\S+) (\S+) -$", line)
        if m:
            pending[m.group(1)] = (m.group(2), m.group(3), m.group(4))
            continue
        m = re.match(r"^\S+ \S+: (\d+): debug : virCommandRun:\d+ : Result status (\d+), stdout: '(.*)' stderr: '(.*)$",
                     line)
        if m and m.group(1) in pending:
            vm, op, subop = pending.pop(m.group(1))
            out.append((vm, op, subop, int(m.group(2)), m.group(4).rstrip("'")))
    return out


def check_vm(t, vm, tag, gpu, aud, pci, managed):
    """False when the domain did not start (the rest would only repeat that)."""
    b = t.block(f"start-{tag}")
    if b is None:
        return False
    if b.rc != 0:
        err = t.log.blocks.get(f"start-{tag}.stderr")
        t.fail(f"{vm}: virsh start exited with {b.rc}: {' '.join(err.lines if err else []).strip()}")
        return False

    steps = None
    b = t.block(f"journal-{tag}")
    if b is not None:
        phases, steps, ends = journal(b.text)
        t.equal(f"{vm}: journal phases while running", [(p[0], p[2]) for p in phases], [("attach", f"hook {vm}")])
        if phases:
            t.equal(f"{vm}: journal devices", sorted(phases[0][1].split(",")), sorted([gpu, aud]))
        t.equal(f"{vm}: journal outcome", ends, ["attached"])
        kinds = [k for k, _ in steps]
        t.expect(("stop-unit", ["display-manager.service", "fake-dm.service"]) in steps,
                 f"{vm}: the hook did not stop the display manager: {steps}")
        for dev, drv in ((gpu, pci[gpu].get("driver")), (aud, pci[aud].get("driver"))):
            t.expect(("unbind-driver", [dev, drv]) in steps, f"{vm}: no unbind-driver {dev} {drv}: {steps}")
        binds = sorted(a[0] for k, a in steps if k == "bind-vfio")
        if managed:
            t.equal(f"{vm} (managed='yes'): bind-vfio steps (libvirt binds)", binds, [])
            t.expect("wait-vfio-group" not in kinds, f"{vm} (managed='yes'): a wait-vfio-group step: {kinds}")
        else:
            t.equal(f"{vm} (managed='no'): bind-vfio steps", binds, sorted([gpu, aud]))
            t.expect("wait-vfio-group" in kinds, f"{vm} (managed='no'): no wait-vfio-group step: {kinds}")
        t.log.notes.append(f"{vm}: the hook's steps: {' '.join(kinds)}")

    doc = t.json(f"status-{tag}")
    if doc is not None:
        t.equal(f"{vm}: status while running", doc.get("state"), "attached")

    ids = {}
    b = t.block(f"cmdline-{tag}")
    if b is not None:
        lines = b.lines
        t.expect(lines and lines[0].endswith("qemu-system-x86_64"), f"{vm}: not a QEMU: {lines[:1]}")
        t.expect("-accel" in lines and lines[lines.index("-accel") + 1].startswith("tcg"),
                 f"{vm}: QEMU does not run with TCG")
        ids = vfio_devices(lines)
        t.equal(f"{vm}: QEMU's vfio-pci devices (host addresses)", sorted(ids.values()), sorted([gpu, aud]))

    group = None
    b = t.block(f"vfio-group-{tag}")
    if b is not None and b.lines:
        group = b.lines[0].strip()
    b = t.block(f"vfio-fds-{tag}")
    if b is not None and group is not None:
        t.expect(f"/dev/vfio/{group}" in b.lines, f"{vm}: QEMU does not hold /dev/vfio/{group} open: {b.lines}")
        t.expect("/dev/vfio/vfio" in b.lines, f"{vm}: QEMU does not hold the VFIO container open: {b.lines}")

    b = t.block(f"info-pci-{tag}")
    if b is not None:
        t.equal(f"{vm}: virsh qemu-monitor-command info pci exit status", b.rc, 0)
        devs = pci_devices(b.lines)
        for ident, host in ids.items():
            f = pci.get(host, {})
            kind = "VGA controller" if host == gpu else "Audio controller"
            t.equal(f"{vm}: the VM's device {ident} (host {host})", devs.get(ident),
                    f"{kind}: PCI device {f.get('vendor')}:{f.get('device')}")

    b = t.block(f"syslog-running-{tag}")
    if b is not None:
        t.expect(f"{vm}: lent {gpu}" in b.lines, f"{vm}: syslog does not say the GPU was lent: {b.lines}")
        t.expect(any(ln.startswith(f"{vm} attach:  total ") for ln in b.lines), f"{vm}: no attach timeline in syslog")
        done = [int(m.group(1)) for m in (re.match(rf"{re.escape(vm)} attach: +(\d+) +done ", ln) for ln in b.lines) if m]
        if steps is not None:
            t.equal(f"{vm}: steps done in the syslog timeline", done, list(range(1, len(steps) + 1)))
    b = t.block(f"destroy-{tag}")
    if b is not None:
        t.equal(f"{vm}: virsh destroy exit status", b.rc, 0)
    b = t.block(f"syslog-{tag}")
    if b is not None:
        t.expect(f"{vm}: the GPU is back with the host" in b.lines, f"{vm}: syslog does not say the GPU is back: {b.lines}")
        rel = [ln for ln in b.lines if ln.startswith(f"{vm} release: ") and "total" not in ln]
        t.expect(rel and all(" reverted " in ln for ln in rel), f"{vm}: release steps not all reverted: {rel}")
        total = [ln for ln in b.lines if re.match(rf"{re.escape(vm)} (attach|release):  total ", ln)]
        t.log.notes.append(f"{vm}: " + "; ".join(total))
    return True


def check(t):
    stuck = t.log.blocks.get("libvirtd-stuck")
    if stuck is not None:  # libvirtd missed its first deadline and was started again
        t.log.notes.append("libvirtd did not answer within 90 s of its start and was restarted: "
                           + " | ".join(stuck.lines[:12]))
    gpu, aud, pci = gpu_functions(t)
    if not t.expect(gpu and aud, f"no GPU with a second function in the guest's facts: {sorted(pci)}"):
        return

    b = t.block("state-before")
    if b is not None:
        t.expect(f"{gpu} {pci[gpu].get('driver')} (null)" in b.lines and "fake-dm: active" in b.lines,
                 "the state before is not the host with its GPU and display manager")

    # 1. no hostdev
    b = t.block("start-plain")
    if b is not None:
        t.equal("tbvm-plain: virsh start exit status", b.rc, 0)
    for name in ("plain-syslog-running", "plain-syslog"):
        b = t.block(name)
        if b is not None:
            t.equal(f"{name}: gpu-handoff's syslog lines for a domain without hostdevs", b.lines, [])
    b = t.block("plain-hook-calls")
    if b is not None:
        runs = hook_results(b.text)
        ops = [(op, sub) for vm, op, sub, _, _ in runs if vm == "tbvm-plain"]
        for want in (("prepare", "begin"), ("release", "end")):
            t.expect(want in ops, f"libvirtd did not run the hook with {' '.join(want)} for tbvm-plain: {ops}")
        bad = [r for r in runs if r[0] == "tbvm-plain" and (r[3] != 0 or r[4])]
        t.equal("tbvm-plain: hook runs with an exit status or output", bad, [])
        t.log.notes.append(f"tbvm-plain: libvirtd ran the hook {len(ops)} times ({', '.join(' '.join(o) for o in ops)}),"
                           " each exit 0 without output")

    # 2. refused
    b = t.block("start-nosingle")
    if b is not None:
        t.equal("tbvm-nosingle: virsh start exit status", b.rc, 1)
    b = t.block("start-nosingle.stderr")
    if b is not None:
        m = re.search(r"unexpected exit status (\d+): (gpu-handoff: .*)$", b.text, re.M)
        if t.expect(m, f"virsh's error does not carry gpu-handoff's message: {b.text!r}"):
            msg = m.group(2)
            t.expect(m.group(1) == "1", f"the hook's exit status {m.group(1)}, want 1 (refused)")
            t.expect(f"tbvm-nosingle: {gpu} drives the host's display" in msg and "SingleGPU=yes" in msg,
                     f"the refusal does not name the display's GPU and SingleGPU=: {msg!r}")
            t.log.notes.append(f"refused through virsh: {msg}")
        t.expect("Hook script execution failed" in b.text, "virsh does not say the hook failed")
    b = t.block("nosingle-syslog")
    if b is not None:
        t.expect(any(ln.startswith(f"tbvm-nosingle: {gpu} drives the host's display") for ln in b.lines),
                 f"the refusal is not in syslog: {b.lines}")

    # 3. and 4.
    b = t.block("managed-libvirt-pci") if check_vm(t, "tbvm-managed", "managed", gpu, aud, pci, managed=True) else None
    if b is not None:
        for dev in (gpu, aud):
            t.expect(f"Detaching managed PCI device {dev}" in b.text, f"libvirt did not detach {dev} (managed='yes')")
            t.expect(f"Reattaching managed PCI device {dev}" in b.text, f"libvirt did not reattach {dev} (managed='yes')")
    check_vm(t, "tbvm", "unmanaged", gpu, aud, pci, managed=False)

    # 5. managed='yes' after managed='no': whoever took the functions from vfio-pci, the host is
    # back as before (run_vm's own checks); the note says whether libvirt left it to the hook
    if check_vm(t, "tbvm-managed", "managed-again", gpu, aud, pci, managed=True):
        b = t.block("syslog-managed-again")
        if b is not None:
            left = [ln for ln in b.lines if "libvirt left" in ln]
            t.log.notes.append("tbvm-managed after tbvm: " + ("; ".join(left) if left else "libvirt gave the functions back itself"))
