# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 06-nested-qemu: the nested VM had the GPU's two functions as its own PCI
devices, its SeaBIOS ran the assigned GPU's option ROM, and the hand-back was complete."""

import re

DEV_RE = re.compile(r"^  Bus +(\d+), device +(\d+), function (\d+):$")


def monitor_answers(text):
    """The cleaned HMP transcript as [(command, [answer lines])]."""
    out = []
    for line in text.splitlines():
        if line.startswith("(qemu)"):
            out.append((line[len("(qemu)"):].strip(), []))
        elif out:
            out[-1][1].append(line)
    return out


def pci_devices(lines):
    """An 'info pci' answer as {id: {"bdf": "00:01.0", "what": "VGA controller: PCI device 1234:1111"}}."""
    devs, cur = {}, None
    for line in lines:
        m = DEV_RE.match(line)
        if m:
            cur = {"bdf": f"{int(m.group(1)):02x}:{int(m.group(2)):02x}.{m.group(3)}", "what": None}
            continue
        if cur is None:
            continue
        if cur["what"] is None and line.startswith("    ") and not line.startswith("      "):
            cur["what"] = line.strip()
        m = re.match(r'^      id "(.*)"$', line)
        if m:
            devs[m.group(1) or f"(no id) {cur['bdf']}"] = cur
            cur = None
    return devs


def check(t):
    doc = t.json("attach")
    if doc is not None:
        t.equal("attach: ok", doc.get("ok"), True)
        t.expect(all(s.get("state") in ("done", "skipped") for s in doc.get("steps", [])),
                 f"attach: steps not all done: {doc.get('steps')}")

    doc = t.json("status-in-use")
    if doc is not None:
        t.equal("status while the nested VM has the GPU: state", doc.get("state"), "attached")

    slot = None
    b = t.block("nested-monitor")
    if b is not None:
        answers = monitor_answers(b.text)
        cmds = [c for c, _ in answers if c]
        t.equal("nested monitor: commands answered", cmds, ["info pci", "cont", "info status", "quit"])
        pci = next((a for c, a in answers if c == "info pci"), [])
        devs = pci_devices(pci)
        for ident, want in (("hostgpu", "VGA controller: PCI device 1234:1111"),
                            ("hostaud", "Audio controller: PCI device 8086:2668")):
            d = devs.get(ident)
            if t.expect(d is not None, f"nested info pci: no device with id {ident!r} (devices: {devs})"):
                t.equal(f"nested info pci: {ident}", d["what"], want)
        if devs.get("hostgpu"):
            slot = devs["hostgpu"]["bdf"]
        status = next((a for c, a in answers if c == "info status"), [])
        t.expect("VM status: running" in status, f"nested info status: {status}")

    b = t.block("nested-seabios")
    if b is not None:
        lines = b.lines
        if slot is not None:
            t.expect(f"PCI: init bdf={slot} id=1234:1111" in lines,
                     f"nested SeaBIOS did not initialise the GPU at {slot}")
            t.expect(f"PCI: Using {slot} for primary VGA" in lines,
                     f"nested SeaBIOS did not pick the assigned GPU ({slot}) as its VGA")
        try:
            start = lines.index("Scan for VGA option rom")
            end = lines.index("Scan for option roms", start)
            vga = lines[start + 1:end]
            t.expect(any(ln.startswith("Running option rom at") for ln in vga),
                     f"nested SeaBIOS ran no VGA option ROM: {vga}")
            t.expect("No VGA found, scan for other display" not in vga, "nested SeaBIOS found no VGA ROM")
            # the std VGA's ROM is SeaVGABIOS; the nested machine has no VGA of its own
            t.expect(any(ln.startswith("Start SeaVGABIOS") for ln in vga),
                     f"the VGA option ROM that ran is not the GPU's SeaVGABIOS: {vga}")
        except ValueError:
            t.fail("nested SeaBIOS log lacks 'Scan for VGA option rom' ... 'Scan for option roms'")
        rom = [ln for ln in lines if re.search(r"Using .* for primary VGA|Running option rom|SeaVGABIOS", ln)]
        t.log.notes.append("nested SeaBIOS: " + "; ".join(rom[:4]))

    b = t.log.blocks.get("nested-qemu-stderr")
    if b is not None and b.text.strip():
        t.log.notes.append("nested QEMU said: " + " | ".join(ln for ln in b.lines if ln.strip())[:400])

    doc = t.json("release")
    if doc is not None:
        t.equal("release: ok", doc.get("ok"), True)
    doc = t.json("status-released")
    if doc is not None:
        t.equal("status after release: state", doc.get("state"), "idle")
