# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side checks of 04-release-held: release and recover while a process holds the vfio device."""

GPU, AUDIO = "0000:01:00.0", "0000:01:00.1"


def check(t):
    doc = t.json("attach")
    if doc is not None:
        t.equal("attach: ok", doc.get("ok"), True)

    doc = t.json("release-held", rcs=(4,))
    b = t.log.blocks.get("release-held")
    if b is not None and b.ms is not None:
        t.expect(b.ms < 60000, f"release with the device held took {b.ms} ms (limit 60 s)")
        t.expect(b.ms >= 19000, f"release with the device held returned after {b.ms} ms, before the 20 s write deadline")
    if doc is not None:
        t.equal("release with the device held: ok", doc.get("ok"), False)
        t.equal("release with the device held: host_intact", doc.get("host_intact"), False)
        steps = doc.get("steps", [])
        failed = [s for s in steps if s.get("state") == "revert-failed"]
        t.equal("release with the device held: the step that failed",
                [(s.get("kind"), s.get("args")) for s in failed], [("bind-vfio", [GPU])])
        if failed:
            msg = failed[0].get("message") or ""
            t.expect("still holds" in msg and GPU in msg and "VM" in msg,
                     f"release with the device held: the message does not say a VM/process holds {GPU}: {msg!r}")
            t.equal("release with the device held: failed_step", doc.get("failed_step"), failed[0].get("index"))
            t.log.notes.append(f"release message: {msg}")
        # everything after the failed step (in revert order: the steps before it) is untouched
        kinds_reverted = [(s.get("kind"), s.get("args")) for s in steps if s.get("state") == "reverted"]
        t.equal("release with the device held: steps reverted before it stopped", kinds_reverted,
                [("bind-vfio", [AUDIO]), ("wait-vfio-group", [t.log.pci().get(GPU, {}).get("group")])])

    b = t.block("status-held")
    if b is not None:
        t.equal("status after the refused release: exit status", b.rc, 4)
        t.expect("interrupted: run gpu-handoff recover" in b.text,
                 "status after the refused release does not ask for recover")

    b = t.block("recover-held")
    if b is not None:
        err = t.log.blocks.get("recover-held.stderr")
        err = err.text if err else ""
        t.log.notes.append(f"recover while held: exit {b.rc} after {b.ms} ms: " + " | ".join(err.strip().splitlines()[:3]))
        if b.ms is not None:
            t.expect(b.ms < 60000, f"recover while the device is still held took {b.ms} ms")
            # the blocked writer is found holding the lock: no wait for the 15 s lock deadline
            t.expect(b.ms < 5000, f"recover while the device is still held waited {b.ms} ms before saying so")
        t.equal("recover while the device is still held: exit status", b.rc, 4)
        t.expect("another gpu-handoff" not in err,
                 f"recover while the device is still held blames another gpu-handoff: {err.strip()!r} (the lock is "
                 "held by release's writer process, blocked in the kernel's vfio-pci unbind)")
        t.expect("still holds the GPU" in err or (GPU in err and "still holds" in err),
                 "recover while the device is still held does not say that the GPU is still held")
    for verb in ("list", "doctor"):
        blocked = any(ln.startswith(f"INFO {verb}-blocked yes") for ln in t.log.lines)
        ran = blocked or any(ln.startswith(f"INFO {verb}-blocked no") for ln in t.log.lines)
        t.expect(ran, f"gpu-handoff {verb} was not run while the vfio-pci unbind was stuck")
        t.expect(not blocked, f"gpu-handoff {verb} blocks while the vfio-pci unbind is stuck (a read that takes "
                 "the device lock, such as driver_override)")

    doc = t.json("recover")
    if doc is not None:
        t.equal("recover after the holder is gone: ok", doc.get("ok"), True)
        t.equal("recover after the holder is gone: verb", doc.get("verb"), "recover")
        bad = [(s.get("kind"), s.get("state")) for s in doc.get("steps", [])
               if s.get("state") not in ("reverted", "pending")]
        t.equal("recover after the holder is gone: steps neither reverted nor pending", bad, [])
    doc = t.json("status-after")
    if doc is not None:
        t.equal("status after recover: state", doc.get("state"), "idle")
